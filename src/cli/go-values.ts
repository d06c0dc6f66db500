// Go's value syntax as runc's flag parsing sees it (strconv, time), and the
// quoting its error messages use. Pure.

/** Go's %q for the strings we are likely to see (error messages quote the
 * offending value this way). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\x07':
        out += '\\a';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\f':
        out += '\\f';
        break;
      case '\v':
        out += '\\v';
        break;
      default:
        if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
        else out += ch;
    }
  }
  return out + '"';
}

/** strconv.ParseBool */
export function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * strconv.ParseInt(s, base, 64) for base 0 (Go literal syntax: prefixes
 * 0x/0o/0b, a leading 0 meaning octal, `_` between digits) or base 10.
 * Returns the value, or 'syntax' / 'range' like Go's ErrSyntax / ErrRange.
 */
export function parseGoInt(s: string, base: 0 | 10 = 0): bigint | 'syntax' | 'range' {
  const s0 = s;
  if (s === '') return 'syntax';
  let neg = false;
  if (s[0] === '+') s = s.slice(1);
  else if (s[0] === '-') {
    neg = true;
    s = s.slice(1);
  }
  if (s === '') return 'syntax';
  let radix = 10;
  const base0 = base === 0;
  if (base0 && s[0] === '0') {
    const p = s.length >= 3 ? s[1]!.toLowerCase() : '';
    if (p === 'b' || p === 'o' || p === 'x') {
      radix = p === 'b' ? 2 : p === 'o' ? 8 : 16;
      s = s.slice(2);
    } else {
      radix = 8;
      s = s.slice(1);
    }
  }
  // Go returns ErrRange as soon as the unsigned value overflows 64 bits,
  // even if an invalid character follows; keep the same precedence.
  const UINT64_MAX = (1n << 64n) - 1n;
  let n = 0n;
  let underscores = false;
  for (const ch of s) {
    if (ch === '_' && base0) {
      underscores = true;
      continue;
    }
    const d = /[0-9]/.test(ch) ? ch.charCodeAt(0) - 48 : /[a-z]/i.test(ch) ? ch.toLowerCase().charCodeAt(0) - 87 : 99;
    if (d >= radix) return 'syntax';
    n = n * BigInt(radix) + BigInt(d);
    if (n > UINT64_MAX) return 'range';
  }
  if (underscores && !underscoreOK(s0)) return 'syntax';
  const v = neg ? -n : n;
  if (v < INT64_MIN || v > INT64_MAX) return 'range';
  return v;
}

// Go's strconv.underscoreOK: underscores only between digits (a base
// prefix counts as a digit), never first or last.
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(s[1]!.toLowerCase())) {
    i = 2;
    saw = '0';
    hex = s[1]!.toLowerCase() === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-f]/i.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3, // U+00B5
  μs: 1e-3, // U+03BC
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** time.ParseDuration, in milliseconds; undefined when Go would fail. */
export function parseGoDuration(s: string): number | undefined {
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  const re = /^([0-9]*)(?:\.([0-9]*))?([^0-9.]*)/u;
  while (s !== '') {
    const m = re.exec(s);
    if (!m) return undefined;
    const [all, int = '', frac, unit = ''] = m;
    if (int === '' && (frac === undefined || frac === '')) return undefined; // no digits
    if (unit === '') return undefined; // missing unit
    const scale = DURATION_UNITS[unit];
    if (scale === undefined) return undefined;
    total += Number(`${int || '0'}.${frac || '0'}`) * scale;
    s = s.slice(all.length);
  }
  // Go's Duration is int64 nanoseconds.
  // biome-ignore lint/correctness/noPrecisionLoss: a float bound, as Go's own overflow check: within a nanosecond of int64's end is out
  if (total * 1e6 > 9.223372036854775807e18) return undefined;
  return neg ? -total : total;
}

/** time.Duration.String for a millisecond value (used for help defaults). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) {
    if (rest >= 1) return `${sign}${trimNum(rest)}ms`;
    if (rest >= 1e-3) return `${sign}${trimNum(rest * 1e3)}µs`;
    return `${sign}${trimNum(rest * 1e6)}ns`;
  }
  let out = '';
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  out += `${trimNum(rest / 1000)}s`;
  return sign + out;
}

function trimNum(n: number): string {
  return String(Number(n.toFixed(9)));
}
