// Reaping the processes the library starts. The launcher clones a
// container's init (and an exec'd process) with CLONE_PARENT, so they are
// children of the process that called create or exec. The CLI exits at
// once and its children go to the caller's subreaper; a long-running
// library user stays their parent, and each one that exits would stay a
// zombie. So every child the library starts is adopted here: a pidfd
// watched on the event loop (addon/binding/exitwatch.cc) reaps it the
// moment it exits, and its status is kept until the caller is done with
// it (forget). If the library's process exits first, its children go to
// its subreaper or to PID 1 as usual, which reap them.
import { native } from '../native.js';
import { procStat } from '../container/proc.js';
import type { ExitWatchHandle } from '../native.js';
import { nameOfSignal } from './signals.js';

/** How a process ended: exactly one of the two is set. */
export interface ExitStatus {
  /** Its exit code, when it called exit. */
  exitCode: number | null;
  /** The signal's name ("SIGKILL"), when a signal ended it. */
  signal: string | null;
}

interface Child {
  pid: number;
  startTime: string;
  keep: boolean;
  pidfd: number;
  watch: ExitWatchHandle | null;
  status: ExitStatus | null;
  done: Promise<ExitStatus>;
  settle: (s: ExitStatus) => void;
}

// By pid: an adopted child's pid cannot be reused before we reap it, and
// after that it is looked up by pid and start time (key()).
const live = new Map<number, Child>();
const ended = new Map<string, Child>();

const key = (pid: number, startTime: string) => `${pid}:${startTime}`;

/** What waitpid says, as an ExitStatus. */
function statusOf(r: { exitCode: number | null; signal: number | null }): ExitStatus {
  return r.signal !== null ? { exitCode: null, signal: nameOfSignal(r.signal) } : { exitCode: r.exitCode ?? 0, signal: null };
}

function finish(c: Child, s: ExitStatus): void {
  const n = native();
  if (c.watch) n.exitUnwatch(c.watch);
  c.watch = null;
  if (c.pidfd >= 0) n.close(c.pidfd);
  c.pidfd = -1;
  c.status = s;
  live.delete(c.pid);
  if (c.keep) ended.set(key(c.pid, c.startTime), c);
  c.settle(s);
}

/** The pidfd turned readable: the child exited; reap it. */
function reap(c: Child): void {
  let r;
  try {
    r = native().waitpid(c.pid, true);
  } catch {
    // ECHILD: reaped by someone else (a waitpid of the caller's own); its
    // status went there.
    finish(c, { exitCode: null, signal: null });
    return;
  }
  if (r) finish(c, statusOf(r));
  else rewatch(c);
}

/** A readable pidfd with no status yet (never expected): watch again. */
function rewatch(c: Child): void {
  const n = native();
  if (c.watch) n.exitUnwatch(c.watch);
  c.watch = n.exitWatch(c.pidfd, () => reap(c));
  n.exitWatchRef(c.watch, false);
}

/** An adopted child's end, as the caller sees it. */
export interface Adopted {
  /** Settles once it has exited and been reaped. */
  done: Promise<ExitStatus>;
  /** Resolves like `done`, holding the process open until then. */
  wait(): Promise<ExitStatus>;
}

/**
 * Takes charge of a child of ours: it is reaped when it exits, without
 * holding the process open (a program that is done may exit before its
 * containers do). `keep`: its status stays for exitOf until forget().
 */
export function adopt(pid: number, keep: boolean): Adopted {
  const have = live.get(pid);
  if (have) return handle(have);
  const n = native();
  const startTime = procStat(pid)?.startTime ?? '';
  let settle!: (s: ExitStatus) => void;
  const done = new Promise<ExitStatus>((r) => (settle = r));
  const c: Child = { pid, startTime, keep, pidfd: -1, watch: null, status: null, done, settle };
  live.set(pid, c);
  try {
    c.pidfd = n.pidfdOpen(pid);
  } catch {
    // Gone without a trace: not a child we could still reap.
    finish(c, { exitCode: null, signal: null });
    return handle(c);
  }
  c.watch = n.exitWatch(c.pidfd, () => reap(c));
  n.exitWatchRef(c.watch, false);
  return handle(c);
}

function handle(c: Child): Adopted {
  return {
    done: c.done,
    wait: () => {
      if (c.watch) native().exitWatchRef(c.watch, true);
      return c.done;
    },
  };
}

/**
 * The exit status of an adopted child (pid and start time, as recorded),
 * once it has exited; undefined if it is not one of ours. While awaited,
 * the watch holds the process open.
 */
export function exitOf(pid: number, startTime: string): Promise<ExitStatus> | undefined {
  const c = live.get(pid);
  if (c && (startTime === '' || c.startTime === startTime)) {
    if (c.watch) native().exitWatchRef(c.watch, true);
    return c.done;
  }
  return ended.get(key(pid, startTime))?.done;
}

/**
 * Settles once a process that is not our child (no status for us) has
 * exited, holding the process open until then: a pidfd, checked against
 * the recorded start time, watched on the event loop.
 */
export function whenExited(pid: number, startTime: string, alive: () => boolean): Promise<void> {
  const n = native();
  let pidfd: number;
  try {
    pidfd = n.pidfdOpen(pid);
  } catch {
    return Promise.resolve();
  }
  // Opened first, checked second: the pidfd is then the process recorded.
  if (!alive() || procStat(pid)?.startTime !== startTime) {
    n.close(pidfd);
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    const w = n.exitWatch(pidfd, () => {
      n.exitUnwatch(w);
      n.close(pidfd);
      resolve();
    });
  });
}

/** Whether the process is an adopted child not yet reaped. */
export function isAdopted(pid: number): boolean {
  return live.has(pid);
}

/** Drops a reaped child's status (its container was deleted). */
export function forget(pid: number, startTime: string): void {
  ended.delete(key(pid, startTime));
}

/** Children adopted and not yet reaped, and statuses kept: for tests. */
export function reaperCounts(): { live: number; ended: number } {
  return { live: live.size, ended: ended.size };
}
