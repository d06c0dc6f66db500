// What systemd is told about a container's unit: the properties of the
// transient unit (runc's set: Description, Slice, Delegate, PIDs,
// DefaultDependencies, accounting) and the resource limits systemd can
// express. Pure.
//
// The limits come from the very cgroup file writes hako's cgroupfs
// translation makes (v2-resources.ts, v1-resources.ts), mapped back to
// systemd's properties, not from a second reading of linux.resources:
// systemd rewrites a unit's cgroup files from its own properties whenever
// it realises the unit again (a daemon-reload, a sibling's change), and
// a file it has no property for is reset to its default (cpu.weight to
// 100, memory.max to max). So what systemd holds must be exactly what hako
// writes; files systemd has no property for (hugetlb, rdma, swappiness,
// io.max, ...) it does not touch, and only hako writes them.
//
// The same writes then go to the files (the driver always does both, as
// runc's does): systemd's rounding (CPU quota to 10 ms per second, as runc
// rounds up) and versions that lack a property cannot leave a limit wrong.
import type { LinuxResources } from '../spec/types.js';
import { DeviceEmulator, accessString, normalizeDeviceRules, ruleString } from './devices.js';
import { prop, type Property } from '../dbus/systemd1.js';
import type { SystemdUnitPath } from './systemd-unit.js';
import { v1Writes } from './v1-resources.js';
import { v2Writes, type V2Facts } from './v2-resources.js';
import { Variant } from '../dbus/wire.js';
import { settingError } from './cgroup-error.js';
import type { CgroupWrite, TranslateOptions } from './writes.js';

const INFINITY = (1n << 64n) - 1n; // systemd's USEC_INFINITY / CGROUP_LIMIT_MAX
const DEFAULT_PERIOD = 100_000n;

export type SystemdMode = 'v2' | 'v1' | 'hybrid';

/** Properties a unit cannot do without: systemd refusing one of these fails the create. */
export const ESSENTIAL = new Set(['Description', 'Slice', 'Wants', 'Delegate', 'PIDs', 'DefaultDependencies']);

/** The unit's own properties (runc's), before any limit. */
export function unitProperties(u: SystemdUnitPath, pid: number | undefined, mode: SystemdMode): Property[] {
  const out: Property[] = [prop.s('Description', `hako container ${u.name}`)];
  if (u.kind === 'slice') {
    // A slice's parent follows from its name; Wants= keeps it started.
    out.push(prop.as('Wants', [u.slice]));
  } else {
    out.push(prop.s('Slice', u.slice), prop.b('Delegate', true));
    if (pid !== undefined) out.push(prop.au('PIDs', [pid]));
  }
  // Accounting on, so every controller is there from the start, as with
  // the cgroupfs driver (and the kernel dislikes enabling memory later).
  out.push(
    prop.b('MemoryAccounting', true),
    prop.b('CPUAccounting', true),
    prop.b(mode === 'v2' ? 'IOAccounting' : 'BlockIOAccounting', true),
    prop.b('TasksAccounting', true),
  );
  // No ordering against shutdown.target and friends: the container's
  // lifetime is its manager's business.
  out.push(prop.b('DefaultDependencies', false));
  return out;
}

/** "max" or a number, as cgroup files hold them; undefined when neither. */
function limit(v: string): bigint | undefined {
  const t = v.trim();
  if (t === 'max' || t === '-1') return INFINITY;
  return /^\d+$/.test(t) ? BigInt(t) : undefined;
}

/** "0-3,8" → systemd's CPU/node bitmask: bit n of byte n/8 is CPU n. */
export function rangeToBits(list: string): Uint8Array | undefined {
  const ids: number[] = [];
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b > 65535) return undefined;
    for (let i = a; i <= b; i++) ids.push(i);
  }
  if (ids.length === 0) return undefined;
  const out = new Uint8Array(Math.floor(Math.max(...ids) / 8) + 1);
  for (const i of ids) out[i >> 3]! |= 1 << (i & 7);
  return out;
}

/**
 * CPUQuotaPerSecUSec from a quota per period, rounded up to 10 ms as runc
 * does: systemd keeps the quota as a percentage in the unit file it writes,
 * so a finer value would come back coarser after a daemon-reload.
 */
export function quotaPerSec(quota: bigint, period: bigint): bigint {
  if (quota <= 0n) return INFINITY;
  const p = period === 0n ? DEFAULT_PERIOD : period;
  let v = (quota * 1_000_000n) / p;
  if (v % 10_000n !== 0n) v = (v / 10_000n + 1n) * 10_000n;
  return v;
}

