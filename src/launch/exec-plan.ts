// `exec`: which process to run (runc's getProcess: the container's own
// process settings with the command line's overrides, or a process.json),
// and that process as the launcher's exec-mode plan. Pure, like plan.ts:
// everything here is decided without touching the system, and unit-tested.
import type { Process, Spec } from '../spec/types.js';
import { validateProcess } from '../spec/load.js';
import { PERSONA, RLIMITS } from './linux-consts.js';
import { capMask, capNames, containerPath, grantableCaps, NS_FLAGS, PlanError } from './plan.js';
import { rec, type Rec } from './tlv.js';
import { toUint64 } from '../spec/numbers.js';
import { processLsmRecs, type HostLsm } from './lsm.js';
import { ioPriorityRecs, schedulerRecs } from './sched.js';

/** A problem with what the exec caller asked for (flags or process.json), in runc's words. */
export class ExecRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecRequestError';
  }
}

/** The command line's say in the process, as `hako exec` parses it. */
export interface ExecFlags {
  /** The command and its arguments (what follows the container id). */
  args: readonly string[];
  cwd?: string;
  /** Added to the container's environment; a name given again wins. */
  env?: readonly string[];
  tty?: boolean;
  /** "uid[:gid]", numeric. */
  user?: string;
  additionalGids?: readonly number[];
  /** Added to the bounding, effective and permitted sets. */
  caps?: readonly string[];
  /** undefined: the container's process.noNewPrivileges. */
  noNewPrivs?: boolean;
  apparmor?: string;
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

/**
 * Duplicates removed, the last value of each name kept, in the order of
 * those last values (runc's prepareEnv): `exec -e FOO=2` overrides the
 * container's FOO=1 for every getenv, which finds the first one.
 */
export function dedupEnv(env: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = env.length - 1; i >= 0; i--) {
    const kv = env[i]!;
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new ExecRequestError(eq < 0 ? `invalid environment variable ${JSON.stringify(kv)}: missing '='` : 'invalid environment variable: name cannot be empty');
    const name = kv.slice(0, eq);
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(kv);
  }
  return out.reverse();
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
}

export interface ExecPlan {
  records: Rec[];
  warnings: string[];
  debug: string[];
}

