// The container's processes: which host pids are its, and signalling one
// through a pidfd checked against its start time, so that a recycled pid
// is never signalled. kill, delete and ps share them.
import { readdirSync, readlinkSync } from 'node:fs';
import { native } from '../native.js';
import { CLONE } from '../launch/linux-consts.js';
import { containerCgroup } from './cgroup.js';
import { isAlive } from './proc.js';
import type { ContainerRecord } from './store.js';

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
