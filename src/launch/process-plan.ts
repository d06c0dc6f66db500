// An OCI process → the plan records that make it (addon/plan.tags, "plan:
// the process"). The one translation of a process: create's init
// (plan.ts) and every exec'd process (exec-plan.ts) go through it, so a
// process field is written once and the two cannot drift apart. Pure.
//
// Where the init and an exec'd process differ, and why; every difference
// is here, as ProcessRole or in the list below, not in a second copy:
//  - Which process: exec's flags (--cap, --env, --user, --cwd, --tty...)
//    or its process.json are applied before this translation
//    (processFromFlags, processFromDocument in exec-plan.ts); what comes
//    here is the whole process either way.
//  - process.execCPUAffinity: an exec'd process's only, checked for the
//    init too (cpu-affinity.ts); an exec'd process naming none takes the
//    container's.
//  - Socket activation (role 'init', listenFds): LISTEN_FDS/LISTEN_PID
//    join the environment and the fds join PRESERVE_FDS. Only the init: it
//    is pid 1 of its namespace, the pid LISTEN_PID must name in advance.
//  - Records that are not the process's, added by the callers around this
//    translation: create's EXEC_FIFO, MEMPOLICY (linux.memoryPolicy is the
//    init's, plan.tags) and its hooks; exec's EXEC_NS and chroot.
//  - The container's settings that every process in it shares come from
//    the container, for both: linux.personality, and the LSM labels of a
//    process that names none (for the init, its own).
import type { LinuxPersonality, POSIXRlimit, Process, User } from '../spec/types.js';
import { toUint64 } from '../spec/numbers.js';
import { capabilityRecs, type CapHost } from './caps.js';
import { cpuAffinityRecs } from './cpu-affinity.js';
import { PERSONA, RLIMITS } from './linux-consts.js';
import { processLsmRecs, type HostLsm, type ProcessLabels } from './lsm.js';
import { PlanError } from './plan-error.js';
import { containerPath } from './paths.js';
import { ioPriorityRecs, schedulerRecs } from './sched.js';
import { rec, type Rec } from './tlv.js';

/** Which process of the container this is: what only the init has (see above). */
export type ProcessRole = { kind: 'init' /** Socket-activation fds (LISTEN_FDS) passed after stdio. */; listenFds?: number } | { kind: 'exec' };

export interface ProcessPlanContext extends CapHost {
  role: ProcessRole;
  /** The container's id: names its session keyring. */
  id: string;
  /** The container's linux.personality: the execution domain of every process in it. */
  personality?: LinuxPersonality;
  /** The container's own process (config.json): its LSM labels are those of a process naming none. */
  containerProcess?: Process;
  /** Extra fds (3..) for the process: --preserve-fds. */
  preserveFds?: number;
  /** --no-new-keyring (exec: the container was created with it). */
  noNewKeyring?: boolean;
  /** The user namespace's /proc/PID/setgroups says "deny": setgroups(2) would fail. */
  setgroupsDeny?: boolean;
  /** The container's linux.seccomp compiled (src/seccomp): every process gets the same filter. */
  seccomp?: { bpf: Uint8Array; flags: number };
  /** Which LSMs the host has enabled (src/launch/lsm.ts); none when absent. */
  lsm?: HostLsm;
  /** The host's possible CPUs (highest + 1): execCPUAffinity may name no other. Unknown: the kernel's limit. */
  cpuPossible?: number;
}

export interface ProcessPlan {
  records: Rec[];
  warnings: string[];
  /** Notes for --debug only. */
  debug: string[];
}

const NO_LSM: HostLsm = { apparmor: false, selinux: false, apparmorConfined: false };

/** The records of `proc`, run as `ctx.role` in the container. */
export function processPlan(proc: Process, ctx: ProcessPlanContext): ProcessPlan {
  const warnings: string[] = [];
  const debug: string[] = [];
  checkProcess(proc);
  const r: Rec[] = [
    ...proc.args.map((a) => rec('ARG', a)),
    ...envRecs(proc.env, ctx.role),
    rec('CWD', containerPath(proc.cwd, '/process/cwd')),
    ...userRecs(proc.user, ctx.setgroupsDeny === true),
    ...rlimitRecs(proc.rlimits),
  ];
  if (proc.oomScoreAdj !== undefined) r.push(rec('OOM_SCORE_ADJ', proc.oomScoreAdj));
  r.push(...schedulerRecs(proc.scheduler), ...ioPriorityRecs(proc.ioPriority));
  r.push(...cpuAffinityRecs(proc, ctx.role.kind, ctx.containerProcess, ctx.cpuPossible, debug));
  r.push(...personalityRecs(ctx.personality));
  r.push(...capabilityRecs(proc.capabilities, ctx, warnings, debug));
  if (proc.noNewPrivileges) r.push(rec('NO_NEW_PRIVS', true));
  if (ctx.seccomp) r.push(rec('SECCOMP_BPF', ctx.seccomp.bpf), rec('SECCOMP_FLAGS', ctx.seccomp.flags));
  r.push(...processLsmRecs(lsmLabels(proc, ctx.containerProcess), ctx.lsm ?? NO_LSM));
  r.push(...sessionRecs(proc, ctx));
  return { records: r, warnings, debug };
}

