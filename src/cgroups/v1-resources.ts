// linux.resources → cgroup v1 file writes, per controller, following runc's
// fs driver (opencontainers/cgroups fs/*.go): the same files, values and
// order, so a container behaves the same under hako and runc. Pure: facts
// about the cgroup's current state come in as V1Facts.
//
// Order matters in three places, all inherited from the kernel's checks:
//  - memory: memsw.limit_in_bytes must stay >= limit_in_bytes at every
//    moment, so when the limits grow swap goes first, otherwise memory.
//  - cpu: a new cfs_period (or burst) may be refused until the new quota is
//    in, and rt_period until rt_runtime is: those writes are retried once
//    after the rest of the controller (retryOnEinval).
//  - devices: a minimal transition from the current rules (see devices.ts).
import type { LinuxResources } from '../spec/types.js';
import { DeviceEmulator, normalizeDeviceRules, v1DeviceWrites } from './devices.js';
import { hugePageSize } from './v2-resources.js';
import { Builder, devNum, i64, memoryValue, pidsValue, rdmaLine, swappinessValue, u64, type TranslateOptions, type Translation } from './writes.js';

export interface V1Facts {
  /** The current memory.limit_in_bytes (when both memory and swap are being set). */
  memoryLimit?: bigint;
  /** memory.memsw.limit_in_bytes exists (swap accounting is on). */
  memswAvailable?: boolean;
  /** The current devices.list; undefined means allow-all, as a fresh cgroup under the root. */
  devicesList?: string;
  /** blkio.weight exists (the CFQ scheduler); otherwise BFQ's blkio.bfq.weight is used. */
  blkioCfq?: boolean;
}

export interface V1Options extends TranslateOptions {
  /**
   * Leave linux.resources.unified to the caller (a hybrid host writes it to
   * the unified tree). Otherwise it is an error, as in runc.
   */
  unifiedElsewhere?: boolean;
}

