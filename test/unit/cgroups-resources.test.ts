// linux.resources → cgroup files, field by field, for v2 and v1: the exact
// files, values and order runc writes (checked against runc 1.1.5 under
// strace on a hybrid host, and against opencontainers/cgroups' fs and fs2
// drivers), and the errors for what cannot be done.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CgroupError } from '../../src/cgroups/cgroup-error.js';
import { blkioWeightToIoWeight, cpuSharesToWeight, v2Writes } from '../../src/cgroups/v2-resources.js';
import { v1Writes } from '../../src/cgroups/v1-resources.js';
import type { CgroupWrite } from '../../src/cgroups/writes.js';
import type { LinuxResources } from '../../src/spec/types.js';

/** [controller, file, value] triples. */
const files = (ws: readonly CgroupWrite[]) => ws.map((w) => [w.controller, w.file, w.value]);
const v2 = (r: LinuxResources, facts = {}) => files(v2Writes(r, facts).writes);
const v1 = (r: LinuxResources, facts = {}) => files(v1Writes(r, facts).writes);

function throws(fn: () => unknown, message: string | RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, CgroupError);
    if (typeof message === 'string') assert.is((e as Error).message, message);
    else assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected an error matching ${String(message)}`);
}

// --- conversions ----------------------------------------------------------------

test('cpu shares → weight: runc ConvertCPUSharesToCgroupV2Value (its test table)', () => {
  const cases: Array<[number, number]> = [
    [0, 0],
    [1, 1],
    [2, 1],
    [3, 2],
    [512, 59],
    [1024, 100],
    [2048, 174],
    [262143, 10000],
    [262144, 10000],
    [262145, 10000],
  ];
  for (const [shares, weight] of cases) assert.is(cpuSharesToWeight(BigInt(shares)), BigInt(weight), `shares ${shares}`);
});

test('blkio weight → io.weight: linear [10,1000] → [1,10000], below 10 clamps to 1', () => {
  assert.is(blkioWeightToIoWeight(0), 0n);
  assert.is(blkioWeightToIoWeight(10), 1n);
  assert.is(blkioWeightToIoWeight(500), 4950n);
  assert.is(blkioWeightToIoWeight(1000), 10000n);
  assert.is(blkioWeightToIoWeight(5), 1n);
});

// --- v2: memory -----------------------------------------------------------------

test('v2 memory: limit, reservation, swap as swap minus limit', () => {
  assert.equal(v2({ memory: { limit: 104857600, reservation: 52428800, swap: 209715200 } }), [
    ['memory', 'memory.swap.max', '104857600'],
    ['memory', 'memory.max', '104857600'],
    ['memory', 'memory.low', '52428800'],
  ]);
});

test('v2 memory: runc ConvertMemorySwapToCgroupV2Value cases', () => {
  const swapOf = (swap: number, limit: number) => v2({ memory: { swap, limit } }).find((w) => w[1] === 'memory.swap.max')?.[2];
  assert.is(swapOf(-1, 0), 'max'); // unlimited memory+swap, unset memory
  assert.is(swapOf(300, -1), '300'); // unlimited memory
  assert.is(swapOf(-1, -1), 'max');
  assert.is(swapOf(-1, 1000), 'max');
  assert.is(swapOf(1000, 1000), '0'); // swap == limit: no swap at all
  assert.is(swapOf(500, 200), '300');
  assert.is(swapOf(0, -1), 'max'); // unlimited memory, swap unset: both unlimited
  assert.is(swapOf(0, 1000), undefined); // swap unset: not written
  throws(
    () => v2({ memory: { swap: 300, limit: 400 } }),
    'config.json: /linux/resources/memory/swap: is memory+swap and must not be lower than memory/limit (400)',
  );
  throws(() => v2({ memory: { swap: 300 } }), /memory\/swap: cannot be set without memory\/limit/);
  throws(() => v2({ memory: { swap: -2 } }), 'config.json: /linux/resources/memory/swap: must be -1 (unlimited) or a number of bytes');
  throws(() => v2({ memory: { limit: -300 } }), /memory\/limit: must be -1/);
});

test('v2 memory: -1 is "max"; missing swap file is fine for "max" and "0", not for a number', () => {
  const t = v2Writes({ memory: { limit: -1, swap: -1, reservation: -1 } }).writes;
  assert.equal(files(t), [
    ['memory', 'memory.swap.max', 'max'],
    ['memory', 'memory.max', 'max'],
    ['memory', 'memory.low', 'max'],
  ]);
  assert.is(t[0]!.ifMissing, 'skip');
  const n = v2Writes({ memory: { limit: 100, swap: 300 } }).writes[0]!;
  assert.is(n.ifMissing, 'error');
  assert.match(n.missing!, /swap accounting/);
  assert.is(v2Writes({ memory: { limit: 100, swap: 100 } }).writes[0]!.ifMissing, 'skip');
});

test('v2 memory: checkBeforeUpdate refuses limits at or below the current usage', () => {
  const r = { memory: { limit: 1000, swap: 3000, checkBeforeUpdate: true } };
  throws(
    () => v2(r, { memoryUsage: 1000n }),
    'config.json: /linux/resources/memory/limit: 1000 is not above the current usage of 1000 bytes (checkBeforeUpdate)',
  );
  throws(() => v2(r, { memoryUsage: 5000n }), /memory\/swap: 3000 is not above the current usage of 5000 bytes/);
  assert.equal(v2(r, { memoryUsage: 999n }).length, 2);
  // Without the flag a lower limit is written (and v2 reclaims or OOM-kills).
  assert.equal(v2({ memory: { limit: 1000 } }, { memoryUsage: 5000n }), [['memory', 'memory.max', '1000']]);
});

test('v2 memory: swappiness where the file exists; OOM killer and kernel memory are warnings', () => {
  const t = v2Writes({ memory: { swappiness: 10, disableOOMKiller: true, kernel: 1000, kernelTCP: 1000 } });
  assert.equal(files(t.writes), [['memory', 'memory.swappiness', '10']]);
  assert.is(t.writes[0]!.ifMissing, 'warn');
  assert.match(t.writes[0]!.missing!, /no per-cgroup swappiness/);
  assert.equal(t.warnings, [
    'config.json: /linux/resources/memory/disableOOMKiller: ignored: the OOM killer cannot be disabled on cgroup v2',
    'config.json: /linux/resources/memory/kernel: ignored: kernel memory limits are deprecated and not supported',
    'config.json: /linux/resources/memory/kernelTCP: ignored: cgroup v2 has no TCP kernel memory limit (socket buffers count in memory.max)',
  ]);
  // Docker's "unset" swappiness: uint64 max, which JSON turns into 2^64.
  assert.equal(v2({ memory: { swappiness: 18446744073709551615 } }), []);
  throws(() => v2({ memory: { swappiness: 101 } }), 'config.json: /linux/resources/memory/swappiness: must be 0..100');
  assert.equal(v2Writes({ memory: { disableOOMKiller: false } }).warnings, []);
});

test('v2 memory: 64-bit values keep every digit', () => {
  assert.equal(v2({ memory: { limit: 9223372036854775807 } }), [['memory', 'memory.max', '9223372036854775807']]);
});

// --- v2: cpu ------------------------------------------------------------------------

test('v2 cpu: idle, weight, burst, max, in runc order; burst retried after quota', () => {
  const t = v2Writes({ cpu: { idle: 1, shares: 1024, burst: 20000, quota: 50000, period: 200000 } }).writes;
  assert.equal(files(t), [
    ['cpu', 'cpu.idle', '1'],
    ['cpu', 'cpu.weight', '100'],
    ['cpu', 'cpu.max.burst', '20000'],
    ['cpu', 'cpu.max', '50000 200000'],
  ]);
  assert.is(t[2]!.retryOnEinval, true);
});

test('v2 cpu.max: default period 100000, quota -1 (or none) is "max", period alone resets quota', () => {
  assert.equal(v2({ cpu: { quota: 50000 } }), [['cpu', 'cpu.max', '50000 100000']]);
  assert.equal(v2({ cpu: { quota: -1, period: 250000 } }), [['cpu', 'cpu.max', 'max 250000']]);
  assert.equal(v2({ cpu: { period: 250000 } }), [['cpu', 'cpu.max', 'max 250000']]);
  assert.equal(v2({ cpu: { shares: 0, quota: 0, period: 0 } }), []);
  assert.is(v2Writes({ cpu: { burst: 5 } }).writes[0]!.retryOnEinval, false);
});

test('v2 cpu: realtime written where the kernel has it, else a warning; cpus/mems → cpuset', () => {
  const t = v2Writes({ cpu: { realtimePeriod: 1000000, realtimeRuntime: 950000, cpus: '0-1', mems: '0' } }).writes;
  assert.equal(files(t), [
    ['cpu', 'cpu.rt_period_us', '1000000'],
    ['cpu', 'cpu.rt_runtime_us', '950000'],
    ['cpuset', 'cpuset.cpus', '0-1'],
    ['cpuset', 'cpuset.mems', '0'],
  ]);
  assert.is(t[0]!.ifMissing, 'warn');
  assert.is(t[0]!.retryOnEinval, true);
  assert.is(t[1]!.ifMissing, 'warn');
  assert.equal(v2({ cpu: { cpus: '', mems: '' } }), []);
});

// --- v2: io -------------------------------------------------------------------------

test('v2 io: weight converted for io.weight, raw for BFQ; per-device weights; throttles → io.max', () => {
  const r: LinuxResources = {
    blockIO: {
      weight: 500,
      leafWeight: 300,
      weightDevice: [
        { major: 8, minor: 0, weight: 300 },
        { major: 8, minor: 16, leafWeight: 10 },
      ],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2097152 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 50 }],
    },
  };
  const throttles = [
    ['io', 'io.max', '8:0 rbps=1048576'],
    ['io', 'io.max', '8:0 wbps=2097152'],
    ['io', 'io.max', '8:16 riops=100'],
    ['io', 'io.max', '8:16 wiops=50'],
  ];
  assert.equal(v2(r), [['io', 'io.weight', '4950'], ['io', 'io.weight', '8:0 2930'], ...throttles]);
  assert.equal(v2(r, { ioBfqWeight: 'default 100\n' }), [['io', 'io.bfq.weight', '500'], ['io', 'io.bfq.weight', '8:0 300'], ...throttles]);
  // An old BFQ (one number): global weight through BFQ, device weights through io.weight.
  assert.equal(v2(r, { ioBfqWeight: '100\n' }).slice(0, 2), [
    ['io', 'io.bfq.weight', '500'],
    ['io', 'io.weight', '8:0 2930'],
  ]);
  assert.equal(v2Writes(r).warnings, [
    'config.json: /linux/resources/blockIO/leafWeight: ignored: cgroup v2 has no leaf weights',
    'config.json: /linux/resources/blockIO/weightDevice/1/leafWeight: ignored: cgroup v2 has no leaf weights',
  ]);
  throws(
    () => v2({ blockIO: { throttleReadBpsDevice: [{ major: -1, minor: 0, rate: 1 }] } }),
    'config.json: /linux/resources/blockIO/throttleReadBpsDevice/0/major: must be a device major number (not negative)',
  );
});

// --- v2: pids, hugetlb, rdma, network, unified, devices --------------------------

test('v2 pids: -1 (any negative) is max, 0 is a real limit (runtime-spec), else the number', () => {
  assert.equal(v2({ pids: { limit: 32 } }), [['pids', 'pids.max', '32']]);
  assert.equal(v2({ pids: { limit: -1 } }), [['pids', 'pids.max', 'max']]);
  assert.equal(v2({ pids: { limit: -5 } }), [['pids', 'pids.max', 'max']]);
  assert.equal(v2({ pids: { limit: 0 } }), [['pids', 'pids.max', '0']]);
  assert.equal(v2({ pids: {} }), []);
});

test('v2 hugetlb: .max and .rsvd.max (the latter optional); unknown sizes fail by name', () => {
  const t = v2Writes({
    hugepageLimits: [
      { pageSize: '2MB', limit: 1073741824 },
      { pageSize: '1GB', limit: 18446744073709551615 },
    ],
  }).writes;
  assert.equal(files(t), [
    ['hugetlb', 'hugetlb.2MB.max', '1073741824'],
    ['hugetlb', 'hugetlb.2MB.rsvd.max', '1073741824'],
    ['hugetlb', 'hugetlb.1GB.max', '18446744073709551615'],
    ['hugetlb', 'hugetlb.1GB.rsvd.max', '18446744073709551615'],
  ]);
  assert.is(t[0]!.ifMissing, undefined);
  assert.is(t[0]!.missing, 'huge page size 2MB is not supported by this host');
  assert.is(t[1]!.ifMissing, 'skip');
  throws(() => v2({ hugepageLimits: [{ pageSize: '../2MB', limit: 1 }] }), /hugepageLimits\/0\/pageSize: must be a size such as/);
});

test('v2 rdma → rdma.max lines; network is a warning', () => {
  const t = v2Writes({
    rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 7 } },
    network: { classID: 7, priorities: [{ name: 'eth0', priority: 1 }] },
  });
  assert.equal(files(t.writes), [
    ['rdma', 'rdma.max', 'mlx5_1 hca_handle=3 hca_object=10000'],
    ['rdma', 'rdma.max', 'mlx4_0 hca_object=7'],
  ]);
  assert.equal(t.warnings, [
    'config.json: /linux/resources/network/classID: ignored: cgroup v2 has no net_cls controller',
    'config.json: /linux/resources/network/priorities: ignored: cgroup v2 has no net_prio controller',
  ]);
  throws(() => v2({ rdma: { 'mlx 5': { hcaHandles: 1 } } }), 'config.json: /linux/resources/rdma/mlx 5: the device name must be a single word');
});

test('v2 unified: written verbatim, last, line by line, controller from the key', () => {
  const t = v2Writes({ pids: { limit: 10 }, unified: { 'pids.max': '20', 'io.max': '8:0 rbps=1\n8:16 wiops=2', 'cgroup.max.depth': '3' } }).writes;
  assert.equal(files(t), [
    ['pids', 'pids.max', '10'],
    ['pids', 'pids.max', '20'],
    ['io', 'io.max', '8:0 rbps=1\n8:16 wiops=2'],
    ['cgroup', 'cgroup.max.depth', '3'],
  ]);
  assert.is(t[2]!.byLine, true);
  assert.is(t[2]!.from, 'config.json: /linux/resources/unified/io.max');
});

test('v2 unified: keys that are not plain <controller>.<file> names are refused', () => {
  for (const k of ['../memory.max', 'memory/max', 'memory.max/..', 'memory', '.max', 'memory..max', 'Memory.max', 'memory.max\n', '']) {
    throws(() => v2({ unified: { [k]: '1' } }), /must be a cgroup file name of the form <controller>\.<name>/);
  }
  throws(
    () => v2({ unified: { 'a/b': '1' } }),
    'config.json: /linux/resources/unified/a~1b: must be a cgroup file name of the form <controller>.<name> (such as memory.high or io.max)',
  );
  for (const k of ['cgroup.procs', 'cgroup.threads', 'cgroup.kill', 'cgroup.freeze']) {
    throws(() => v2({ unified: { [k]: '1' } }), `config.json: /linux/resources/unified/${k}: ${k} is managed by hako itself and cannot be set as a resource`);
  }
});

test('v2 devices: an eBPF program, no file writes; none without rules', () => {
  const t = v2Writes({ devices: [{ allow: false, access: 'rwm' }] });
  assert.equal(t.writes, []);
  assert.ok(t.deviceProgram instanceof Uint8Array && t.deviceProgram.length > 0);
  assert.is(v2Writes({ devices: [] }).deviceProgram, undefined);
  assert.is(v2Writes({}).deviceProgram, undefined);
});

test('v2: source and pointer of `update -r` documents', () => {
  throws(() => v2Writes({ memory: { swap: 1 } }, {}, { source: 'resources.json', at: '' }), /^resources\.json: \/memory\/swap: /);
  assert.is(v2Writes({ pids: { limit: 1 } }, {}, { source: '-', at: '' }).writes[0]!.from, '-: /pids/limit');
});

test('v2: runc order across controllers (pids, memory, io, cpu, cpuset, hugetlb, rdma, unified)', () => {
  const order = v2Writes({
    unified: { 'memory.high': '1' },
    rdma: { x: { hcaHandles: 1 } },
    hugepageLimits: [{ pageSize: '2MB', limit: 1 }],
    cpu: { cpus: '0', shares: 2 },
    blockIO: { weight: 10 },
    memory: { limit: 1 },
    pids: { limit: 1 },
  }).writes.map((w) => w.file);
  assert.equal(order, [
    'pids.max',
    'memory.max',
    'io.weight',
    'cpu.weight',
    'cpuset.cpus',
    'hugetlb.2MB.max',
    'hugetlb.2MB.rsvd.max',
    'rdma.max',
    'memory.high',
  ]);
});

// --- v1 -----------------------------------------------------------------------------

test('v1: the files runc 1.1.5 writes for a typical config, in its order', () => {
  // From `strace -y runc create` on this hybrid host, minus runc's default device rules.
  assert.equal(
    v1({
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: true, type: 'c', major: 5, access: 'rw' },
      ],
      memory: { limit: 104857600, reservation: 52428800, swap: 209715200, swappiness: 10, disableOOMKiller: false },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 32 },
      blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1048576 }] },
    }),
    [
      ['cpuset', 'cpuset.cpus', '0'],
      ['cpuset', 'cpuset.mems', '0'],
      ['devices', 'devices.deny', 'a *:* rwm'],
      ['devices', 'devices.allow', 'c 1:3 rwm'],
      ['devices', 'devices.allow', 'c 5:* rw'],
      ['memory', 'memory.limit_in_bytes', '104857600'],
      ['memory', 'memory.memsw.limit_in_bytes', '209715200'],
      ['memory', 'memory.soft_limit_in_bytes', '52428800'],
      ['memory', 'memory.swappiness', '10'],
      ['cpu', 'cpu.shares', '512'],
      ['cpu', 'cpu.cfs_period_us', '100000'],
      ['cpu', 'cpu.cfs_quota_us', '50000'],
      ['pids', 'pids.max', '32'],
      ['blkio', 'blkio.bfq.weight', '500'],
      ['blkio', 'blkio.throttle.read_bps_device', '254:0 1048576'],
    ],
  );
});

test('v1 memory: swap first when it grows past the current limit or is unlimited', () => {
  const mem = { memory: { limit: 200, swap: 400 } };
  assert.equal(v1(mem, { memoryLimit: 100n }), [
    ['memory', 'memory.memsw.limit_in_bytes', '400'],
    ['memory', 'memory.limit_in_bytes', '200'],
  ]);
  assert.equal(v1(mem, { memoryLimit: 9223372036854771712n }), [
    ['memory', 'memory.limit_in_bytes', '200'],
    ['memory', 'memory.memsw.limit_in_bytes', '400'],
  ]);
  assert.equal(v1({ memory: { limit: 200, swap: -1 } }), [
    ['memory', 'memory.memsw.limit_in_bytes', '-1'],
    ['memory', 'memory.limit_in_bytes', '200'],
  ]);
});

test('v1 memory: limit -1 with swap unset makes swap unlimited too (when accounted)', () => {
  assert.equal(v1({ memory: { limit: -1 } }, { memswAvailable: true }), [
    ['memory', 'memory.memsw.limit_in_bytes', '-1'],
    ['memory', 'memory.limit_in_bytes', '-1'],
  ]);
  assert.equal(v1({ memory: { limit: -1 } }, { memswAvailable: false }), [['memory', 'memory.limit_in_bytes', '-1']]);
  const sw = v1Writes({ memory: { limit: 1, swap: 5 } }).writes.find((w) => w.file === 'memory.memsw.limit_in_bytes')!;
  assert.is(sw.ifMissing, 'error');
  assert.match(sw.missing!, /swapaccount=1/);
  assert.is(v1Writes({ memory: { swap: -1 } }).writes[0]!.ifMissing, 'skip');
});

test('v1 memory: OOM killer only when disabled, swappiness 0..100, kernel memory warned', () => {
  assert.equal(v1({ memory: { disableOOMKiller: true, swappiness: 0 } }), [
    ['memory', 'memory.oom_control', '1'],
    ['memory', 'memory.swappiness', '0'],
  ]);
  assert.equal(v1({ memory: { disableOOMKiller: false, swappiness: 18446744073709551615 } }), []);
  throws(() => v1({ memory: { swappiness: 200 } }), 'config.json: /linux/resources/memory/swappiness: must be 0..100');
  assert.equal(v1Writes({ memory: { kernel: 1, useHierarchy: false } }).warnings.length, 2);
});

test('v1 memory: kernelTCP is written to memory.kmem.tcp.limit_in_bytes, a warning where the file is missing', () => {
  const t = v1Writes({ memory: { limit: 1 << 26, reservation: 1 << 25, kernelTCP: 1 << 24, disableOOMKiller: true } });
  assert.equal(files(t.writes), [
    ['memory', 'memory.limit_in_bytes', String(1 << 26)],
    ['memory', 'memory.soft_limit_in_bytes', String(1 << 25)],
    ['memory', 'memory.kmem.tcp.limit_in_bytes', String(1 << 24)],
    ['memory', 'memory.oom_control', '1'],
  ]);
  const tcp = t.writes[2]!;
  assert.is(tcp.from, 'config.json: /linux/resources/memory/kernelTCP');
  assert.is(tcp.ifMissing, 'warn');
  assert.match(tcp.missing!, /no TCP kernel memory limit/);
  assert.equal(t.warnings, []);
  assert.equal(v1({ memory: { kernelTCP: -1 } }), [['memory', 'memory.kmem.tcp.limit_in_bytes', '-1']]);
  // 0 is "not set", as in runc.
  assert.equal(v1({ memory: { kernelTCP: 0 } }), []);
  throws(() => v1({ memory: { kernelTCP: -2 } }), 'config.json: /linux/resources/memory/kernelTCP: must be -1 (unlimited) or a number of bytes');
});

test('v1 cpu: shares read back; period and burst retried after quota; idle; rt period before runtime', () => {
  const t = v1Writes({ cpu: { shares: 100, period: 50000, burst: 1000, quota: 20000, idle: 0, realtimePeriod: 1000000, realtimeRuntime: 950000 } }).writes;
  assert.equal(files(t), [
    ['cpu', 'cpu.shares', '100'],
    ['cpu', 'cpu.cfs_period_us', '50000'],
    ['cpu', 'cpu.cfs_burst_us', '1000'],
    ['cpu', 'cpu.cfs_quota_us', '20000'],
    ['cpu', 'cpu.idle', '0'],
    ['cpu', 'cpu.rt_period_us', '1000000'],
    ['cpu', 'cpu.rt_runtime_us', '950000'],
  ]);
  assert.is(t[0]!.readBack, true);
  assert.is(t[1]!.retryOnEinval, true);
  assert.is(t[2]!.retryOnEinval, true);
  assert.is(t[2]!.ifMissing, 'warn');
  assert.is(t[5]!.retryOnEinval, true);
  assert.match(t[6]!.missing!, /CONFIG_RT_GROUP_SCHED/);
  assert.is(v1Writes({ cpu: { period: 1 } }).writes[0]!.retryOnEinval, false);
  assert.equal(v1({ cpu: { quota: -1 } }), [['cpu', 'cpu.cfs_quota_us', '-1']]);
});

test('v1 blkio: CFQ or BFQ files, leaf weights, per-device weights, throttles', () => {
  const r: LinuxResources = {
    blockIO: {
      weight: 300,
      leafWeight: 200,
      weightDevice: [{ major: 8, minor: 0, weight: 100, leafWeight: 50 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 2 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 3 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 4 }],
    },
  };
  const rest = [
    ['blkio', 'blkio.throttle.read_bps_device', '8:0 1'],
    ['blkio', 'blkio.throttle.write_bps_device', '8:0 2'],
    ['blkio', 'blkio.throttle.read_iops_device', '8:0 3'],
    ['blkio', 'blkio.throttle.write_iops_device', '8:0 4'],
  ];
  assert.equal(v1(r, { blkioCfq: true }), [
    ['blkio', 'blkio.weight', '300'],
    ['blkio', 'blkio.leaf_weight', '200'],
    ['blkio', 'blkio.weight_device', '8:0 100'],
    ['blkio', 'blkio.leaf_weight_device', '8:0 50'],
    ...rest,
  ]);
  assert.equal(v1(r).slice(0, 3), [
    ['blkio', 'blkio.bfq.weight', '300'],
    ['blkio', 'blkio.leaf_weight', '200'],
    ['blkio', 'blkio.bfq.weight_device', '8:0 100'],
  ]);
  assert.is(v1Writes(r).writes[1]!.ifMissing, 'warn');
});

test('v1 pids, hugetlb, net_cls, net_prio, rdma', () => {
  assert.equal(
    v1({
      pids: { limit: -1 },
      hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
      network: {
        classID: 1048577,
        priorities: [
          { name: 'eth0', priority: 5 },
          { name: 'lo', priority: 2 },
        ],
      },
      rdma: { mlx5_1: { hcaHandles: 3 } },
    }),
    [
      ['pids', 'pids.max', 'max'],
      ['hugetlb', 'hugetlb.2MB.limit_in_bytes', '4194304'],
      ['hugetlb', 'hugetlb.2MB.rsvd.limit_in_bytes', '4194304'],
      ['net_cls', 'net_cls.classid', '1048577'],
      ['net_prio', 'net_prio.ifpriomap', 'eth0 5'],
      ['net_prio', 'net_prio.ifpriomap', 'lo 2'],
      ['rdma', 'rdma.max', 'mlx5_1 hca_handle=3'],
    ],
  );
  throws(() => v1({ network: { priorities: [{ name: 'a b', priority: 1 }] } }), /network\/priorities\/0\/name: must be a network interface name/);
});

test('v1: unified is an error unless a hybrid host takes it elsewhere', () => {
  throws(() => v1({ unified: { 'memory.high': '1' } }), 'config.json: /linux/resources/unified: cgroup v2 files cannot be set on a cgroup v1 host');
  assert.equal(files(v1Writes({ unified: { 'memory.high': '1' } }, {}, { unifiedElsewhere: true }).writes), []);
  assert.equal(v1({ unified: {} }), []);
});

test('v1 devices: a transition from the current devices.list', () => {
  const rules = [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c' as const, major: 1, minor: 3, access: 'rwm' },
  ];
  // From a cgroup that already has these rules: nothing to write.
  assert.equal(v1({ devices: rules }, { devicesList: 'c 1:3 rwm\n' }), []);
  // From allow-all: a reset first.
  assert.equal(v1({ devices: rules }, { devicesList: 'a *:* rwm\n' }), [
    ['devices', 'devices.deny', 'a *:* rwm'],
    ['devices', 'devices.allow', 'c 1:3 rwm'],
  ]);
  // From a whitelist with something extra: take it away, add what is new.
  assert.equal(v1({ devices: rules }, { devicesList: 'c 1:3 r\nc 1:5 rwm\n' }), [
    ['devices', 'devices.deny', 'c 1:5 rwm'],
    ['devices', 'devices.allow', 'c 1:3 wm'],
  ]);
});

test.run();
