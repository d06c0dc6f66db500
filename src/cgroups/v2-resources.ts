// linux.resources → cgroup v2 file writes, following runc's fs2 driver
// (opencontainers/cgroups fs2/*.go) where the spec is silent. Pure: the few
// facts about the cgroup that change the outcome come in as V2Facts.
//
// Settings with no v2 equivalent (swappiness, disableOOMKiller, kernel
// memory, leaf weights, net_cls/net_prio) are ignored with a warning, as
// runc and crun ignore them (silently): configs written for v1 hosts keep
// working, and the user can see what did not apply. Realtime CPU settings
// are written when the kernel has the files, else warned about.
import type { LinuxResources } from '../spec/types.js';
import { normalizeDeviceRules } from './devices.js';
import { deviceFilterProgram } from './devices-bpf.js';
import { Builder, devNum, i64, memoryValue, pidsValue, rdmaLine, swappinessValue, u64, type TranslateOptions, type Translation } from './writes.js';

export interface V2Facts {
  /** memory.current, for checkBeforeUpdate. */
  memoryUsage?: bigint;
  /** The content of io.bfq.weight; undefined when the file is absent (no BFQ). */
  ioBfqWeight?: string;
}

export interface V2Translation extends Translation {
  /** The eBPF device filter (struct bpf_insn array) when linux.resources.devices has rules. */
  deviceProgram?: Uint8Array;
}

/**
 * runc's ConvertCPUSharesToCgroupV2Value (since runc 1.3 / opencontainers
 * cgroups 0.0.2): a quadratic in log2(shares) that maps the v1 range
 * [2, 262144] onto v2's [1, 10000] and, unlike the older linear formula
 * (1 + (shares-2)*9999/262142, which gave 39), the default 1024 onto the
 * default 100. crun uses the same curve.
 */
export function cpuSharesToWeight(shares: bigint): bigint {
  if (shares === 0n) return 0n;
  if (shares <= 2n) return 1n;
  if (shares >= 262144n) return 10000n;
  const l = Math.log2(Number(shares));
  const exponent = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
  return BigInt(Math.ceil(10 ** exponent));
}

/**
 * runc's ConvertBlkIOToIOWeightValue: [10, 1000] linearly onto [1, 10000].
 * Weights below 10 (valid for BFQ, not for io.weight) clamp to 1 where runc
 * would underflow.
 */
export function blkioWeightToIoWeight(w: number): bigint {
  if (w === 0) return 0n;
  if (w <= 10) return 1n;
  const v = 1n + ((BigInt(w) - 10n) * 9999n) / 990n;
  return v > 10000n ? 10000n : v;
}

/**
 * runc's ConvertMemorySwapToCgroupV2Value: OCI swap is memory+swap, v2's
 * memory.swap.max is swap alone.
 */
function swapForV2(b: Builder, swap: bigint, limit: bigint): bigint {
  // Unlimited memory with swap unset means "both unlimited", as on v1.
  if (limit === -1n && swap === 0n) return -1n;
  if (swap === -1n || swap === 0n) return swap;
  if (limit === -1n) return swap;
  if (limit === 0n) b.fail('memory/swap', 'cannot be set without memory/limit: on cgroup v2 swap is limited separately, as swap minus limit');
  if (swap < limit) b.fail('memory/swap', `is memory+swap and must not be lower than memory/limit (${limit})`);
  return swap - limit;
}

/** -1 → "max", 0 → not written. */
function maxOrNumber(n: bigint): string {
  return n === -1n ? 'max' : String(n);
}

export function v2Writes(r: LinuxResources, facts: V2Facts = {}, opts: TranslateOptions = {}): V2Translation {
  const b = new Builder(opts);

  if (r.pids?.limit !== undefined) b.push('pids', 'pids.max', pidsValue(r.pids.limit), 'pids/limit');

  if (r.memory) v2Memory(b, r.memory, facts);

  if (r.blockIO) v2BlockIO(b, r.blockIO, facts);

  const c = r.cpu;
  if (c) v2Cpu(b, c);

  let deviceProgram: Uint8Array | undefined;
  if (r.devices && r.devices.length > 0) {
    const at = `${b.at}/devices`;
    deviceProgram = deviceFilterProgram(
      normalizeDeviceRules(r.devices, b.source, at, (w) => b.warnings.push(w)),
      b.source,
      at,
    );
  }

  if (c?.cpus) b.push('cpuset', 'cpuset.cpus', c.cpus, 'cpu/cpus');
  if (c?.mems) b.push('cpuset', 'cpuset.mems', c.mems, 'cpu/mems');

  r.hugepageLimits?.forEach((h, i) => {
    const rel = `hugepageLimits/${i}`;
    const prefix = `hugetlb.${hugePageSize(b, h.pageSize, `${rel}/pageSize`)}`;
    const v = String(u64(h.limit));
    b.push('hugetlb', `${prefix}.max`, v, rel, { missing: `huge page size ${h.pageSize} is not supported by this host` });
    // Reservations (kernel 5.7) are limited too, so that a mapping cannot
    // reserve pages it would later fault on beyond the limit.
    b.push('hugetlb', `${prefix}.rsvd.max`, v, rel, { ifMissing: 'skip' });
  });

  for (const [dev, l] of Object.entries(r.rdma ?? {})) {
    const line = l && rdmaLine(b, dev, l);
    if (line) b.push('rdma', 'rdma.max', line, `rdma/${b.token(dev)}`);
  }

  if (r.network?.classID !== undefined) b.warn('network/classID', 'ignored: cgroup v2 has no net_cls controller');
  if (r.network?.priorities?.length) b.warn('network/priorities', 'ignored: cgroup v2 has no net_prio controller');

  // Last, so that an explicit unified value wins over a converted one.
  for (const [k, v] of Object.entries(r.unified ?? {})) {
    if (v === undefined) continue;
    const rel = `unified/${b.token(k)}`;
    b.push(unifiedController(b, k, rel), k, v, rel, { byLine: true });
  }

  return { ...b.result(), ...(deviceProgram ? { deviceProgram } : {}) };
}

