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
}

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
  return { comm, state: rest[0] ?? '?', ppid: Number(rest[1]), startTime: rest[19] ?? '' };
}

/** Alive and the same process: not exited, not a zombie, same start time. */
export function isAlive(pid: number, startTime?: string): boolean {
  if (pid <= 0) return false;
  const st = procStat(pid);
  if (!st) return false;
  if (st.state === 'Z' || st.state === 'X') return false;
  return startTime === undefined || startTime === '' || st.startTime === startTime;
}
