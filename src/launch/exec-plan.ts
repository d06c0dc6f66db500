// `exec`: which process to run (runc's getProcess: the container's own
// process settings with the command line's overrides, or a process.json),
// and that process as the launcher's exec-mode plan. Pure, like plan.ts:
// everything here is decided without touching the system, and unit-tested.
import type { Process, Spec } from '../spec/types.js';
import { validateProcess } from '../spec/load.js';
import { NS_FLAGS } from './namespaces.js';
import { PlanError } from './plan-error.js';
import { processPlan, type ProcessPlan, type ProcessPlanContext } from './process-plan.js';
import { rec, type Rec } from './tlv.js';
import { InnerError } from '../errors.js';
import type { HostLsm } from './lsm.js';

export { dedupEnv } from './process-plan.js';

/** A problem with what the exec caller asked for (flags or process.json), in runc's words: a usage error. */
export class ExecRequestError extends InnerError {
  constructor(message: string) {
    super(message, 'usage');
    this.name = 'ExecRequestError';
  }
}

/** The command line's say in the process, as `hako exec` parses it. */
export interface ExecFlags {
  /** The command and its arguments (what follows the container id). */
  args: readonly string[];
  /** --cwd: the working directory in the container (default: process.cwd of config.json). */
  cwd?: string;
  /** Added to the container's environment; a name given again wins. */
  env?: readonly string[];
  /** --tty: the process gets a terminal, whose master goes to the `consoleSocket`. */
  tty?: boolean;
  /** "uid[:gid]", numeric. */
  user?: string;
  /** --additional-gids: supplementary groups. */
  additionalGids?: readonly number[];
  /** Added to the bounding, effective and permitted sets. */
  caps?: readonly string[];
  /** undefined: the container's process.noNewPrivileges. */
  noNewPrivs?: boolean;
  /** --apparmor: the AppArmor profile (default: the container's). */
  apparmor?: string;
  /** --process-label: the SELinux label (default: the container's). */
  processLabel?: string;
}

export interface ProcessChecks {
  /** Whether SELinux is enabled on the host (a label without it is an error, as in runc). */
  selinuxEnabled?: boolean;
}

/** runc's validateProcessSpec: what a process needs before anything starts. */
function checkProcess(p: Process, checks: ProcessChecks): Process {
  if (!p.cwd) throw new ExecRequestError('Cwd property must not be empty');
  if (!p.cwd.startsWith('/')) throw new ExecRequestError('Cwd must be an absolute path');
  if (!p.args || p.args.length === 0) throw new ExecRequestError('args must not be empty');
  if (p.selinuxLabel && !checks.selinuxEnabled) throw new ExecRequestError('selinux label is specified in config, but selinux is disabled or not supported');
  return p;
}

