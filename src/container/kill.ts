// `kill`: signal the init through a pidfd opened and then checked against
// the recorded start time, so a recycled pid is never signalled.
import { readdirSync, readlinkSync } from 'node:fs';
import { HakoError, notFound } from '../errors.js';
import { native } from '../native.js';
import type { RuntimeContext } from './context.js';
import { isAlive } from './proc.js';
import { statusOf } from './status.js';
import { storeFor, type ContainerRecord } from './store.js';
import { CLONE } from '../launch/linux-consts.js';
import { containerCgroup } from './cgroup.js';

export interface KillOptions {
  all?: boolean;
  /** The caller already holds the container's lock. */
  locked?: boolean;
}

/** Signals pid through a pidfd, after checking it is still the process started at startTime. False: it is gone. */
export function signalPid(pid: number, startTime: string | undefined, sig: number): boolean {
  let pidfd: number;
  try {
    pidfd = native().pidfdOpen(pid);
  } catch {
    return false;
  }
  try {
    if (!isAlive(pid, startTime)) return false;
    native().pidfdSendSignal(pidfd, sig);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  } finally {
    native().close(pidfd);
  }
}

/**
 * Host pids of every process in the container, init first: its cgroup's
 * members when hako made one (that holds everything it started), else its
 * pid namespace, else just the init.
 */
export function containerPids(rec: ContainerRecord): number[] {
  if (!isAlive(rec.pid, rec.initStartTime)) return [];
  const cg = containerCgroup(rec);
  if (cg?.exists()) return [rec.pid, ...cg.pids().filter((p) => p !== rec.pid)];
  if ((rec.newNamespaces & CLONE.NEWPID) === 0) return [rec.pid];
  let ns: string;
  try {
    ns = readlinkSync(`/proc/${rec.pid}/ns/pid`);
  } catch {
    return [];
  }
  const pids = [rec.pid];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === rec.pid) continue;
    try {
      if (readlinkSync(`/proc/${pid}/ns/pid`) === ns) pids.push(pid);
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

/**
 * Without a cgroup (rootless, no delegation) and without a pid namespace of
 * its own, nothing tells which processes the container started: only the
 * init can be signalled. runc warns the same way.
 */
export function onlyInitReachable(rec: ContainerRecord): string | null {
  if ((rec.newNamespaces & CLONE.NEWPID) !== 0 || containerCgroup(rec)?.exists()) return null;
  return `container ${JSON.stringify(rec.id)}: no cgroup and no pid namespace of its own: only the init is signalled, processes it started may be left (give the user a delegated cgroup, or use a pid namespace)`;
}

/**
 * `kill --all` of a stopped container, as runc does it: whatever is left in
 * its cgroup is signalled, and no cgroup (or an empty one) is success. A
 * container that shares a pid namespace (the host's, or a Pod's) keeps
 * running processes after its init died: the exec'd ones, the init's
 * children. containerd's runc shim sends exactly this when such an init
 * exits, and its task delete sends it again, waiting for those processes;
 * a refusal left the CRI's StopContainer waiting for ever.
 */
function signalLeftovers(rec: ContainerRecord, sig: number): void {
  const cg = containerCgroup(rec);
  if (cg?.exists()) cg.killAll(sig);
}

export function killContainer(ctx: RuntimeContext, id: string, sig: number, opts: KillOptions = {}): void {
  const store = storeFor(ctx);
  const lock = opts.locked ? null : store.lock(id);
  try {
    const rec = store.read(id);
    if (!rec) throw notFound(id);
    const status = statusOf(rec, store.dir(id));
    if (status === 'stopped' && opts.all) {
      signalLeftovers(rec, sig);
      return;
    }
    if (status === 'stopped' || status === 'creating') {
      throw new HakoError(`container ${JSON.stringify(id)}: container not running`, 'state');
    }
    if (opts.all) {
      const cg = containerCgroup(rec);
      if (cg?.exists()) {
        cg.killAll(sig);
        return;
      }
    }
    if (opts.all) {
      const w = onlyInitReachable(rec);
      if (w) ctx.log('warn', w);
    }
    const pids = opts.all ? containerPids(rec) : [rec.pid];
    let any = false;
    for (const [i, pid] of pids.entries()) {
      any = signalPid(pid, i === 0 ? rec.initStartTime : undefined, sig) || any;
    }
    if (!any) throw new HakoError(`container ${JSON.stringify(id)}: container not running`, 'state');
    // On cgroup v1 a frozen process dies of SIGKILL only once thawed: a
    // killed paused container is thawed, as runc does.
    if (sig === 9 && status === 'paused') {
      try {
        containerCgroup(rec)?.thaw();
      } catch {
        /* the signal is sent; thawing is best effort */
      }
    }
  } finally {
    lock?.release();
  }
}