/** What a process needs before anything is planned (runc's validateProcessSpec, as PlanErrors). */
function checkProcess(proc: Process): void {
  if (!proc.args?.length) throw new PlanError('/process/args', 'must name the program to run');
  if (!proc.cwd?.startsWith('/')) throw new PlanError('/process/cwd', 'must be an absolute path');
}

/**
 * Duplicates removed, the last value of each name kept, in the order of
 * those last values (runc's prepareEnv, for the init and exec alike):
 * `exec -e FOO=2` overrides the container's FOO=1 for every getenv, which
 * finds the first one.
 */
export function dedupEnv(env: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (let i = env.length - 1; i >= 0; i--) {
    const kv = env[i]!;
    const eq = kv.indexOf('=');
    if (eq <= 0)
      throw new PlanError(
        `/process/env/${i}`,
        eq < 0 ? `invalid environment variable ${JSON.stringify(kv)}: missing '='` : 'invalid environment variable: name cannot be empty',
      );
    const name = kv.slice(0, eq);
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(kv);
  }
  return out.reverse();
}

function envRecs(env: readonly string[] | undefined, role: ProcessRole): Rec[] {
  const all = [...(env ?? [])];
  const listen = role.kind === 'init' ? (role.listenFds ?? 0) : 0;
  // Socket activation: the fds follow stdio, and the process is pid 1 of
  // its namespace (or we could not know its pid in advance).
  if (listen > 0) all.push(`LISTEN_FDS=${listen}`, 'LISTEN_PID=1');
  return dedupEnv(all).map((e) => rec('ENV', e));
}

function userRecs(u: User | undefined, setgroupsDeny: boolean): Rec[] {
  const user = u ?? { uid: 0, gid: 0 };
  const r = [rec('UID', user.uid), rec('GID', user.gid)];
  // Dropping them silently would run the process with fewer rights than
  // asked, or (with negative group permissions) more. (A rootless create
  // is refused earlier, in rootlessChecks, with the reason in its terms.)
  if (setgroupsDeny && user.additionalGids?.length)
    throw new PlanError(
      '/process/user/additionalGids',
      "cannot be set: setgroups(2) is denied in the container's user namespace (a rootless container whose gid map was written without newgidmap)",
    );
  for (const g of user.additionalGids ?? []) r.push(rec('ADDITIONAL_GID', g));
  if (setgroupsDeny) r.push(rec('SETGROUPS_DENY', true));
  if (user.umask !== undefined) r.push(rec('UMASK', user.umask));
  return r;
}

function rlimitRecs(rlimits: readonly POSIXRlimit[] | undefined): Rec[] {
  const seen = new Set<string>();
  return (rlimits ?? []).map((l, i) => {
    const n = RLIMITS[l.type];
    if (n === undefined) throw new PlanError(`/process/rlimits/${i}/type`, `unknown rlimit ${JSON.stringify(l.type)}`);
    if (seen.has(l.type)) throw new PlanError(`/process/rlimits/${i}/type`, `${l.type} given twice`);
    seen.add(l.type);
    const soft = toUint64(l.soft);
    const hard = toUint64(l.hard);
    if (soft > hard) throw new PlanError(`/process/rlimits/${i}`, `${l.type}: soft limit above hard limit`);
    return rec('RLIMIT', [rec('RL_TYPE', n), rec('RL_SOFT', soft), rec('RL_HARD', hard)]);
  });
}

function personalityRecs(persona: LinuxPersonality | undefined): Rec[] {
  if (!persona) return [];
  const dom = persona.domain;
  const base = dom === 'LINUX' ? PERSONA.LINUX : dom === 'LINUX32' ? PERSONA.LINUX32 : -1;
  if (base < 0) throw new PlanError('/linux/personality/domain', `unknown domain ${JSON.stringify(dom)}`);
  if (persona.flags?.length) throw new PlanError('/linux/personality/flags', 'personality flags are not supported');
  return [rec('PERSONALITY', base)];
}

/**
 * A process that names no profile or label gets the container's, as in
 * runc and crun: leaving them out of a process.json must not be a way out
 * of the container's confinement.
 */
function lsmLabels(proc: Process, container: Process | undefined): ProcessLabels {
  return {
    apparmorProfile: proc.apparmorProfile || container?.apparmorProfile,
    selinuxLabel: proc.selinuxLabel || container?.selinuxLabel,
    noNewPrivileges: proc.noNewPrivileges,
  };
}

/** Its fds, session keyring, session and terminal size. */
function sessionRecs(proc: Process, ctx: ProcessPlanContext): Rec[] {
  const listen = ctx.role.kind === 'init' ? (ctx.role.listenFds ?? 0) : 0;
  const r = [rec('PRESERVE_FDS', (ctx.preserveFds ?? 0) + listen)];
  if (!ctx.noNewKeyring) r.push(rec('NEW_KEYRING', true), rec('KEYRING_NAME', `_ses.${ctx.id}`));
  r.push(rec('SETSID', true));
  // The pty itself needs a console socket, passed as CONSOLE_FD.
  const size = proc.consoleSize;
  if (proc.terminal && size?.width && size.height) r.push(rec('CONSOLE_WIDTH', size.width), rec('CONSOLE_HEIGHT', size.height));
  return r;
}
