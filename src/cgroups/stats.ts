// `events --stats` data: what runc reports (runc types/events.go), read from
// v1 controllers or a v2 cgroup. Counters are bigint because the kernel's
// "unlimited" (2^64-1 on v2, 2^63-4096 on v1) does not survive a double,
// and statsJson prints them digit for digit like Go does.
//
// The parsers take a `read(file)` that returns undefined for a missing
// file, so they are tested on strings and used on real cgroups alike.
import { U64_MAX } from './writes.js';

export interface MemoryEntry {
  limit: bigint;
  usage: bigint;
  max: bigint;
  failcnt: bigint;
}

export interface BlkioEntry {
  major: bigint;
  minor: bigint;
  op: string;
  value: bigint;
}

export interface PsiData {
  avg10: number;
  avg60: number;
  avg300: number;
  total: bigint;
}

export interface PsiStats {
  some: PsiData;
  full: PsiData;
}

export interface CgroupStats {
  cpu: {
    usage: { total: bigint; percpu: bigint[]; percpu_kernel: bigint[]; percpu_user: bigint[]; kernel: bigint; user: bigint };
    throttling: { periods: bigint; throttledPeriods: bigint; throttledTime: bigint };
    psi?: PsiStats;
  };
  cpuset: {
    cpus: number[];
    cpu_exclusive: bigint;
    mems: number[];
    mem_hardwall: bigint;
    mem_exclusive: bigint;
    memory_migrate: bigint;
    memory_spread_page: bigint;
    memory_spread_slab: bigint;
    memory_pressure: bigint;
    sched_load_balance: bigint;
    sched_relax_domain_level: bigint;
  };
  memory: {
    cache: bigint;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTCP: MemoryEntry;
    raw: Record<string, bigint>;
    psi?: PsiStats;
  };
  pids: { current: bigint; limit: bigint };
  blkio: {
    ioServiceBytesRecursive: BlkioEntry[];
    ioServicedRecursive: BlkioEntry[];
    ioQueueRecursive: BlkioEntry[];
    ioServiceTimeRecursive: BlkioEntry[];
    ioWaitTimeRecursive: BlkioEntry[];
    ioMergedRecursive: BlkioEntry[];
    ioTimeRecursive: BlkioEntry[];
    sectorsRecursive: BlkioEntry[];
    psi?: PsiStats;
  };
  hugetlb: Record<string, { usage: bigint; max: bigint; failcnt: bigint }>;
}

/** Reads a file of a cgroup; undefined when it does not exist. */
export type Reader = (file: string) => string | undefined;

const memoryEntry = (): MemoryEntry => ({ limit: 0n, usage: 0n, max: 0n, failcnt: 0n });

export function emptyStats(): CgroupStats {
  return {
    cpu: {
      usage: { total: 0n, percpu: [], percpu_kernel: [], percpu_user: [], kernel: 0n, user: 0n },
      throttling: { periods: 0n, throttledPeriods: 0n, throttledTime: 0n },
    },
    cpuset: {
      cpus: [],
      cpu_exclusive: 0n,
      mems: [],
      mem_hardwall: 0n,
      mem_exclusive: 0n,
      memory_migrate: 0n,
      memory_spread_page: 0n,
      memory_spread_slab: 0n,
      memory_pressure: 0n,
      sched_load_balance: 0n,
      sched_relax_domain_level: 0n,
    },
    memory: { cache: 0n, usage: memoryEntry(), swap: memoryEntry(), kernel: memoryEntry(), kernelTCP: memoryEntry(), raw: {} },
    pids: { current: 0n, limit: 0n },
    blkio: {
      ioServiceBytesRecursive: [],
      ioServicedRecursive: [],
      ioQueueRecursive: [],
      ioServiceTimeRecursive: [],
      ioWaitTimeRecursive: [],
      ioMergedRecursive: [],
      ioTimeRecursive: [],
      sectorsRecursive: [],
    },
    hugetlb: {},
  };
}

/** A cgroup number: "max" is the uint64 maximum; a negative one (v1 "-1") reads as 0, as in runc. */
export function parseUint(text: string): bigint {
  const t = text.trim();
  if (t === 'max') return U64_MAX;
  if (!/^-?\d+$/.test(t)) throw new Error(`not a number: ${JSON.stringify(t)}`);
  const n = BigInt(t);
  return n < 0n ? 0n : n;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events...). */
