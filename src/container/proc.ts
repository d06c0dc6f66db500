// Facts about host processes read from /proc: enough to tell whether the
// process we recorded is still the same one (pid reuse) and whether it lives.
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** The name the kernel keeps (16 bytes at most), even for a zombie. */
  comm: string;
  state: string;
  ppid: number;
  /** Field 22, clock ticks since boot: with the pid, identifies a process. */
  startTime: string;
  /** PF_EXITING (field 9): killed and on its way out, whatever state it shows. */
  exiting: boolean;
}

const PF_EXITING = 0x4;

export function procStat(pid: number): ProcStat | null {
  let s: string;
  try {
    s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // comm may contain spaces and parentheses: split after the last ')'.
  const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
  const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
  return { comm, state: rest[0] ?? '?', ppid: Number(rest[1]), startTime: rest[19] ?? '', exiting: (Number(rest[6]) & PF_EXITING) !== 0 };
}

/**
 * Alive and the same process: not exited, not exiting, not a zombie, same
 * start time. Exiting counts as dead: a pid namespace's init that got
 * SIGKILL stays in the kernel until every other process of the namespace
 * has been reaped by its parent, which for an orphan of a killed hako is
 * whoever adopts it, as slow as that may be; its pid cannot be reused
 * meanwhile, and it runs nothing of its own any more.
 * An unknown start time ('') cannot tell a recycled pid from ours: not
 * alive. `undefined` skips the check (a pid read from /proc just now).
 */
export function isAlive(pid: number, startTime?: string): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (startTime === '') return false;
  const st = procStat(pid);
  if (!st) return false;
  if (st.state === 'Z' || st.state === 'X' || st.exiting) return false;
  return startTime === undefined || st.startTime === startTime;
}