/** linux.resources.memory: memory.max, memory.low, memory.swap.max; what v2 lacks is warned about. */
function v2Memory(b: Builder, m: NonNullable<LinuxResources['memory']>, facts: V2Facts): void {
  const limit = memoryValue(b, m.limit, 'memory/limit');
  const reservation = memoryValue(b, m.reservation, 'memory/reservation');
  const swap = memoryValue(b, m.swap, 'memory/swap');
  if (limit !== 0n || reservation !== 0n || swap !== 0n) {
    // v1 refuses a limit below the current usage; v2 takes it and
    // OOM-kills. checkBeforeUpdate asks for v1's behaviour.
    const usage = facts.memoryUsage;
    if (m.checkBeforeUpdate && usage !== undefined) {
      if (swap > 0n && swap <= usage) b.fail('memory/swap', `${swap} is not above the current usage of ${usage} bytes (checkBeforeUpdate)`);
      if (limit > 0n && limit <= usage) b.fail('memory/limit', `${limit} is not above the current usage of ${usage} bytes (checkBeforeUpdate)`);
    }
    const v2swap = swapForV2(b, swap, limit);
    // swap == limit leaves no room for swap: write "0", not nothing.
    const swapStr = v2swap === 0n ? (swap > 0n ? '0' : '') : maxOrNumber(v2swap);
    if (swapStr !== '') {
      // Without swap accounting there is no memory.swap.max; "max" and
      // "0" then already hold (runc ignores them the same way).
      const quiet = swapStr === 'max' || swapStr === '0';
      b.push('memory', 'memory.swap.max', swapStr, 'memory/swap', {
        ifMissing: quiet ? 'skip' : 'error',
        missing: 'swap accounting is not available on this host (memory.swap.max is missing)',
      });
    }
    if (limit !== 0n) b.push('memory', 'memory.max', maxOrNumber(limit), 'memory/limit');
    if (reservation !== 0n) b.push('memory', 'memory.low', maxOrNumber(reservation), 'memory/reservation');
  }
  const sw = swappinessValue(b, m.swappiness);
  if (sw !== undefined) {
    b.push('memory', 'memory.swappiness', String(sw), 'memory/swappiness', { ifMissing: 'warn', missing: 'ignored: cgroup v2 has no per-cgroup swappiness' });
  }
  if (m.disableOOMKiller) b.warn('memory/disableOOMKiller', 'ignored: the OOM killer cannot be disabled on cgroup v2');
  if (m.kernel !== undefined) b.warn('memory/kernel', 'ignored: kernel memory limits are deprecated and not supported');
  if (m.kernelTCP !== undefined) b.warn('memory/kernelTCP', 'ignored: cgroup v2 has no TCP kernel memory limit (socket buffers count in memory.max)');
}