export function parseKeyValues(text: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of text.split('\n')) {
    const [k, v, extra] = line.trim().split(/\s+/);
    if (!k || v === undefined || extra !== undefined || !/^-?\d+$|^max$/.test(v)) continue;
    out.set(k, parseUint(v));
  }
  return out;
}

/** A CPU or memory-node list such as "0-3,7". */
export function parseList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-');
    const from = Number(a);
    const to = b === undefined ? from : Number(b);
    if (!Number.isInteger(from) || !Number.isInteger(to) || from > to) throw new Error(`not a CPU list: ${JSON.stringify(text.trim())}`);
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

export function parsePsi(text: string): PsiStats {
  const zero = (): PsiData => ({ avg10: 0, avg60: 0, avg300: 0, total: 0n });
  const psi: PsiStats = { some: zero(), full: zero() };
  for (const line of text.split('\n')) {
    const [kind, ...fields] = line.trim().split(/\s+/);
    if (kind !== 'some' && kind !== 'full') continue;
    const d = psi[kind];
    for (const f of fields) {
      const [k, v] = f.split('=');
      if (k === 'total') d.total = parseUint(v ?? '0');
      else if (k === 'avg10' || k === 'avg60' || k === 'avg300') d[k] = Number(v);
    }
  }
  return psi;
}

const num = (read: Reader, file: string): bigint | undefined => {
  const t = read(file);
  return t === undefined ? undefined : parseUint(t);
};

// --- cgroup v1 -------------------------------------------------------------

/** Directories of the v1 controllers the stats come from (absent: not mounted). */
export interface V1StatDirs {
  cpu?: Reader;
  cpuacct?: Reader;
  cpuset?: Reader;
  memory?: Reader;
  pids?: Reader;
  blkio?: Reader;
  hugetlb?: Reader;
}

// USER_HZ: cpuacct.stat counts in clock ticks, 100 per second on Linux.
const CLOCK_TICKS = 100n;

export function v1Stats(dirs: V1StatDirs, hugePageSizes: readonly string[]): CgroupStats {
  const s = emptyStats();
  if (dirs.cpu) {
    const kv = parseKeyValues(dirs.cpu('cpu.stat') ?? '');
    s.cpu.throttling = { periods: kv.get('nr_periods') ?? 0n, throttledPeriods: kv.get('nr_throttled') ?? 0n, throttledTime: kv.get('throttled_time') ?? 0n };
  }
  if (dirs.cpuacct) {
    const read = dirs.cpuacct;
    const st = parseKeyValues(read('cpuacct.stat') ?? '');
    s.cpu.usage.user = ((st.get('user') ?? 0n) * 1_000_000_000n) / CLOCK_TICKS;
    s.cpu.usage.kernel = ((st.get('system') ?? 0n) * 1_000_000_000n) / CLOCK_TICKS;
    s.cpu.usage.total = num(read, 'cpuacct.usage') ?? 0n;
    s.cpu.usage.percpu = (read('cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter(Boolean).map(parseUint);
    const all = read('cpuacct.usage_all');
    if (all !== undefined) {
      // "cpu user system" header, then one line per CPU.
      for (const line of all.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length < 3) continue;
        s.cpu.usage.percpu_user.push(parseUint(f[1]!));
        s.cpu.usage.percpu_kernel.push(parseUint(f[2]!));
      }
    }
  }
  if (dirs.cpuset) {
    const read = dirs.cpuset;
    const c = s.cpuset;
    c.cpus = parseList(read('cpuset.cpus') ?? '');
    c.mems = parseList(read('cpuset.mems') ?? '');
    const n = (f: string) => num(read, `cpuset.${f}`) ?? 0n;
    c.cpu_exclusive = n('cpu_exclusive');
    c.mem_hardwall = n('mem_hardwall');
    c.mem_exclusive = n('mem_exclusive');
    c.memory_migrate = n('memory_migrate');
    c.memory_spread_page = n('memory_spread_page');
    c.memory_spread_slab = n('memory_spread_slab');
    c.memory_pressure = n('memory_pressure');
    c.sched_load_balance = n('sched_load_balance');
    // The only signed one: -1 means "system default".
    const lvl = read('cpuset.sched_relax_domain_level');
    c.sched_relax_domain_level = lvl === undefined ? 0n : BigInt(lvl.trim());
  }
  if (dirs.memory) {
    const read = dirs.memory;
    const raw = read('memory.stat');
    if (raw !== undefined) {
      s.memory.raw = Object.fromEntries(parseKeyValues(raw));
      s.memory.cache = s.memory.raw.cache ?? 0n;
      const entry = (prefix: string, optional: boolean): MemoryEntry => {
        const usage = num(read, `${prefix}.usage_in_bytes`);
        if (usage === undefined) {
          if (optional) return memoryEntry();
          throw new Error(`${prefix}.usage_in_bytes is missing`);
        }
        return {
          usage,
          max: num(read, `${prefix}.max_usage_in_bytes`) ?? 0n,
          failcnt: num(read, `${prefix}.failcnt`) ?? 0n,
          limit: num(read, `${prefix}.limit_in_bytes`) ?? 0n,
        };
      };
      s.memory.usage = entry('memory', false);
      s.memory.swap = entry('memory.memsw', true);
      s.memory.kernel = entry('memory.kmem', true);
      s.memory.kernelTCP = entry('memory.kmem.tcp', true);
    }
  }
  if (dirs.pids) {
    const current = num(dirs.pids, 'pids.current');
    if (current !== undefined) {
      const max = num(dirs.pids, 'pids.max') ?? U64_MAX;
      // runc reports "no limit" as 0.
      s.pids = { current, limit: max === U64_MAX ? 0n : max };
    }
  }
  if (dirs.blkio) v1Blkio(dirs.blkio, s);
  if (dirs.hugetlb) {
    for (const size of hugePageSizes) {
      // Reservation counters (kernel 5.7) are what the limits apply to.
      for (const prefix of [`hugetlb.${size}.rsvd`, `hugetlb.${size}`]) {
        const usage = num(dirs.hugetlb, `${prefix}.usage_in_bytes`);
        if (usage === undefined) continue;
        s.hugetlb[size] = { usage, max: num(dirs.hugetlb, `${prefix}.max_usage_in_bytes`) ?? 0n, failcnt: num(dirs.hugetlb, `${prefix}.failcnt`) ?? 0n };
        break;
      }
    }
  }
  return s;
}

/** blkio.* statistics lines: "8:0 Read 4096", "8:0 4096", "Total 4096". */
export function parseBlkio(text: string): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line
      .trim()
      .split(/[\s:]+/)
      .filter(Boolean);
    if (f.length < 3) continue; // "Total N" and blank lines
    const [major, minor] = [BigInt(f[0]!), BigInt(f[1]!)];
    if (f.length === 4) out.push({ major, minor, op: f[2]!, value: parseUint(f[3]!) });
    else out.push({ major, minor, op: '', value: parseUint(f[2]!) });
  }
  return out;
}