/** The launcher's exec-mode plan for `proc` in the container configured by `spec`. */
export function buildExecPlan(spec: Spec, proc: Process, opts: ExecPlanOptions): ExecPlan {
  const warnings: string[] = [];
  const debug: string[] = [];
  const r: Rec[] = [rec('MODE', 2)];
  if (opts.debug) r.push(rec('LOG_LEVEL', 1));
  let known = 0;
  for (const f of Object.values(NS_FLAGS)) known |= f;
  if ((opts.joinNamespaces & ~known) !== 0) throw new PlanError('/linux/namespaces', `unknown namespace flags ${opts.joinNamespaces.toString(16)}`);
  if (opts.joinNamespaces) r.push(rec('EXEC_NS', opts.joinNamespaces));
  if (!opts.mountNamespace) r.push(rec('ROOT_CHROOT', true), rec('ROOTFS', opts.rootfs));

  if (!proc.args?.length) throw new PlanError('/process/args', 'must name the program to run');
  for (const a of proc.args) r.push(rec('ARG', a));
  for (const e of dedupEnv(proc.env ?? [])) r.push(rec('ENV', e));
  if (!proc.cwd?.startsWith('/')) throw new PlanError('/process/cwd', 'must be an absolute path');
  r.push(rec('CWD', containerPath(proc.cwd, '/process/cwd')));
  const user = proc.user ?? { uid: 0, gid: 0 };
  r.push(rec('UID', user.uid), rec('GID', user.gid));
  // Dropping them silently would run the process with fewer rights than
  // asked, or (with negative group permissions) more.
  if (opts.setgroupsDeny && user.additionalGids?.length) throw new PlanError('/process/user/additionalGids', 'cannot be set: setgroups(2) is denied in the container\'s user namespace (a rootless container whose gid map was written without newgidmap)');
  for (const g of user.additionalGids ?? []) r.push(rec('ADDITIONAL_GID', g));
  if (user.umask !== undefined) r.push(rec('UMASK', user.umask));
  const seen = new Set<string>();
  (proc.rlimits ?? []).forEach((l, i) => {
    const n = RLIMITS[l.type];
    if (n === undefined) throw new PlanError(`/process/rlimits/${i}/type`, `unknown rlimit ${JSON.stringify(l.type)}`);
    if (seen.has(l.type)) throw new PlanError(`/process/rlimits/${i}/type`, `${l.type} given twice`);
    seen.add(l.type);
    const soft = toUint64(l.soft);
    const hard = toUint64(l.hard);
    if (soft > hard) throw new PlanError(`/process/rlimits/${i}`, `${l.type}: soft limit above hard limit`);
    r.push(rec('RLIMIT', [rec('RL_TYPE', n), rec('RL_SOFT', soft), rec('RL_HARD', hard)]));
  });
  if (proc.oomScoreAdj !== undefined) r.push(rec('OOM_SCORE_ADJ', proc.oomScoreAdj));
  r.push(...schedulerRecs(proc.scheduler), ...ioPriorityRecs(proc.ioPriority));
  // The container's execution domain is the container's, for every process in it.
  const persona = spec.linux?.personality;
  if (persona) {
    const base = persona.domain === 'LINUX' ? PERSONA.LINUX : persona.domain === 'LINUX32' ? PERSONA.LINUX32 : -1;
    if (base < 0) throw new PlanError('/linux/personality/domain', `unknown domain ${JSON.stringify(persona.domain)}`);
    r.push(rec('PERSONALITY', base));
  }

  const caps = proc.capabilities ?? {};
  const last = opts.capLastCap ?? 40;
  const mask = (set: keyof typeof caps) => {
    const where = `/process/capabilities/${set}`;
    return grantableCaps(capMask(caps[set], where, warnings, last), opts.hostCapBnd, where, warnings);
  };
  const permitted = mask('permitted');
  const inheritable = mask('inheritable');
  let ambient = mask('ambient');
  const unraisable = ambient & ~(permitted & inheritable);
  if (unraisable) {
    debug.push(`/process/capabilities/ambient: ${capNames(unraisable).join(', ')} not both permitted and inheritable: not raised`);
    ambient &= permitted & inheritable;
  }
  r.push(
    rec('CAP_BOUNDING', mask('bounding')),
    rec('CAP_EFFECTIVE', mask('effective')),
    rec('CAP_PERMITTED', permitted),
    rec('CAP_INHERITABLE', inheritable),
    rec('CAP_AMBIENT', ambient),
  );
  if (proc.noNewPrivileges) r.push(rec('NO_NEW_PRIVS', true));
  if (opts.seccomp) r.push(rec('SECCOMP_BPF', opts.seccomp.bpf), rec('SECCOMP_FLAGS', opts.seccomp.flags));
  // A process that names no profile or label gets the container's, as in
  // runc and crun: leaving them out of a process.json must not be a way
  // out of the container's confinement.
  const labels = {
    apparmorProfile: proc.apparmorProfile || spec.process?.apparmorProfile,
    selinuxLabel: proc.selinuxLabel || spec.process?.selinuxLabel,
    noNewPrivileges: proc.noNewPrivileges,
  };
  r.push(...processLsmRecs(labels, opts.lsm ?? { apparmor: false, selinux: false, apparmorConfined: false }));
  r.push(rec('PRESERVE_FDS', opts.preserveFds ?? 0));
  if (!opts.noNewKeyring) r.push(rec('NEW_KEYRING', true), rec('KEYRING_NAME', `_ses.${opts.id}`));
  r.push(rec('SETSID', true));
  if (opts.setgroupsDeny) r.push(rec('SETGROUPS_DENY', true));
  if (proc.terminal) r.push(...consoleSizeRecs(proc));
  return { records: r, warnings, debug };
}

/** CONSOLE_WIDTH/HEIGHT from process.consoleSize (meaningful with a terminal only). */
function consoleSizeRecs(proc: Process): Rec[] {
  const s = proc.consoleSize;
  if (!s || !s.width || !s.height) return [];
  return [rec('CONSOLE_WIDTH', s.width), rec('CONSOLE_HEIGHT', s.height)];
}
