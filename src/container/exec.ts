// `exec`: a new process in a running (or created) container. The launcher
// joins the init's namespaces through a pidfd we checked, clones the process
// into them, and it sets itself up as the container's process settings (or
// the caller's process.json) say, with the container's seccomp filter.
// Returns the exit status the CLI should use.
import { readFileSync, readlinkSync } from 'node:fs';
import { HakoError, describe, inContainer, toHakoError } from '../errors.js';
import { buildExecPlan, processFromDocument, processFromFlags, type ExecFlags, type ExecPlan } from '../launch/exec-plan.js';
import { hostLsm } from '../launch/lsm.js';
import { hostProcessFacts } from '../launch/host-facts.js';
import { InitSession, type LauncherStdio, type PassFd } from '../launch/launcher.js';
import { NS_FLAGS } from '../launch/plan.js';
import { native } from '../native.js';
import { compileSeccomp, type CompiledSeccomp } from '../seccomp/compile.js';
import { readJsonFile } from '../spec/load.js';
import type { ContainerStatus, Process, Spec } from '../spec/types.js';
import { cloneIntoFd, closeCloneIntoFd, containerCgroup, containerSubCgroup } from './cgroup.js';
import { parseSubCgroupArgs, type SubCgroupPaths } from './sub-cgroup.js';
import { rootlessByDefault } from './rootless-identity.js';
import type { RuntimeContext } from './context.js';
import { writePidFile } from './pid-file.js';
import { endAndReap, killAndReap } from './reap.js';

/** How long a failed exec's process may take to exit on its end of file before it is killed. */
const EXEC_END_MS = 2000;
import { SignalForwarder } from './forward.js';
import { isAlive } from './proc.js';
import { listenerHandover, type ListenerHandover } from './seccomp-listener.js';
import { ociState } from './status.js';
import type { ContainerRecord } from './store.js';
import { withContainer, type Opened } from './access.js';
import { checkTerminal, requireHostTerminal, ConsoleProxy, connectConsoleSocket, connectPidfdSocket, PTY_DRAIN_MS, receiveMaster } from './terminal.js';

export interface ExecOptions extends Omit<ExecFlags, 'args'> {
  /** The command and its arguments; ignored with `processFile`. */
  args: readonly string[];
  /** --process: a process.json replacing the container's settings and every flag above. */
  processFile?: string;
  /** --console-socket: where the terminal's master goes, with `tty`. */
  consoleSocket?: string;
  /** --pidfd-socket: where a pidfd of the process goes (runc 1.2). */
  pidfdSocket?: string;
  /** --cgroup: the sub-cgroup(s) of the container's to run the process in, as given (runc 1.2). */
  cgroup?: readonly string[];
  detach?: boolean;
  /** Absolute; written once the process runs, without a newline. */
  pidFile?: string;
  /** --preserve-fds: this many fds from 3 on pass to the process as well. */
  preserveFds?: number;
  /** --ignore-paused: exec into a paused container (the process waits with it until resume). */
  ignorePaused?: boolean;
  /** The process's fds 0, 1, 2 (default: ours); the library's 'pipe' is an fd here. */
  stdio?: LauncherStdio;
}

// /proc/PID/ns names of the OCI namespace types.
const NS_FILE: Readonly<Record<string, string>> = {
  user: 'user',
  mount: 'mnt',
  network: 'net',
  pid: 'pid',
  ipc: 'ipc',
  uts: 'uts',
  cgroup: 'cgroup',
  time: 'time',
};

/**
 * CLONE_NEW* of the container's namespaces that the init does not share
 * with us. Joining one we are already in gains nothing, and for the user
 * namespace the kernel refuses it.
 */
function namespacesToJoin(spec: Spec, initPid: number): number {
  let flags = 0;
  for (const ns of spec.linux?.namespaces ?? []) {
    const file = NS_FILE[ns.type];
    const flag = NS_FLAGS[ns.type];
    if (!file || flag === undefined) continue;
    let theirs: string;
    try {
      theirs = readlinkSync(`/proc/${initPid}/ns/${file}`);
    } catch (e) {
      throw new HakoError(`cannot read the ${ns.type} namespace of the container init: ${describe(e)}`);
    }
    let ours = '';
    try {
      ours = readlinkSync(`/proc/self/ns/${file}`);
    } catch {
      /* a namespace type this kernel gives us no file for: join it */
    }
    if (theirs !== ours) flags |= flag;
  }
  return flags;
}

function readSetgroups(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim() === 'deny';
  } catch {
    return false;
  }
}

/** The process an exec runs: its process.json, or the container's process with the flags applied; errors are the caller's or the document's. */
export function resolveProcess(spec: Spec, opts: ExecFlags & { processFile?: string }): Process {
  const checks = { selinuxEnabled: hostLsm().selinux };
  try {
    if (opts.processFile) return processFromDocument(readJsonFile(opts.processFile, 'process.json'), checks);
    return processFromFlags(spec, opts, checks);
  } catch (e) {
    throw toHakoError(e, undefined, { fallback: 'config' });
  }
}