/** linux.resources.blockIO: io.weight (or io.bfq.weight) and io.max. */
function v2BlockIO(b: Builder, io: NonNullable<LinuxResources['blockIO']>, facts: V2Facts): void {
  const bfq = facts.ioBfqWeight !== undefined;
  // Per-device BFQ weights (kernel 5.4) show as "default N" lines; an
  // older io.bfq.weight holds just the number.
  const bfqPerDevice = bfq && !/^\s*\d+\s*$/.test(facts.ioBfqWeight ?? '');
  if (io.weight !== undefined && io.weight !== 0) {
    if (bfq) b.push('io', 'io.bfq.weight', String(io.weight), 'blockIO/weight');
    else b.push('io', 'io.weight', String(blkioWeightToIoWeight(io.weight)), 'blockIO/weight');
  }
  if (io.leafWeight !== undefined) b.warn('blockIO/leafWeight', 'ignored: cgroup v2 has no leaf weights');
  io.weightDevice?.forEach((d, i) => {
    const rel = `blockIO/weightDevice/${i}`;
    const dev = devNum(b, d.major, d.minor, rel);
    if (d.weight !== undefined && d.weight !== 0) {
      // runc skips per-device weights without BFQ; io.weight takes
      // "MAJ:MIN WEIGHT" too, so use it rather than drop the setting.
      if (bfqPerDevice) b.push('io', 'io.bfq.weight', `${dev} ${d.weight}`, `${rel}/weight`);
      else b.push('io', 'io.weight', `${dev} ${blkioWeightToIoWeight(d.weight)}`, `${rel}/weight`);
    }
    if (d.leafWeight !== undefined) b.warn(`${rel}/leafWeight`, 'ignored: cgroup v2 has no leaf weights');
  });
  const throttle = (list: typeof io.throttleReadBpsDevice, field: string, key: string) =>
    list?.forEach((t, i) => b.push('io', 'io.max', `${devNum(b, t.major, t.minor, `blockIO/${field}/${i}`)} ${key}=${u64(t.rate)}`, `blockIO/${field}/${i}`));
  throttle(io.throttleReadBpsDevice, 'throttleReadBpsDevice', 'rbps');
  throttle(io.throttleWriteBpsDevice, 'throttleWriteBpsDevice', 'wbps');
  throttle(io.throttleReadIOPSDevice, 'throttleReadIOPSDevice', 'riops');
  throttle(io.throttleWriteIOPSDevice, 'throttleWriteIOPSDevice', 'wiops');
}

/** linux.resources.cpu, but cpus and mems (cpuset's, written after the device filter). */
function v2Cpu(b: Builder, c: NonNullable<LinuxResources['cpu']>): void {
  const quota = c.quota === undefined ? 0n : i64(c.quota);
  const period = c.period === undefined ? 0n : u64(c.period);
  if (c.idle !== undefined) b.push('cpu', 'cpu.idle', String(i64(c.idle)), 'cpu/idle');
  if (c.shares !== undefined && c.shares !== 0) b.push('cpu', 'cpu.weight', String(cpuSharesToWeight(u64(c.shares))), 'cpu/shares');
  // A burst above the current quota is refused until the new quota is in.
  if (c.burst !== undefined) b.push('cpu', 'cpu.max.burst', String(u64(c.burst)), 'cpu/burst', { retryOnEinval: quota !== 0n });
  if (quota !== 0n || period !== 0n) {
    // cpu.max is "QUOTA PERIOD"; the kernel's default period is 100ms.
    b.push('cpu', 'cpu.max', `${quota > 0n ? String(quota) : 'max'} ${period === 0n ? '100000' : String(period)}`, quota !== 0n ? 'cpu/quota' : 'cpu/period');
  }
  const rtMissing = 'ignored: this kernel has no realtime group scheduling in cgroup v2';
  if (c.realtimePeriod !== undefined && c.realtimePeriod !== 0) {
    b.push('cpu', 'cpu.rt_period_us', String(u64(c.realtimePeriod)), 'cpu/realtimePeriod', {
      ifMissing: 'warn',
      missing: rtMissing,
      retryOnEinval: c.realtimeRuntime !== undefined && c.realtimeRuntime !== 0,
    });
  }
  if (c.realtimeRuntime !== undefined && c.realtimeRuntime !== 0) {
    b.push('cpu', 'cpu.rt_runtime_us', String(i64(c.realtimeRuntime)), 'cpu/realtimeRuntime', { ifMissing: 'warn', missing: rtMissing });
  }
}

/** Page sizes as the hugetlb files name them: "2MB", "1GB", "64KB". */
export function hugePageSize(b: Builder, s: string, rel: string): string {
  if (!/^[1-9][0-9]*[KMGTP]B$/.test(s)) b.fail(rel, 'must be a size such as 64KB, 2MB or 1GB');
  return s;
}

// Files that would take the container's lifecycle out of hako's hands or
// move arbitrary processes: placing and freezing processes is the runtime's
// job (pause, kill --all, exec), not a resource setting.
const UNIFIED_RESERVED = new Set(['cgroup.procs', 'cgroup.threads', 'cgroup.kill', 'cgroup.freeze']);

/**
 * A unified key must be a plain file name of the form <controller>.<name>:
 * no "/" (it would reach outside the container's cgroup), no ".." and no
 * control characters. Returns the controller.
 */
export function unifiedController(b: Builder, k: string, rel: string): string {
  const m = /^([a-z][a-z0-9_]*)\.([A-Za-z0-9_][A-Za-z0-9_.-]*)$/.exec(k);
  if (!m || k.includes('..')) b.fail(rel, 'must be a cgroup file name of the form <controller>.<name> (such as memory.high or io.max)');
  if (UNIFIED_RESERVED.has(k)) b.fail(rel, `${k} is managed by hako itself and cannot be set as a resource`);
  return m[1]!;
}