/**
 * io.bfq.weight (1..1000) → the IOWeight (1..10000) systemd maps back to it:
 * the inverse of systemd's BFQ_WEIGHT, as crun computes it.
 */
export function ioWeightFromBfq(w: bigint): bigint {
  return w <= 100n ? 100n - ((100n - w) * 99n) / 99n : 100n + ((w - 100n) * 9900n) / 900n;
}

const devPath = (majMin: string) => `/dev/block/${majMin}`;

/** Properties for cgroup v2 writes (see the file comment). */
export function v2Properties(writes: readonly CgroupWrite[]): Property[] {
  const out: Property[] = [];
  const mem: Record<string, string> = {
    'memory.max': 'MemoryMax',
    'memory.low': 'MemoryLow',
    'memory.high': 'MemoryHigh',
    'memory.min': 'MemoryMin',
    'memory.swap.max': 'MemorySwapMax',
    'pids.max': 'TasksMax',
  };
  for (const w of writes) {
    for (const line of w.byLine ? w.value.split('\n').filter((l) => l.trim() !== '') : [w.value]) {
      const name = mem[w.file];
      if (name) {
        const v = limit(line);
        if (v !== undefined) out.push(prop.t(name, v));
        continue;
      }
      switch (w.file) {
        case 'cpu.weight': {
          const v = limit(line);
          if (v !== undefined && v !== INFINITY) out.push(prop.t('CPUWeight', v));
          break;
        }
        case 'cpu.max': {
          const m = /^\s*(max|\d+)(?:\s+(\d+))?\s*$/.exec(line);
          if (!m) break;
          const period = m[2] === undefined ? DEFAULT_PERIOD : BigInt(m[2]);
          out.push(prop.t('CPUQuotaPerSecUSec', m[1] === 'max' ? INFINITY : quotaPerSec(BigInt(m[1]!), period)), prop.t('CPUQuotaPeriodUSec', period));
          break;
        }
        case 'cpuset.cpus':
        case 'cpuset.mems': {
          const bits = rangeToBits(line);
          if (bits) out.push(prop.ay(w.file === 'cpuset.cpus' ? 'AllowedCPUs' : 'AllowedMemoryNodes', bits));
          break;
        }
        case 'io.weight':
        case 'io.bfq.weight': {
          const m = /^\s*(?:(default)\s+|(\d+:\d+)\s+)?(\d+)\s*$/.exec(line);
          if (!m) break;
          const n = BigInt(m[3]!);
          const weight = w.file === 'io.bfq.weight' ? ioWeightFromBfq(n) : n;
          if (m[2]) out.push(prop.ast('IODeviceWeight', [[devPath(m[2]), weight]]));
          else out.push(prop.t('IOWeight', weight));
          break;
        }
      }
    }
  }
  return out;
}

/** Properties for cgroup v1 writes (systemd's v1 names). */
export function v1Properties(writes: readonly CgroupWrite[]): Property[] {
  const out: Property[] = [];
  let quota: bigint | undefined;
  let period: bigint | undefined;
  for (const w of writes) {
    const v = w.value.trim();
    switch (w.file) {
      case 'memory.limit_in_bytes': {
        const n = limit(v);
        if (n !== undefined) out.push(prop.t('MemoryLimit', n));
        break;
      }
      case 'cpu.shares':
        if (/^\d+$/.test(v)) out.push(prop.t('CPUShares', BigInt(v)));
        break;
      case 'cpu.cfs_quota_us':
        if (/^-?\d+$/.test(v)) quota = BigInt(v);
        break;
      case 'cpu.cfs_period_us':
        if (/^\d+$/.test(v)) period = BigInt(v);
        break;
      // systemd writes BlockIOWeight to whichever of the two files the
      // I/O scheduler has (BFQ's or CFQ's), as the translation does.
      case 'blkio.weight':
      case 'blkio.bfq.weight':
        if (/^\d+$/.test(v)) out.push(prop.t('BlockIOWeight', BigInt(v)));
        break;
      case 'blkio.weight_device':
      case 'blkio.bfq.weight_device': {
        const m = /^(\d+:\d+)\s+(\d+)$/.exec(v);
        if (m) out.push(prop.ast('BlockIODeviceWeight', [[devPath(m[1]!), BigInt(m[2]!)]]));
        break;
      }
      case 'pids.max': {
        const n = limit(v);
        if (n !== undefined) out.push(prop.t('TasksMax', n));
        break;
      }
    }
  }
  if (period !== undefined) out.push(prop.t('CPUQuotaPeriodUSec', period));
  if (quota !== undefined || period !== undefined) out.push(prop.t('CPUQuotaPerSecUSec', quotaPerSec(quota ?? -1n, period ?? DEFAULT_PERIOD)));
  return out;
}