/** `exec --cgroup`: the sub-cgroup's manager; its errors are the caller's (a path, a controller). */
function subCgroupOf(rec: ContainerRecord, sub: SubCgroupPaths) {
  try {
    return containerSubCgroup(rec, sub);
  } catch (e) {
    // What the cgroup managers refuse here is in the caller's --cgroup.
    throw toHakoError(e, inContainer(rec.id), { kind: 'usage' });
  }
}

/** `exec --cgroup` as given, parsed; its errors are the caller's. */
function subCgroupArgs(args: readonly string[] | undefined): SubCgroupPaths | null {
  try {
    return parseSubCgroupArgs(args ?? []);
  } catch (e) {
    throw toHakoError(e);
  }
}

/**
 * A pidfd of the container's init. The pidfd first, the start time second:
 * then the pidfd is the init we recorded, and setns through it cannot
 * reach a recycled pid.
 */
function openInit(rec: ContainerRecord): number {
  let pidfd: number;
  try {
    pidfd = native().pidfdOpen(rec.pid);
  } catch {
    throw new HakoError('cannot exec in a stopped container', 'state');
  }
  if (!isAlive(rec.pid, rec.initStartTime)) {
    native().close(pidfd);
    throw new HakoError('cannot exec in a stopped container', 'state');
  }
  return pidfd;
}

/** runc's refusals by the container's state. */
function execRefusal(status: ContainerStatus, prefix: (m: string) => string): string {
  if (status === 'stopped') return 'cannot exec in a stopped container';
  // Paused only exists once hako manages cgroups; the check is runc's.
  if (status === 'paused') return 'cannot exec in a paused container (use --ignore-paused to override)';
  // Its mounts are not all there yet: nothing to join.
  return prefix('cannot exec in a container that is still being created');
}

/** The container's seccomp filter and the launcher's exec-mode plan; their errors are the config's. */
function planExec(
  ctx: RuntimeContext,
  rec: ContainerRecord,
  spec: Spec,
  proc: Process,
  preserveFds: number,
  prefix: (m: string) => string,
): { plan: ExecPlan; seccomp: CompiledSeccomp | undefined } {
  const types = new Set((spec.linux?.namespaces ?? []).map((n) => n.type));
  let plan: ExecPlan;
  let seccomp: CompiledSeccomp | undefined;
  try {
    seccomp = spec.linux?.seccomp ? compileSeccomp(spec.linux.seccomp) : undefined;
    plan = buildExecPlan(spec, proc, {
      id: rec.id,
      rootfs: rec.rootfs,
      joinNamespaces: namespacesToJoin(spec, rec.pid),
      mountNamespace: types.has('mount'),
      preserveFds,
      noNewKeyring: rec.noNewKeyring === true,
      setgroupsDeny: types.has('user') && readSetgroups(rec.pid),
      seccomp,
      debug: ctx.debug,
      ...hostProcessFacts(),
    });
  } catch (e) {
    throw toHakoError(e, prefix);
  }
  for (const w of plan.warnings) ctx.log('warn', prefix(w));
  for (const d of plan.debug) ctx.log('debug', prefix(d));
  return { plan, seccomp };
}

/**
 * Into the container's cgroup before it runs anything of its own (it
 * waits for MSG_GO): its limits and accounting hold from the start.
 */
function joinCgroup(ctx: RuntimeContext, session: InitSession, cg: ReturnType<typeof containerCgroup>, prefix: (m: string) => string): void {
  try {
    if (session.inCgroup) ctx.log('debug', prefix("the process was cloned into the container's cgroup (CLONE_INTO_CGROUP)"));
    else cg?.apply(session.pid);
  } catch (e) {
    // Rootless, moving a process needs write access to the common
    // ancestor of both cgroups, which a caller from elsewhere (another
    // session) may lack: runc goes on then; hako too, but says so.
    const rootless = ctx.rootless ?? rootlessByDefault();
    if (!rootless) throw new HakoError(prefix(`joining the container's cgroup: ${describe(e)}`));
    ctx.log('warn', prefix(`exec: the process could not join the container's cgroup (${describe(e)}) and runs outside its limits`));
  }
}

interface Launched {
  pid: number;
  /** Our end of the terminal pair, for a foreground exec with a terminal. */
  consoleEnd: number;
}

/**
 * Everything up to the process having called execve; under the container's
 * lock until it is in the container's cgroup. The process is the caller's
 * child (CLONE_PARENT), to reap. With `detach` (the library's way) a
 * terminal needs a console socket.
 */
export async function launchExec(ctx: RuntimeContext, id: string, opts: ExecOptions): Promise<Launched> {
  const subPaths = subCgroupArgs(opts.cgroup);
  const allow = opts.ignorePaused ? (['created', 'running', 'paused'] as const) : (['created', 'running'] as const);
  return withContainer(ctx, id, { lock: true, allow, refuse: execRefusal }, (c) => launchIn(ctx, c, opts, subPaths));
}

