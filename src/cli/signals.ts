// Signal names and numbers for `hako kill`.
//
// runc 1.1.5 accepts a decimal number (strconv.Atoi: optional sign, leading
// zeros allowed) or a name, case-insensitive, with or without "SIG", looked
// up in golang.org/x/sys's table (standard names only). hako accepts the
// same and a little more: the traditional aliases (IOT, POLL, CLD, UNUSED)
// and real-time signals as RTMIN, RTMIN+n, RTMAX-n, like kill(1) and
// runc 1.2. Numbers must be 0..64: runc passes anything else to kill(2) and
// fails with EINVAL only after looking the container up; rejecting them
// here gives a clearer message. 0 stays valid because `kill ID 0` is a
// liveness probe that works with runc.

import { UsageError, goQuote } from './args.js';

/** Linux x86_64 (the generic Linux numbering). */
const SIGNALS: ReadonlyArray<readonly [string, number]> = [
  ['HUP', 1],
  ['INT', 2],
  ['QUIT', 3],
  ['ILL', 4],
  ['TRAP', 5],
  ['ABRT', 6],
  ['IOT', 6],
  ['BUS', 7],
  ['FPE', 8],
  ['KILL', 9],
  ['USR1', 10],
  ['SEGV', 11],
  ['USR2', 12],
  ['PIPE', 13],
  ['ALRM', 14],
  ['TERM', 15],
  ['STKFLT', 16],
  ['CHLD', 17],
  ['CLD', 17],
  ['CONT', 18],
  ['STOP', 19],
  ['TSTP', 20],
  ['TTIN', 21],
  ['TTOU', 22],
  ['URG', 23],
  ['XCPU', 24],
  ['XFSZ', 25],
  ['VTALRM', 26],
  ['PROF', 27],
  ['WINCH', 28],
  ['IO', 29],
  ['POLL', 29],
  ['PWR', 30],
  ['SYS', 31],
  // Removed from glibc's headers in 2.26 but still the kernel's name for 31.
  ['UNUSED', 31],
];

/** glibc reserves the kernel's first two real-time signals (32, 33) for
 * its threading implementation, so userland's SIGRTMIN is 34. */
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;
/** Highest signal number on Linux (_NSIG - 1). */
export const MAX_SIGNAL = 64;

const BY_NAME = new Map<string, number>(SIGNALS.map(([n, v]) => [n, v]));
// First name listed for a number is the canonical one.
const BY_NUMBER = new Map<number, string>();
for (const [n, v] of SIGNALS) if (!BY_NUMBER.has(v)) BY_NUMBER.set(v, n);

/**
 * Parses a signal as `hako kill` accepts it: "15", "TERM", "SIGTERM",
 * "sigterm", "RTMIN", "RTMIN+3", "SIGRTMAX-2". Throws UsageError
 * `unknown signal "FOO"` (runc's wording, quoting the input as given).
 */
export function parseSignal(s: string): number {
  const unknown = () => new UsageError(`unknown signal ${goQuote(s)}`);
  // strconv.Atoi's syntax; runc tries it first, so "010" is 10, not 8.
  if (/^[+-]?[0-9]+$/.test(s)) {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > MAX_SIGNAL) throw unknown();
    return n;
  }
  let name = s.toUpperCase();
  if (name.startsWith('SIG')) name = name.slice(3);
  const n = BY_NAME.get(name);
  if (n !== undefined) return n;
  const rt = /^RT(MIN|MAX)(?:([+-])([0-9]+))?$/.exec(name);
  if (rt) {
    const [, which, op, off] = rt;
    const offset = off === undefined ? 0 : Number(off);
    // Only RTMIN+n and RTMAX-n are meaningful (RTMIN-1 would be a
    // glibc-reserved signal, RTMAX+1 does not exist).
    if (which === 'MIN' && (op === undefined || op === '+')) {
      const v = SIGRTMIN + offset;
      if (v <= SIGRTMAX) return v;
    } else if (which === 'MAX' && (op === undefined || op === '-')) {
      const v = SIGRTMAX - offset;
      if (v >= SIGRTMIN) return v;
    }
  }
  throw unknown();
}

/**
 * Canonical name of a signal number ("SIGTERM", "SIGRTMIN+3", "SIGRTMAX-2",
 * the split at the midpoint as in bash's `kill -l`), or undefined for
 * numbers without one (0, 32, 33, out of range).
 */
export function signalName(n: number): string | undefined {
  const std = BY_NUMBER.get(n);
  if (std !== undefined) return `SIG${std}`;
  if (!Number.isInteger(n) || n < SIGRTMIN || n > SIGRTMAX) return undefined;
  if (n === SIGRTMIN) return 'SIGRTMIN';
  if (n === SIGRTMAX) return 'SIGRTMAX';
  const mid = (SIGRTMIN + SIGRTMAX) / 2; // 49
  return n <= mid ? `SIGRTMIN+${n - SIGRTMIN}` : `SIGRTMAX-${SIGRTMAX - n}`;
}

/** All accepted names (without "SIG") with their numbers, aliases included. */
export function signalNames(): ReadonlyArray<readonly [string, number]> {
  return SIGNALS;
}
