// RFC 3339 with nanoseconds, like Go's time.RFC3339Nano in runc's state.
export function rfc3339Nano(): string {
  const ms = performance.timeOrigin + performance.now();
  const whole = Math.floor(ms / 1000);
  const frac = Math.round((ms / 1000 - whole) * 1e9);
  const base = new Date(whole * 1000).toISOString().slice(0, 19);
  const nanos = String(Math.min(frac, 999999999)).padStart(9, '0');
  return `${base}.${nanos}Z`;
}
