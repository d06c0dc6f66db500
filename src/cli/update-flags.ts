// `update`'s command line → the LinuxResources it asks for, the way runc's
// update.go reads its flags (pure: no I/O, so it is unit-tested as is).
//
// runc's rules, kept here:
//  - `--resources FILE|-` wins: when it is given, every other resource flag
//    is ignored (runc says so in its help; we also warn, naming them).
//  - String flags count only when not empty; `--blkio-weight` and
//    `--pids-limit` only when not 0. A value of 0 means "leave as it is"
//    for every numeric setting, as in runc (whose cgroup drivers skip
//    zeros), so `--pids-limit 0` changes nothing.
//  - Memory values take units (docker/go-units RAMInBytes: "512m", "1g",
//    "1.5GiB", "100 k"; binary multiples, case-insensitive, optional "b"/"ib")
//    and "-1" for unlimited. The CPU values are plain decimal integers
//    (strconv.ParseUint / ParseInt), quota and rt-runtime may be negative.
//  - `--kernel-memory` and `--kernel-memory-tcp` are accepted and ignored
//    with a warning (runc 1.1+).
//  - Intel RDT (`--l3-cache-schema`, `--mem-bw-schema`): hako has no RDT
//    support, so they fail with runc's words for a host without it.
import type { LinuxResources } from '../spec/types.js';
import type { UpdateOptions } from './commands/update.js';
import { InnerError } from '../errors.js';

/** A flag of `hako update` that cannot be used: a usage error. */
export class UpdateFlagError extends InnerError {
  constructor(message: string) {
    super(message, 'usage');
    this.name = 'UpdateFlagError';
  }
}

const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);
const U64_MAX = (1n << 64n) - 1n;

/** Go's `%s` in go-units' messages quotes with single quotes, as is. */
const q = (s: string) => `'${s}'`;

/** Go's strconv.ParseFloat for the decimal forms go-units can hand it. */
function parseGoFloat(num: string): number {
  // Decimal mantissa with optional sign, dot and exponent; Go also takes
  // hex floats ("0x1p4"), "inf" and "nan", none of which can end in the
  // digit go-units splits on except hex ones, which nobody writes for RAM.
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(num)) {
    throw new UpdateFlagError(`strconv.ParseFloat: parsing ${JSON.stringify(num)}: invalid syntax`);
  }
  return Number(num);
}

const BINARY: Readonly<Record<string, number>> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * docker/go-units RAMInBytes (v0.5, what runc vendors now): a number,
 * optionally one space, then an optional suffix k/m/g/t/p (×1024ⁿ) with an
 * optional "b" or "ib", or "b" alone; case-insensitive. Negative sizes are
 * refused. The result is truncated to whole bytes, as Go's int64(float64).
 */
export function ramInBytes(size: string): number {
  let sep = -1;
  for (let i = size.length - 1; i >= 0; i--) {
    if ('0123456789. '.includes(size[i]!)) {
      sep = i;
      break;
    }
  }
  if (sep === -1) throw new UpdateFlagError(`invalid size: ${q(size)}`);
  const num = size[sep] === ' ' ? size.slice(0, sep) : size.slice(0, sep + 1);
  let sfx = size.slice(sep + 1);
  let n = parseGoFloat(num);
  if (n < 0) throw new UpdateFlagError(`invalid size: ${q(size)}`);
  if (sfx !== '') {
    const bad = () => new UpdateFlagError(`invalid suffix: ${q(sfx)}`);
    if (sfx.length > 3) throw bad();
    sfx = sfx.toLowerCase();
    if (sfx[0] === 'b') {
      if (sfx.length > 1) throw bad();
    } else {
      const mul = BINARY[sfx[0]!];
      if (mul === undefined) throw bad();
      if ((sfx.length === 2 && sfx[1] !== 'b') || (sfx.length === 3 && sfx.slice(1) !== 'ib')) throw bad();
      n *= mul;
    }
  }
  n = Math.trunc(n);
  // Go's int64(f) of a float beyond int64 is undefined behaviour; say so instead.
  if (!Number.isFinite(n) || n >= 2 ** 63) throw new UpdateFlagError(`invalid size: ${q(size)} is more than 2^63-1 bytes`);
  return n;
}