/**
 * DevicePolicy and DeviceAllow for the container's device rules (the
 * emulated end state, runc's translation): strict, with one entry per
 * allowed device, "char-MAJOR" for a whole major, "char-*" for every
 * device of a type. systemd has no deny rules and no "any major, this
 * minor" entries: those are left to hako's own rules (v1 files, the v2
 * eBPF filter, which replaces systemd's) with a warning, since systemd
 * would enforce its narrower list again if it re-realised the unit.
 */
export function deviceProperties(r: LinuxResources, opts: TranslateOptions = {}): { properties: Property[]; warnings: string[] } {
  const source = opts.source ?? 'config.json';
  const at = `${opts.at ?? '/linux/resources'}/devices`;
  const emu = DeviceEmulator.fromRules(normalizeDeviceRules(r.devices ?? [], source, at), source, at);
  const warnings: string[] = [];
  if (emu.allowsAll) return { properties: [prop.s('DevicePolicy', 'auto'), prop.ass('DeviceAllow', [])], warnings };
  const reset = [prop.s('DevicePolicy', 'strict'), prop.ass('DeviceAllow', [])];
  if (emu.defaultAllow) {
    warnings.push(`${source}: ${at}: systemd has no deny rules for devices: its unit denies every device, and hako's own device rules allow the rest`);
    return { properties: reset, warnings };
  }
  const allow: Array<[string, string]> = [];
  for (const e of emu.sorted()) {
    const kind = e.type === 'c' ? 'char' : 'block';
    let path: string;
    if (e.major === -1) {
      if (e.minor !== -1) {
        warnings.push(`${source}: ${at}: systemd cannot express ${ruleString({ ...e })} (any major, one minor); only hako's own device rules allow it`);
        continue;
      }
      path = `${kind}-*`;
    } else if (e.minor === -1) path = `${kind}-${e.major}`;
    else path = `/dev/${kind}/${e.major}:${e.minor}`;
    allow.push([path, accessString(e.access)]);
  }
  return { properties: [...reset, prop.ass('DeviceAllow', allow)], warnings };
}

/**
 * The limits as properties for a host of `mode` (devices separately:
 * deviceProperties). `facts` are the cgroup's, for an update: a memory
 * limit below the usage with checkBeforeUpdate must fail here, before
 * systemd applies it and the kernel OOM-kills the container.
 */
export function resourceProperties(r: LinuxResources, mode: SystemdMode, opts: TranslateOptions = {}, facts: V2Facts = {}): Property[] {
  const { devices: _d, ...rest } = r;
  if (mode === 'v2') return v2Properties(v2Writes(rest, facts, opts).writes);
  // On v1 systemd manages cpu, memory, blkio, pids (and devices), never
  // cpuset: the cpuset files are hako's alone there.
  return v1Properties(v1Writes(rest, {}, { ...opts, unifiedElsewhere: mode === 'hybrid' }).writes);
}

// --- org.systemd.property.<Name> annotations ---------------------------------

export const PROPERTY_ANNOTATION = 'org.systemd.property.';

/**
 * Extra unit properties from annotations, as runc takes them: the value is
 * a GVariant text (the subset systemd's properties use: true/false,
 * 'strings', integers with an optional type word such as "uint64 10",
 * [arrays of strings or integers]), and a name ending in "Sec" (after a
 * lowercase letter) is converted to its "USec" property, the value from
 * seconds to microseconds: org.systemd.property.TimeoutStopSec=5 is
 * TimeoutStopUSec=5000000.
 */