type BlkioKey = Exclude<keyof CgroupStats['blkio'], 'psi'>;

// runc's order: the first group whose first file has entries wins (BFQ
// debug stats, BFQ, CFQ, then the throttle layer, which always exists).
const BLKIO_GROUPS: ReadonlyArray<ReadonlyArray<[string, BlkioKey]>> = [
  [
    ['blkio.bfq.sectors_recursive', 'sectorsRecursive'],
    ['blkio.bfq.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.bfq.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.bfq.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.bfq.io_queued_recursive', 'ioQueueRecursive'],
    ['blkio.bfq.time_recursive', 'ioTimeRecursive'],
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.sectors_recursive', 'sectorsRecursive'],
    ['blkio.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.io_wait_time_recursive', 'ioWaitTimeRecursive'],
    ['blkio.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.io_queued_recursive', 'ioQueueRecursive'],
    ['blkio.time_recursive', 'ioTimeRecursive'],
    ['blkio.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced_recursive', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ],
  [
    ['blkio.throttle.io_serviced', 'ioServicedRecursive'],
    ['blkio.throttle.io_service_bytes', 'ioServiceBytesRecursive'],
  ],
];

function v1Blkio(read: Reader, s: CgroupStats): void {
  for (const group of BLKIO_GROUPS) {
    const first = read(group[0]![0]);
    if (first === undefined) continue;
    const entries = parseBlkio(first);
    if (entries.length === 0) continue;
    s.blkio[group[0]![1]] = entries;
    for (const [file, field] of group.slice(1)) s.blkio[field] = parseBlkio(read(file) ?? '');
    return;
  }
}

// --- cgroup v2 -------------------------------------------------------------

export function v2Stats(read: Reader, hugePageSizes: readonly string[]): CgroupStats {
  const s = emptyStats();
  const psi = (file: string) => {
    const t = read(file);
    return t === undefined ? undefined : parsePsi(t);
  };

  const current = num(read, 'pids.current');
  if (current !== undefined) {
    const max = num(read, 'pids.max') ?? U64_MAX;
    s.pids = { current, limit: max === U64_MAX ? 0n : max };
  } else {
    // Without the pids controller, count the members.
    const procs = read('cgroup.procs') ?? '';
    s.pids = { current: BigInt(procs.split('\n').filter((l) => l.trim() !== '').length), limit: 0n };
  }

  const memStat = read('memory.stat');
  if (memStat !== undefined) {
    s.memory.raw = Object.fromEntries(parseKeyValues(memStat));
    s.memory.cache = s.memory.raw.file ?? 0n;
    const entry = (prefix: string): MemoryEntry | undefined => {
      const usage = num(read, `${prefix}.current`);
      if (usage === undefined) return undefined;
      // memory.peak: kernel 5.19; memory.swap.peak: 6.5.
      return { usage, limit: num(read, `${prefix}.max`) ?? U64_MAX, max: num(read, `${prefix}.peak`) ?? 0n, failcnt: 0n };
    };
    const usage = entry('memory');
    if (usage) {
      s.memory.usage = usage;
      // v1 reported memory+swap; keep that meaning for consumers of the
      // shape. Its peak cannot be combined, hence 0.
      const swap = entry('memory.swap') ?? memoryEntry();
      s.memory.swap = {
        usage: swap.usage + usage.usage,
        limit: swap.limit === U64_MAX || usage.limit === U64_MAX ? U64_MAX : swap.limit + usage.limit,
        max: 0n,
        failcnt: 0n,
      };
    }
    s.memory.psi = psi('memory.pressure');
  }

  const io = read('io.stat');
  if (io !== undefined) {
    // "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
    for (const line of io.split('\n')) {
      const [dev, ...fields] = line.trim().split(/\s+/);
      const m = /^(\d+):(\d+)$/.exec(dev ?? '');
      if (!m) continue;
      const [major, minor] = [BigInt(m[1]!), BigInt(m[2]!)];
      for (const f of fields) {
        const [k, v] = f.split('=');
        const to: Record<string, [BlkioKey, string]> = {
          rbytes: ['ioServiceBytesRecursive', 'Read'],
          wbytes: ['ioServiceBytesRecursive', 'Write'],
          rios: ['ioServicedRecursive', 'Read'],
          wios: ['ioServicedRecursive', 'Write'],
        };
        const dest = k === undefined ? undefined : to[k];
        if (dest && v !== undefined) s.blkio[dest[0]].push({ major, minor, op: dest[1], value: parseUint(v) });
      }
    }
    s.blkio.psi = psi('io.pressure');
  }

  const cpu = read('cpu.stat');
  if (cpu !== undefined) {
    const kv = parseKeyValues(cpu);
    const us = (k: string) => (kv.get(k) ?? 0n) * 1000n;
    s.cpu.usage.total = us('usage_usec');
    s.cpu.usage.user = us('user_usec');
    s.cpu.usage.kernel = us('system_usec');
    s.cpu.throttling = { periods: kv.get('nr_periods') ?? 0n, throttledPeriods: kv.get('nr_throttled') ?? 0n, throttledTime: us('throttled_usec') };
    s.cpu.psi = psi('cpu.pressure');
  }

  s.hugetlb = v2Hugetlb(read, hugePageSizes);
  return s;
}

/** hugetlb counters of a cgroup2 cgroup (also a hybrid host's unified tree). */
export function v2Hugetlb(read: Reader, hugePageSizes: readonly string[]): CgroupStats['hugetlb'] {
  const out: CgroupStats['hugetlb'] = {};
  for (const size of hugePageSizes) {
    const usage = num(read, `hugetlb.${size}.rsvd.current`) ?? num(read, `hugetlb.${size}.current`);
    if (usage === undefined) continue;
    // v2 has no peak; "max" in hugetlb.<size>.events counts refusals.
    const events = parseKeyValues(read(`hugetlb.${size}.events`) ?? '');
    out[size] = { usage, max: 0n, failcnt: events.get('max') ?? 0n };
  }
  return out;
}

/**
 * Huge page sizes as cgroup files name them, from the directory names in
 * /sys/kernel/mm/hugepages ("hugepages-2048kB" → "2MB").
 */
export function hugePageSizesFrom(names: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    const m = /^hugepages-(\d+)kB$/.exec(n);
    if (!m) continue;
    const kb = Number(m[1]);
    out.push(kb >= 1 << 20 ? `${kb >> 20}GB` : kb >= 1 << 10 ? `${kb >> 10}MB` : `${kb}KB`);
  }
  return out;
}