export function v1Writes(r: LinuxResources, facts: V1Facts = {}, opts: V1Options = {}): Translation {
  const b = new Builder(opts);
  const c = r.cpu;

  if (r.unified && Object.keys(r.unified).length > 0 && !opts.unifiedElsewhere) {
    b.fail('unified', 'cgroup v2 files cannot be set on a cgroup v1 host');
  }

  if (c?.cpus) b.push('cpuset', 'cpuset.cpus', c.cpus, 'cpu/cpus');
  if (c?.mems) b.push('cpuset', 'cpuset.mems', c.mems, 'cpu/mems');

  if (r.devices && r.devices.length > 0) {
    const at = `${b.at}/devices`;
    const target = DeviceEmulator.fromRules(
      normalizeDeviceRules(r.devices, b.source, at, (w) => b.warnings.push(w)),
      b.source,
      at,
    );
    for (const w of v1DeviceWrites(target, facts.devicesList)) b.push('devices', w.file, w.value, 'devices');
  }

  if (r.memory) v1Memory(b, r.memory, facts);

  if (c) v1Cpu(b, c);

  if (r.pids?.limit !== undefined) b.push('pids', 'pids.max', pidsValue(r.pids.limit), 'pids/limit');

  if (r.blockIO) v1BlockIO(b, r.blockIO, facts);

  r.hugepageLimits?.forEach((h, i) => {
    const rel = `hugepageLimits/${i}`;
    const prefix = `hugetlb.${hugePageSize(b, h.pageSize, `${rel}/pageSize`)}`;
    const v = String(u64(h.limit));
    b.push('hugetlb', `${prefix}.limit_in_bytes`, v, rel, { missing: `huge page size ${h.pageSize} is not supported by this host` });
    b.push('hugetlb', `${prefix}.rsvd.limit_in_bytes`, v, rel, { ifMissing: 'skip' });
  });

  if (r.network?.classID !== undefined && r.network.classID !== 0) b.push('net_cls', 'net_cls.classid', String(r.network.classID), 'network/classID');
  r.network?.priorities?.forEach((p, i) => {
    if (!/^[^\s/]+$/.test(p.name)) b.fail(`network/priorities/${i}/name`, 'must be a network interface name');
    b.push('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`, `network/priorities/${i}`);
  });

  for (const [dev, l] of Object.entries(r.rdma ?? {})) {
    const line = l && rdmaLine(b, dev, l);
    if (line) b.push('rdma', 'rdma.max', line, `rdma/${b.token(dev)}`);
  }

  return b.result();
}

/** linux.resources.memory: the memory controller's files. */
function v1Memory(b: Builder, m: NonNullable<LinuxResources['memory']>, facts: V1Facts): void {
  const limit = memoryValue(b, m.limit, 'memory/limit');
  const reservation = memoryValue(b, m.reservation, 'memory/reservation');
  let swap = memoryValue(b, m.swap, 'memory/swap');
  // "memory unlimited" with swap unset means both unlimited: otherwise an
  // old memsw limit would still cap the container.
  if (limit === -1n && swap === 0n && facts.memswAvailable) swap = -1n;
  const memsw = () =>
    b.push('memory', 'memory.memsw.limit_in_bytes', String(swap), 'memory/swap', {
      // Asking for unlimited swap where swap is not accounted asks for nothing.
      ifMissing: swap === -1n ? 'skip' : 'error',
      missing: 'swap accounting is not enabled on this host (memory.memsw.limit_in_bytes is missing; boot with swapaccount=1)',
    });
  const mem = () => b.push('memory', 'memory.limit_in_bytes', String(limit), 'memory/limit');
  const cur = facts.memoryLimit;
  if (limit !== 0n && swap !== 0n && (swap === -1n || (cur !== undefined && cur < swap))) {
    memsw();
    mem();
  } else {
    if (limit !== 0n) mem();
    if (swap !== 0n) memsw();
  }
  if (reservation !== 0n) b.push('memory', 'memory.soft_limit_in_bytes', String(reservation), 'memory/reservation');
  // The TCP buffer limit still works on v1 (unlike memory.kmem.limit_in_bytes,
  // which kernels since 5.16 ignore), and runc's fs driver still writes
  // it; where the kernel lacks the file (no CONFIG_MEMCG_KMEM, or
  // cgroup.memory=nokmem) it is skipped with a warning, as on v2.
  const tcp = memoryValue(b, m.kernelTCP, 'memory/kernelTCP');
  if (tcp !== 0n) {
    b.push('memory', 'memory.kmem.tcp.limit_in_bytes', String(tcp), 'memory/kernelTCP', {
      ifMissing: 'warn',
      missing: 'ignored: this kernel has no TCP kernel memory limit (memory.kmem.tcp.limit_in_bytes is missing)',
    });
  }
  // Only "true" is written, as runc does: a new cgroup has the OOM killer on.
  if (m.disableOOMKiller) b.push('memory', 'memory.oom_control', '1', 'memory/disableOOMKiller');
  const sw = swappinessValue(b, m.swappiness);
  if (sw !== undefined) b.push('memory', 'memory.swappiness', String(sw), 'memory/swappiness');
  if (m.kernel !== undefined) b.warn('memory/kernel', 'ignored: kernel memory limits are deprecated and not supported');
  if (m.useHierarchy === false) b.warn('memory/useHierarchy', 'ignored: memory accounting is always hierarchical on current kernels');
}

/** linux.resources.cpu, but cpus and mems (cpuset's, written first). */
function v1Cpu(b: Builder, c: NonNullable<LinuxResources['cpu']>): void {
  const quota = c.quota === undefined ? 0n : i64(c.quota);
  if (c.shares !== undefined && c.shares !== 0) b.push('cpu', 'cpu.shares', String(u64(c.shares)), 'cpu/shares', { readBack: true });
  if (c.period !== undefined && c.period !== 0) b.push('cpu', 'cpu.cfs_period_us', String(u64(c.period)), 'cpu/period', { retryOnEinval: quota !== 0n });
  if (c.burst !== undefined) {
    b.push('cpu', 'cpu.cfs_burst_us', String(u64(c.burst)), 'cpu/burst', {
      retryOnEinval: quota !== 0n,
      ifMissing: 'warn',
      missing: 'ignored: this kernel has no CFS burst (cpu.cfs_burst_us)',
    });
  }
  if (quota !== 0n) b.push('cpu', 'cpu.cfs_quota_us', String(quota), 'cpu/quota');
  if (c.idle !== undefined) b.push('cpu', 'cpu.idle', String(i64(c.idle)), 'cpu/idle');
  const rtMissing = 'realtime group scheduling is not available on this kernel (CONFIG_RT_GROUP_SCHED)';
  if (c.realtimePeriod !== undefined && c.realtimePeriod !== 0) {
    b.push('cpu', 'cpu.rt_period_us', String(u64(c.realtimePeriod)), 'cpu/realtimePeriod', {
      missing: rtMissing,
      retryOnEinval: c.realtimeRuntime !== undefined && c.realtimeRuntime !== 0,
    });
  }
  if (c.realtimeRuntime !== undefined && c.realtimeRuntime !== 0) {
    b.push('cpu', 'cpu.rt_runtime_us', String(i64(c.realtimeRuntime)), 'cpu/realtimeRuntime', { missing: rtMissing });
  }
}

/** linux.resources.blockIO: the blkio controller's files. */
function v1BlockIO(b: Builder, io: NonNullable<LinuxResources['blockIO']>, facts: V1Facts): void {
  const weightFile = facts.blkioCfq ? 'blkio.weight' : 'blkio.bfq.weight';
  const weightDeviceFile = facts.blkioCfq ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
  const cfqOnly = 'ignored: leaf weights need the CFQ I/O scheduler, which this kernel does not have';
  if (io.weight !== undefined && io.weight !== 0) b.push('blkio', weightFile, String(io.weight), 'blockIO/weight');
  if (io.leafWeight !== undefined && io.leafWeight !== 0) {
    b.push('blkio', 'blkio.leaf_weight', String(io.leafWeight), 'blockIO/leafWeight', { ifMissing: 'warn', missing: cfqOnly });
  }
  io.weightDevice?.forEach((d, i) => {
    const rel = `blockIO/weightDevice/${i}`;
    const dev = devNum(b, d.major, d.minor, rel);
    if (d.weight !== undefined && d.weight !== 0) b.push('blkio', weightDeviceFile, `${dev} ${d.weight}`, `${rel}/weight`);
    if (d.leafWeight !== undefined && d.leafWeight !== 0) {
      b.push('blkio', 'blkio.leaf_weight_device', `${dev} ${d.leafWeight}`, `${rel}/leafWeight`, { ifMissing: 'warn', missing: cfqOnly });
    }
  });
  const throttle = (list: typeof io.throttleReadBpsDevice, field: string, file: string) =>
    list?.forEach((t, i) => b.push('blkio', file, `${devNum(b, t.major, t.minor, `blockIO/${field}/${i}`)} ${u64(t.rate)}`, `blockIO/${field}/${i}`));
  throttle(io.throttleReadBpsDevice, 'throttleReadBpsDevice', 'blkio.throttle.read_bps_device');
  throttle(io.throttleWriteBpsDevice, 'throttleWriteBpsDevice', 'blkio.throttle.write_bps_device');
  throttle(io.throttleReadIOPSDevice, 'throttleReadIOPSDevice', 'blkio.throttle.read_iops_device');
  throttle(io.throttleWriteIOPSDevice, 'throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device');
}