export function annotationProperties(annotations: Readonly<Record<string, string>> | undefined, source = 'config.json'): Property[] {
  const out: Property[] = [];
  for (const [k, v] of Object.entries(annotations ?? {})) {
    if (!k.startsWith(PROPERTY_ANNOTATION)) continue;
    let name = k.slice(PROPERTY_ANNOTATION.length);
    const at = `/annotations/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (!/^[A-Z][A-Za-z0-9]{2,}$/.test(name))
      throw settingError(source, at, `${JSON.stringify(name)} is not a systemd property name (a capital letter, then letters and digits)`);
    let value: Variant;
    try {
      value = parseGVariant(v);
    } catch (e) {
      throw settingError(source, at, `${JSON.stringify(v)}: ${(e as Error).message}`);
    }
    if (/[a-z]Sec$/.test(name)) {
      name = `${name.slice(0, -3)}USec`;
      value = secToUSec(value, (why) => settingError(source, at, `${JSON.stringify(v)}: ${why}`));
    }
    out.push([name, value]);
  }
  return out;
}

function secToUSec(v: Variant, fail: (why: string) => Error): Variant {
  if (typeof v.value === 'number' && 'ydi'.includes(v.signature) && v.value >= 0) return new Variant('t', BigInt(Math.round(v.value * 1e6)));
  if ((typeof v.value === 'number' || typeof v.value === 'bigint') && 'ynqiuxt'.includes(v.signature) && BigInt(v.value) >= 0n)
    return new Variant('t', BigInt(v.value) * 1_000_000n);
  throw fail('a time in seconds must be a non-negative number');
}

const TYPE_WORDS: Readonly<Record<string, string>> = { byte: 'y', int16: 'n', uint16: 'q', int32: 'i', uint32: 'u', int64: 'x', uint64: 't', double: 'd' };

/** The GVariant text subset (see annotationProperties). */
export function parseGVariant(text: string): Variant {
  let s = text.trim();
  let forced: string | undefined;
  const typed = /^(?:@([ynqiuxtd])|(byte|int16|uint16|int32|uint32|int64|uint64|double))\s+(.*)$/s.exec(s);
  if (typed) {
    forced = typed[1] ?? TYPE_WORDS[typed[2]!];
    s = typed[3]!.trim();
  }
  if (!forced && (s === 'true' || s === 'false')) return new Variant('b', s === 'true');
  if (!forced && (s.startsWith("'") || s.startsWith('"'))) return new Variant('s', parseString(s).value);
  if (!forced && s.startsWith('[')) {
    if (!s.endsWith(']')) throw new Error('an array must end with "]"');
    const body = s.slice(1, -1).trim();
    if (body === '') throw new Error('an empty array has no type (write it as @as [])');
    if (body.startsWith("'") || body.startsWith('"')) {
      const items: string[] = [];
      let rest = body;
      for (;;) {
        const { value, end } = parseString(rest);
        items.push(value);
        rest = rest.slice(end).trim();
        if (rest === '') break;
        if (!rest.startsWith(',')) throw new Error('array items are separated by ","');
        rest = rest.slice(1).trim();
      }
      return new Variant('as', items);
    }
    const nums = body.split(',').map((x) => x.trim());
    if (!nums.every((n) => /^-?\d+$/.test(n))) throw new Error('only arrays of strings or of integers are supported');
    return new Variant(
      'ai',
      nums.map((n) => checkInt('i', BigInt(n)) as number),
    );
  }
  const code = forced ?? (/^-?\d+$/.test(s) ? 'i' : /^-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(s) ? 'd' : undefined);
  if (!code) throw new Error('not a value this parser knows (a boolean, a quoted string, a number or an array)');
  if (code === 'd') {
    const n = Number(s);
    if (!Number.isFinite(n)) throw new Error('not a number');
    return new Variant('d', n);
  }
  if (!/^-?\d+$/.test(s)) throw new Error(`not an integer`);
  return new Variant(code, checkInt(code, BigInt(s)));
}

const RANGES: Readonly<Record<string, [bigint, bigint]>> = {
  y: [0n, 255n],
  n: [-32768n, 32767n],
  q: [0n, 65535n],
  i: [-(2n ** 31n), 2n ** 31n - 1n],
  u: [0n, 2n ** 32n - 1n],
  x: [-(2n ** 63n), 2n ** 63n - 1n],
  t: [0n, 2n ** 64n - 1n],
};

function checkInt(code: string, n: bigint): number | bigint {
  const [lo, hi] = RANGES[code]!;
  if (n < lo || n > hi) throw new Error(`${n} is out of range for its type`);
  return code === 'x' || code === 't' ? n : Number(n);
}

function parseString(s: string): { value: string; end: number } {
  const q = s[0]!;
  let out = '';
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[++i];
      if (n === undefined) break;
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
      continue;
    }
    if (c === q) return { value: out, end: i + 1 };
    out += c;
  }
  throw new Error('unterminated string');
}