// --- JSON, as runc prints it ----------------------------------------------

/** A JSON fragment written verbatim (bigints, pre-encoded parts). */
class Raw {
  constructor(readonly text: string) {}
}

function encode(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(encode).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${JSON.stringify(k)}:${encode(x)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

// Go's encoding/json: `omitempty` drops zero numbers, empty strings and
// empty slices or maps; maps are written with sorted keys.
const omit = (n: bigint) => (n === 0n ? undefined : n);
const omitList = <T>(a: T[]) => (a.length === 0 ? undefined : a);
const sortedMap = <T>(m: Record<string, T>, f: (x: T) => unknown) =>
  Object.fromEntries(
    Object.keys(m)
      .sort()
      .map((k) => [k, f(m[k]!)]),
  );

function psiJson(p: PsiStats | undefined): unknown {
  if (!p) return undefined;
  const d = (x: PsiData) => ({ avg10: x.avg10, avg60: x.avg60, avg300: x.avg300, total: x.total });
  return { some: d(p.some), full: d(p.full) };
}

const memJson = (e: MemoryEntry) => ({ limit: e.limit, usage: omit(e.usage), max: omit(e.max), failcnt: e.failcnt });
const blkioJson = (l: BlkioEntry[]) =>
  omitList(l.map((e) => ({ major: omit(e.major), minor: omit(e.minor), op: e.op === '' ? undefined : e.op, value: omit(e.value) })));

/** The `data` object of runc's stats event, field for field (runc 1.1 layout, plus PSI when the kernel has it). */
export function statsData(s: CgroupStats): unknown {
  const u = s.cpu.usage;
  const t = s.cpu.throttling;
  const cs = s.cpuset;
  const mem = s.memory;
  const raw = Object.keys(mem.raw).length === 0 ? undefined : sortedMap(mem.raw, (x) => x);
  return {
    cpu: {
      usage: {
        total: omit(u.total),
        percpu: omitList(u.percpu),
        percpu_kernel: omitList(u.percpu_kernel),
        percpu_user: omitList(u.percpu_user),
        kernel: u.kernel,
        user: u.user,
      },
      throttling: { periods: omit(t.periods), throttledPeriods: omit(t.throttledPeriods), throttledTime: omit(t.throttledTime) },
      psi: psiJson(s.cpu.psi),
    },
    cpuset: {
      cpus: omitList(cs.cpus),
      cpu_exclusive: cs.cpu_exclusive,
      mems: omitList(cs.mems),
      mem_hardwall: cs.mem_hardwall,
      mem_exclusive: cs.mem_exclusive,
      memory_migrate: cs.memory_migrate,
      memory_spread_page: cs.memory_spread_page,
      memory_spread_slab: cs.memory_spread_slab,
      memory_pressure: cs.memory_pressure,
      sched_load_balance: cs.sched_load_balance,
      sched_relax_domain_level: cs.sched_relax_domain_level,
    },
    memory: {
      cache: omit(mem.cache),
      usage: memJson(mem.usage),
      swap: memJson(mem.swap),
      kernel: memJson(mem.kernel),
      kernelTCP: memJson(mem.kernelTCP),
      raw,
      psi: psiJson(mem.psi),
    },
    pids: { current: omit(s.pids.current), limit: omit(s.pids.limit) },
    blkio: {
      ioServiceBytesRecursive: blkioJson(s.blkio.ioServiceBytesRecursive),
      ioServicedRecursive: blkioJson(s.blkio.ioServicedRecursive),
      ioQueueRecursive: blkioJson(s.blkio.ioQueueRecursive),
      ioServiceTimeRecursive: blkioJson(s.blkio.ioServiceTimeRecursive),
      ioWaitTimeRecursive: blkioJson(s.blkio.ioWaitTimeRecursive),
      ioMergedRecursive: blkioJson(s.blkio.ioMergedRecursive),
      ioTimeRecursive: blkioJson(s.blkio.ioTimeRecursive),
      sectorsRecursive: blkioJson(s.blkio.sectorsRecursive),
      psi: psiJson(s.blkio.psi),
    },
    hugetlb: sortedMap(s.hugetlb, (h) => ({ usage: omit(h.usage), max: omit(h.max), failcnt: h.failcnt })),
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** One line of `runc events --stats`: `{"type":"stats","id":"...","data":{...}}`. */
export function statsEventJson(id: string, s: CgroupStats): string {
  return encode({ type: 'stats', id, data: new Raw(encode(statsData(s))) });
}

/** Any value with bigints, as JSON (for callers building other events). */
export function toJson(v: unknown): string {
  return encode(v);
}