/** launchExec on the container as found: locked, in a status exec runs in. */
async function launchIn(ctx: RuntimeContext, c: Opened, opts: ExecOptions, subPaths: SubCgroupPaths | null): Promise<Launched> {
  const { id, store, rec, status, prefix } = c;
  let pidfd = -1;
  let consoleFd = -1;
  let pidfdSockFd = -1;
  let cgroupFd = -1;
  let consoleEnd = -1;
  let session: InitSession | null = null;
  let handover: ListenerHandover | undefined;
  let pid = 0;
  let went = false;
  try {
    const spec = store.readConfig(id);
    const proc = resolveProcess(spec, opts);
    const detach = opts.detach === true;
    checkTerminal(proc.terminal === true, detach, opts.consoleSocket);
    requireHostTerminal(proc.terminal === true, detach);

    pidfd = openInit(rec);

    const { plan, seccomp } = planExec(ctx, rec, spec, proc, opts.preserveFds ?? 0, prefix);

    const passFds: PassFd[] = [{ tag: 'EXEC_PIDFD', fd: pidfd }];
    if (proc.terminal) {
      if (opts.consoleSocket) {
        consoleFd = connectConsoleSocket(opts.consoleSocket);
      } else {
        [consoleEnd, consoleFd] = native().socketpair();
      }
      passFds.push({ tag: 'CONSOLE_FD', fd: consoleFd });
    }
    if (opts.pidfdSocket) {
      pidfdSockFd = connectPidfdSocket(opts.pidfdSocket);
      passFds.push({ tag: 'PIDFD_SOCK', fd: pidfdSockFd });
    }
    const cg = subPaths ? subCgroupOf(rec, subPaths) : containerCgroup(rec);
    cgroupFd = cloneIntoFd(cg);
    if (cgroupFd >= 0) passFds.push({ tag: 'CGROUP_FD', fd: cgroupFd });
    if (seccomp?.notify) {
      // runc sends the exec'd process's listener too, with the container's
      // state (not "creating": the container is there already).
      handover = listenerHandover(
        spec.linux!.seccomp!,
        () => ({ pid, state: ociState(rec, status) }),
        (m) => ctx.log('debug', prefix(m)),
      );
      passFds.push(handover.passFd);
    }
    session = await InitSession.start(plan.records, {
      stdio: opts.stdio,
      extraFds: opts.preserveFds ?? 0,
      passFds,
      exec: true,
      onWarning: (t, level) => ctx.log(level, prefix(t)),
      seccompListener: handover?.listener,
    });
    pid = session.pid;
    joinCgroup(ctx, session, cg, prefix);
    // From here on the process is the container's: a delete would kill it
    // with the rest. In a paused container (--ignore-paused) it is frozen
    // until `resume`, which needs the lock, as runc's exec waits then too.
    c.unlock();
    await session.goExec();
    went = true;
    if (opts.pidFile) writePidFile(opts.pidFile, pid);
    return { pid, consoleEnd };
  } catch (e) {
    if (went) {
      // Running its command already (the pid file failed): as runc, the
      // exec fails and takes the process with it, at once.
      killAndReap(pid);
    } else if (pid > 0) {
      // Its end of file first (it waits on the socket for MSG_GO or the
      // agent's answer), then the kill if it does not go (endAndReap).
      session?.close();
      endAndReap(pid, EXEC_END_MS);
    }
    if (consoleEnd >= 0) native().close(consoleEnd);
    throw toHakoError(e, prefix);
  } finally {
    if (pidfd >= 0) native().close(pidfd);
    if (consoleFd >= 0) native().close(consoleFd);
    if (pidfdSockFd >= 0) native().close(pidfdSockFd);
    closeCloneIntoFd(cgroupFd);
    handover?.close();
    session?.close();
  }
}

export async function exec(ctx: RuntimeContext, id: string, opts: ExecOptions): Promise<number> {
  // Before the process exists, so that nothing sent meanwhile is lost.
  const signals = opts.detach ? null : new SignalForwarder();
  let launched: Launched;
  try {
    launched = await launchExec(ctx, id, opts);
  } catch (e) {
    signals?.stop();
    throw e;
  }
  const { pid, consoleEnd } = launched;
  if (!signals) return 0;

  let proxy: ConsoleProxy | null = null;
  try {
    if (consoleEnd >= 0) {
      try {
        proxy = new ConsoleProxy(receiveMaster(consoleEnd));
      } finally {
        native().close(consoleEnd);
      }
      // Window changes reach the process as sizes, through the proxy.
      signals.leave('SIGWINCH');
    }
    signals.target(pid);
    const r = await native().waitpidAsync(pid);
    await proxy?.drained(PTY_DRAIN_MS);
    return r.signal !== null ? 128 + r.signal : (r.exitCode ?? 0);
  } catch (e) {
    // We own the process until it is reaped: never leave it running alone.
    killAndReap(pid);
    throw e;
  } finally {
    signals.stop();
    proxy?.stop();
  }
}