// Go's strconv.Atoi as runc uses it for --user: optional sign, decimal digits.
function atoi(s: string, what: 'uid' | 'gid'): number {
  if (!/^[+-]?\d+$/.test(s)) throw new ExecRequestError(`bad ${what}: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  // runc converts with uint32(): only what fits is meaningful to the kernel.
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) throw new ExecRequestError(`bad ${what}: ${s} is not a ${what} (0 to 4294967295)`);
  return n;
}

/**
 * The process `exec ID CMD...` runs: the container's process (its user,
 * cwd, env, capabilities, rlimits, no_new_privs...) with args replaced and
 * the flags applied, as runc does. The spec is the container's config.json.
 */
export function processFromFlags(spec: Spec, f: ExecFlags, checks: ProcessChecks = {}): Process {
  if (!spec.process) throw new ExecRequestError('process property must not be empty');
  if (f.args.length === 0) throw new ExecRequestError('exec args cannot be empty');
  const p = structuredClone(spec.process);
  p.args = [...f.args];
  if (f.cwd) p.cwd = f.cwd;
  if (f.apparmor) p.apparmorProfile = f.apparmor;
  if (f.processLabel) p.selinuxLabel = f.processLabel;
  if (f.caps?.length) {
    const c = (p.capabilities ??= {});
    for (const name of f.caps) {
      (c.bounding ??= []).push(name);
      (c.effective ??= []).push(name);
      (c.permitted ??= []).push(name);
      // An ambient capability also needs to be inheritable, which --cap does
      // not make it: runc only adds ambient ones when the container has an
      // inheritable set at all.
      if (c.inheritable !== undefined) (c.ambient ??= []).push(name);
    }
  }
  p.env = [...(p.env ?? []), ...(f.env ?? [])];
  // Never the container's terminal setting: only --tty asks for one.
  p.terminal = f.tty === true;
  if (f.noNewPrivs !== undefined) p.noNewPrivileges = f.noNewPrivs;
  if (f.user) {
    const colon = f.user.indexOf(':');
    const user = (p.user ??= { uid: 0, gid: 0 });
    if (colon >= 0) user.gid = atoi(f.user.slice(colon + 1), 'gid');
    user.uid = atoi(colon >= 0 ? f.user.slice(0, colon) : f.user, 'uid');
  }
  for (const g of f.additionalGids ?? []) {
    if (g < 0) throw new ExecRequestError(`additional-gids must be a positive number ${g}`);
    const user = (p.user ??= { uid: 0, gid: 0 });
    (user.additionalGids ??= []).push(g);
  }
  return checkProcess(p, checks);
}

/** The process of `exec --process FILE`: a whole OCI process, validated like config.json's. */
export function processFromDocument(doc: unknown, checks: ProcessChecks = {}, file = 'process.json'): Process {
  return checkProcess(validateProcess(doc, file), checks);
}

export interface ExecPlanOptions {
  id: string;
  /** The container's root on the host (for a container without a mount namespace). */
  rootfs: string;
  /** CLONE_NEW* of the init's namespaces to join: those not shared with us. */
  joinNamespaces: number;
  /** The container has a mount namespace of its own (else: chroot into rootfs). */
  mountNamespace: boolean;
  /** Extra fds (3..) for the process: --preserve-fds. */
  preserveFds?: number;
  /** The container was created with --no-new-keyring. */
  noNewKeyring?: boolean;
  /** /proc/<init>/setgroups says "deny": setgroups(2) would fail. */
  setgroupsDeny?: boolean;
  /** The container's linux.seccomp compiled (src/seccomp): exec processes get the same filter. */
  seccomp?: { bpf: Uint8Array; flags: number };
  debug?: boolean;
  capLastCap?: number;
  /** hako's own bounding set: capabilities outside it cannot be granted (`docker exec --privileged` asks for all). */
  hostCapBnd?: bigint;
  /** Which LSMs the host has enabled (src/launch/lsm.ts); none when absent. */
  lsm?: HostLsm;
  /** The host's possible CPUs (highest + 1), for process.execCPUAffinity's check. */
  cpuPossible?: number;
}

export interface ExecPlan {
  records: Rec[];
  warnings: string[];
  debug: string[];
}

/** The launcher's exec-mode plan for `proc` in the container configured by `spec`. */
export function buildExecPlan(spec: Spec, proc: Process, opts: ExecPlanOptions): ExecPlan {
  const r: Rec[] = [rec('MODE', 2)];
  if (opts.debug) r.push(rec('LOG_LEVEL', 1));
  let known = 0;
  for (const f of Object.values(NS_FLAGS)) known |= f;
  if ((opts.joinNamespaces & ~known) !== 0) throw new PlanError('/linux/namespaces', `unknown namespace flags ${opts.joinNamespaces.toString(16)}`);
  if (opts.joinNamespaces) r.push(rec('EXEC_NS', opts.joinNamespaces));
  if (!opts.mountNamespace) r.push(rec('ROOT_CHROOT', true), rec('ROOTFS', opts.rootfs));
  const p: ProcessPlan = processPlan(proc, execProcessContext(spec, opts));
  return { records: [...r, ...p.records], warnings: p.warnings, debug: p.debug };
}

/** The process translation's context for an exec'd process (process-plan.ts lists how it differs from the init's). */
export function execProcessContext(spec: Spec, opts: ExecPlanOptions): ProcessPlanContext {
  return {
    role: { kind: 'exec' },
    id: opts.id,
    personality: spec.linux?.personality,
    containerProcess: spec.process,
    preserveFds: opts.preserveFds,
    noNewKeyring: opts.noNewKeyring,
    setgroupsDeny: opts.setgroupsDeny,
    seccomp: opts.seccomp,
    capLastCap: opts.capLastCap,
    hostCapBnd: opts.hostCapBnd,
    lsm: opts.lsm,
    cpuPossible: opts.cpuPossible,
  };
}
