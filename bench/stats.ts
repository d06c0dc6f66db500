// Pure helpers of the benchmark: statistics, formatting, the bisection of
// the memory-limit search and the parsing of what /proc and /usr/bin/time
// print. No I/O here: test/unit/bench-stats.test.ts covers all of it.

/** The median of the samples; NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The p-th percentile (0..100), nearest-rank; NaN for none. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]!;
}

export interface Summary {
  n: number;
  median: number;
  min: number;
  p90: number;
  max: number;
}

export function summarize(xs: readonly number[]): Summary {
  return {
    n: xs.length,
    median: median(xs),
    min: xs.length ? Math.min(...xs) : Number.NaN,
    p90: percentile(xs, 90),
    max: xs.length ? Math.max(...xs) : Number.NaN,
  };
}

/** a/b, or null when either is not a positive finite number. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0 || a < 0) return null;
  return a / b;
}

/** A number for a table cell: 3 significant digits, no exponent. */
export function fmt(x: number | null | undefined, digits = 3): string {
  if (x == null || !Number.isFinite(x)) return '-';
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 10 ** digits) return Math.round(x).toString();
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(a)));
  return x.toFixed(Math.min(decimals, 6));
}

/** A plain text table: the first column left-aligned, the rest right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * The smallest value in (lo, hi] for which `ok` holds, assuming `ok` is
 * monotonic (false below some threshold, true from it on), searched at
 * `step` granularity: `ok(hi)` is taken as true, `lo` as false. Every value
 * tried is a multiple of `step` offset from lo. Returns hi when nothing
 * smaller passes.
 */
export async function bisectSmallest(
  lo: number,
  hi: number,
  step: number,
  ok: (x: number) => Promise<boolean>,
): Promise<{ value: number; tried: { value: number; ok: boolean }[] }> {
  const tried: { value: number; ok: boolean }[] = [];
  let bad = lo;
  let good = hi;
  while (good - bad > step) {
    const mid = bad + Math.floor((good - bad) / 2 / step) * step;
    const pass = await ok(mid);
    tried.push({ value: mid, ok: pass });
    if (pass) good = mid;
    else bad = mid;
  }
  return { value: good, tried };
}

/** `VmRSS:     1234 kB` → 1234 (KiB) from /proc/PID/status text; null when absent. */
export function parseStatusKb(status: string, field: string): number | null {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  return m ? Number(m[1]) : null;
}

/**
 * The path of a controller's cgroup from /proc/PID/cgroup: on v1 the line
 * whose controller list names it, else the v2 line (`0::/path`).
 */
export function cgroupPathOf(procCgroup: string, controller: string): { version: 1 | 2; path: string } | null {
  let v2: string | null = null;
  for (const line of procCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2 = m[3]!;
    else if (m[2]!.split(',').includes(controller)) return { version: 1, path: m[3]! };
  }
  return v2 === null ? null : { version: 2, path: v2 };
}

/**
 * The last line of `/usr/bin/time -f %M -o FILE` output that is a number:
 * the child's ru_maxrss in KiB (GNU time may prepend "Command exited with
 * non-zero status N").
 */
export function parseTimeMaxRss(text: string): number | null {
  const lines = text.trim().split('\n').reverse();
  for (const l of lines) {
    if (/^\d+$/.test(l.trim())) return Number(l.trim());
  }
  return null;
}

/** `1.5 MiB`, `512 KiB`: a byte count for humans. */
export function fmtBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes)) return '-';
  if (bytes >= 1024 * 1024) return `${fmt(bytes / 1024 / 1024)} MiB`;
  if (bytes >= 1024) return `${fmt(bytes / 1024)} KiB`;
  return `${bytes} B`;
}