/** strconv.ParseUint(s, 10, 64) / ParseInt(s, 10, 64), as a JS number. */
function parseGoInteger(s: string, signed: boolean): number {
  const fn = signed ? 'strconv.ParseInt' : 'strconv.ParseUint';
  if (!(signed ? /^[+-]?\d+$/ : /^\d+$/).test(s)) throw new UpdateFlagError(`${fn}: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = BigInt(s);
  if (signed ? n > I64_MAX || n < I64_MIN : n > U64_MAX) throw new UpdateFlagError(`${fn}: parsing ${JSON.stringify(s)}: value out of range`);
  return Number(n);
}

function invalid(flag: string, e: unknown): UpdateFlagError {
  return new UpdateFlagError(`invalid value for ${flag}: ${e instanceof Error ? e.message : String(e)}`);
}

/** The resource flags (everything but --resources), by option key and flag name. */
export const RESOURCE_FLAGS: ReadonlyArray<readonly [keyof UpdateOptions, string]> = [
  ['blkioWeight', 'blkio-weight'],
  ['cpuPeriod', 'cpu-period'],
  ['cpuQuota', 'cpu-quota'],
  ['cpuShare', 'cpu-share'],
  ['cpuRtPeriod', 'cpu-rt-period'],
  ['cpuRtRuntime', 'cpu-rt-runtime'],
  ['cpusetCpus', 'cpuset-cpus'],
  ['cpusetMems', 'cpuset-mems'],
  ['kernelMemory', 'kernel-memory'],
  ['kernelMemoryTcp', 'kernel-memory-tcp'],
  ['memory', 'memory'],
  ['memoryReservation', 'memory-reservation'],
  ['memorySwap', 'memory-swap'],
  ['pidsLimit', 'pids-limit'],
];

export interface UpdateRequest {
  /** `--resources`: the file to read the LinuxResources from ("-": stdin); then `resources` is empty. */
  file?: string;
  /** What the flags ask for (only the settings they change). */
  resources: LinuxResources;
  /** Said on stderr, not fatal. */
  warnings: string[];
}

/**
 * Reads the update flags. `explicit` holds the option keys given on the
 * command line (to name flags that --resources makes ignored).
 * Throws UpdateFlagError with runc's message for a bad value.
 */
export function updateRequest(o: UpdateOptions, explicit: ReadonlySet<string> = new Set()): UpdateRequest {
  if (o.l3CacheSchema !== '') throw new UpdateFlagError('Intel RDT/CAT: l3 cache schema is not enabled');
  if (o.memBwSchema !== '') throw new UpdateFlagError('Intel RDT/MBA: memory bandwidth schema is not enabled');
  const warnings: string[] = [];
  if (o.resources !== '') {
    const ignored = RESOURCE_FLAGS.filter(([k]) => explicit.has(k)).map(([, f]) => `--${f}`);
    if (ignored.length) warnings.push(`--resources is given, so ${ignored.join(', ')} ${ignored.length === 1 ? 'is' : 'are'} ignored`);
    return { file: o.resources, resources: {}, warnings };
  }

  const r: LinuxResources = {};
  const memory = () => (r.memory ??= {});
  const cpu = () => (r.cpu ??= {});

  if (o.blkioWeight !== 0) {
    // runc converts to uint16 (wrapping); out of that range is a mistake.
    if (o.blkioWeight < 0 || o.blkioWeight > 65535) throw invalid('blkio-weight', new Error(`${o.blkioWeight} is not a weight (10 to 1000)`));
    r.blockIO = { weight: o.blkioWeight };
  }
  if (o.cpusetCpus !== '') cpu().cpus = o.cpusetCpus;
  if (o.cpusetMems !== '') cpu().mems = o.cpusetMems;

  const numeric: ReadonlyArray<readonly [string, string, boolean, (v: number) => void]> = [
    ['cpu-period', o.cpuPeriod, false, (v) => (cpu().period = v)],
    ['cpu-rt-period', o.cpuRtPeriod, false, (v) => (cpu().realtimePeriod = v)],
    ['cpu-share', o.cpuShare, false, (v) => (cpu().shares = v)],
    ['cpu-quota', o.cpuQuota, true, (v) => (cpu().quota = v)],
    ['cpu-rt-runtime', o.cpuRtRuntime, true, (v) => (cpu().realtimeRuntime = v)],
  ];
  for (const [flag, val, signed, set] of numeric) {
    if (val === '') continue;
    let v: number;
    try {
      v = parseGoInteger(val, signed);
    } catch (e) {
      throw invalid(flag, e);
    }
    if (v !== 0) set(v);
  }

  const sizes: ReadonlyArray<readonly [string, string, (v: number) => void]> = [
    ['memory', o.memory, (v) => (memory().limit = v)],
    ['memory-swap', o.memorySwap, (v) => (memory().swap = v)],
    ['memory-reservation', o.memoryReservation, (v) => (memory().reservation = v)],
  ];
  for (const [flag, val, set] of sizes) {
    if (val === '') continue;
    let v: number;
    try {
      v = val === '-1' ? -1 : ramInBytes(val);
    } catch (e) {
      throw invalid(flag, e);
    }
    if (v !== 0) set(v);
  }

  for (const [flag, val] of [
    ['kernel-memory', o.kernelMemory],
    ['kernel-memory-tcp', o.kernelMemoryTcp],
  ] as const) {
    if (val !== '') warnings.push(`Setting --${flag} is ignored and will be removed`);
  }

  if (o.pidsLimit !== 0) r.pids = { limit: o.pidsLimit };
  return { resources: r, warnings };
}
