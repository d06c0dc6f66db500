// What the process translation (process-plan.ts) needs to know about this
// host and this hako process, read in one place for create and exec alike.
// Not pure (it reads /proc); the translation it feeds is.
import { readFileSync, statSync } from 'node:fs';
import { cpuCountOfList } from './cpu-affinity.js';
import { DEFAULT_CAP_LAST_CAP } from './linux-consts.js';
import { hostLsm, type HostLsm } from './lsm.js';

/** The kernel's last capability (/proc/sys/kernel/cap_last_cap): newer ones are warned about and left out. */
export function capLastCap(): number {
  try {
    const n = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    return Number.isInteger(n) && n >= 0 ? n : DEFAULT_CAP_LAST_CAP;
  } catch {
    return DEFAULT_CAP_LAST_CAP;
  }
}

/** CapBnd of this process: capabilities outside it cannot be granted. */
export function ownBoundingSet(): bigint | undefined {
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt('0x' + m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The host's possible CPUs (highest + 1; those that are or may be plugged in), undefined if sysfs does not say. */
export function cpuPossible(): number | undefined {
  try {
    return cpuCountOfList(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
  } catch {
    return undefined;
  }
}

// linux.namespaces types as /proc/PID/ns names them.
const PROC_NS: Readonly<Record<string, string>> = {
  network: 'net',
  ipc: 'ipc',
  uts: 'uts',
  mount: 'mnt',
  pid: 'pid',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
};

/**
 * Whether the namespace file at `p` is this process's own namespace of that
 * type (the host's, for hako on the host): the same inode on nsfs. False
 * when either cannot be looked at (the launcher's join reports that).
 */
export function isOwnNamespace(type: string, p: string): boolean {
  const name = PROC_NS[type];
  if (!name) return false;
  try {
    const a = statSync(p);
    const b = statSync(`/proc/self/ns/${name}`);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

export interface HostProcessFacts {
  capLastCap: number;
  hostCapBnd: bigint | undefined;
  lsm: HostLsm;
  cpuPossible: number | undefined;
}

/** The host facts of ProcessPlanContext, as create and exec both pass them. */
export function hostProcessFacts(): HostProcessFacts {
  return { capLastCap: capLastCap(), hostCapBnd: ownBoundingSet(), lsm: hostLsm(), cpuPossible: cpuPossible() };
}
