// 64-bit config values as BigInt. JSON.parse rounds integers beyond 2^53 to
// the nearest double, and the largest ones round up past the type's range:
// 18446744073709551615 (RLIM_INFINITY, "unlimited") becomes 2^64. Clamping
// maps those back to the maximum, which is what the writer meant.

const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

/** A schema-valid uint64 field as a BigInt in 0..2^64-1. */
export function toUint64(n: number): bigint {
  const b = BigInt(n);
  return b > U64_MAX ? U64_MAX : b < 0n ? 0n : b;
}

/** A schema-valid int64 field as a BigInt in -2^63..2^63-1. */
export function toInt64(n: number): bigint {
  const b = BigInt(n);
  return b > I64_MAX ? I64_MAX : b < I64_MIN ? I64_MIN : b;
}
