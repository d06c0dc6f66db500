// The v2, v1 and hybrid managers against a fake cgroup tree (cgroups-fake.ts):
// which directories they create, which files they write in which order,
// freezing, killing, stats, removal, and the errors a user sees.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CgroupError } from '../../src/cgroups/cgroup-error.js';
import { HybridManager, V1Manager, V2Manager, loadManager, newManager, type CgroupManager, type ManagerDeps } from '../../src/cgroups/manager.js';
import { resolveCgroupPath } from '../../src/cgroups/path.js';
import { statsEventJson } from '../../src/cgroups/stats.js';
import { FakeCgroupFs, hybridFake, v2Fake } from './cgroups-fake.js';

interface Harness {
  fs: FakeCgroupFs;
  deps: ManagerDeps;
  killed: Array<[number, number]>;
  filters: Array<[string, number]>;
  slept: number[];
}

function harness(fs: FakeCgroupFs): Harness {
  const h: Harness = { fs, killed: [], filters: [], slept: [], deps: {} };
  h.deps = {
    fs,
    kill: (pid, sig) => {
      h.killed.push([pid, sig]);
      if (pid === 999) throw Object.assign(new Error('ESRCH'), { code: 'ESRCH' });
    },
    sleep: (ms) => void h.slept.push(ms),
    deviceFilter: { attach: (dir, prog) => void h.filters.push([dir, prog.length]) },
    hugePageSizes: () => ['2MB'],
  };
  return h;
}

function throws(fn: () => unknown, message: string | RegExp): CgroupError {
  try {
    fn();
  } catch (e) {
    assert.instance(e, CgroupError);
    if (typeof message === 'string') assert.is((e as Error).message, message);
    else assert.match((e as Error).message, message);
    return e as CgroupError;
  }
  assert.unreachable(`expected an error matching ${String(message)}`);
  throw new Error('unreachable');
}

const abs = (p: string) => resolveCgroupPath({ cgroupsPath: p, id: 'x' });

function v1Fake(): FakeCgroupFs {
  const f = new FakeCgroupFs();
  for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'])
    f.addV1(`/sys/fs/cgroup/${c}`, [c], c === 'cpuset' ? { 'cpuset.cpus': '0-1\n', 'cpuset.mems': '0\n' } : {});
  f.addV1('/sys/fs/cgroup/systemd', ['name=systemd']);
  return f;
}

// --- cgroup v2 -------------------------------------------------------------------

test('v2 create: the path, with every controller enabled down to it (as runc)', () => {
  const h = harness(v2Fake());
  const m = newManager(h.fs.layout(), abs('/hako/c1'), h.deps);
  assert.instance(m, V2Manager);
  assert.equal(m.dirs, { '': h.fs.p('/sys/fs/cgroup/hako/c1') });
  m.create();
  assert.ok(m.exists());
  assert.equal(h.fs.writes('/sys/fs/cgroup'), [
    ['cgroup.subtree_control', '+cpuset +cpu +io +memory +hugetlb +pids +rdma'],
    ['hako/cgroup.subtree_control', '+cpuset +cpu +io +memory +hugetlb +pids +rdma'],
  ]);
  assert.is(h.fs.content('/sys/fs/cgroup/hako/c1/cgroup.controllers').trim(), 'cpuset cpu io memory hugetlb pids rdma');
  // Again: nothing new to do.
  m.create();
  assert.is(h.fs.log.length, 2);
  h.fs.cleanup();
});

test('v2 set: the translated files in order, the device filter attached, warnings returned', () => {
  const h = harness(v2Fake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  h.fs.log.length = 0;
  const warnings = m.set({
    devices: [{ allow: false, access: 'rwm' }],
    memory: { limit: 1000000, swap: 3000000, disableOOMKiller: true },
    cpu: { shares: 1024, quota: 50000 },
    pids: { limit: 10 },
    unified: { 'io.max': '8:0 rbps=1\n8:16 wbps=2' },
  });
  assert.equal(h.fs.writes('/sys/fs/cgroup/c1'), [
    ['pids.max', '10'],
    ['memory.swap.max', '2000000'],
    ['memory.max', '1000000'],
    ['cpu.weight', '100'],
    ['cpu.max', '50000 100000'],
    ['io.max', '8:0 rbps=1'],
    ['io.max', '8:16 wbps=2'],
  ]);
  assert.equal(h.filters, [[h.fs.p('/sys/fs/cgroup/c1'), 8 * 8]]);
  assert.equal(warnings, ['config.json: /linux/resources/memory/disableOOMKiller: ignored: the OOM killer cannot be disabled on cgroup v2']);
  assert.is(h.fs.content('/sys/fs/cgroup/c1/memory.max'), '1000000\n');
  h.fs.cleanup();
});

test('v2 set: a controller the host lacks fails by name; a missing optional file warns', () => {
  const h = harness(v2Fake(['cpu', 'memory', 'pids']));
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  throws(
    () => m.set({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }),
    'config.json: /linux/resources/hugepageLimits/0: the hugetlb cgroup controller is not available on this host',
  );
  throws(
    () => m.set({ unified: { 'io.weight': '100' } }),
    'config.json: /linux/resources/unified/io.weight: the io cgroup controller is not available on this host',
  );
  throws(
    () => m.set({ unified: { 'memory.nonesuch': '1' } }),
    `config.json: /linux/resources/unified/memory.nonesuch: ${h.fs.p('/sys/fs/cgroup/c1/memory.nonesuch')} does not exist`,
  );
  assert.equal(m.set({ memory: { swappiness: 10 } }), ['config.json: /linux/resources/memory/swappiness: ignored: cgroup v2 has no per-cgroup swappiness']);
  // Core files need no controller.
  assert.equal(m.set({ unified: { 'cgroup.freeze': undefined as unknown as string } }), []);
  h.fs.cleanup();
});

test('v2 set: a controller the parent could not enable is named as such', () => {
  const h = harness(v2Fake());
  h.fs.failures.set('cgroup.subtree_control', [
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
    'EBUSY',
  ]);
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  throws(
    () => m.set({ pids: { limit: 5 } }),
    `config.json: /linux/resources/pids/limit: the pids controller is not enabled for ${h.fs.p('/sys/fs/cgroup/c1')} (controllers can only be enabled below a cgroup that has no processes of its own)`,
  );
  h.fs.cleanup();
});

test('v2 set: EINVAL on cpu.max.burst is retried after cpu.max; other errors name file and value', () => {
  const h = harness(v2Fake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  h.fs.log.length = 0;
  h.fs.failures.set('cpu.max.burst', ['EINVAL']);
  m.set({ cpu: { burst: 1000, quota: 20000 } });
  assert.equal(h.fs.writes('/sys/fs/cgroup/c1'), [
    ['cpu.max.burst', '1000 !EINVAL'],
    ['cpu.max', '20000 100000'],
    ['cpu.max.burst', '1000'],
  ]);
  h.fs.failures.set('memory.max', ['EINVAL']);
  const e = throws(
    () => m.set({ memory: { limit: 5 } }),
    `config.json: /linux/resources/memory/limit: writing "5" to ${h.fs.p('/sys/fs/cgroup/c1/memory.max')}: invalid argument (EINVAL)`,
  );
  assert.is(e.code, 'EINVAL');
  h.fs.cleanup();
});

test('v2 set: checkBeforeUpdate reads memory.current; BFQ is used when present', () => {
  const h = harness(v2Fake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  h.fs.write(h.fs.p('/sys/fs/cgroup/c1/memory.current'), '5000');
  throws(
    () => m.set({ memory: { limit: 4096, checkBeforeUpdate: true } }),
    'config.json: /linux/resources/memory/limit: 4096 is not above the current usage of 5000 bytes (checkBeforeUpdate)',
  );
  m.set({ memory: { limit: 8192, checkBeforeUpdate: true } });
  h.fs.log.length = 0;
  m.set({ blockIO: { weight: 500 } });
  assert.equal(h.fs.writes('/sys/fs/cgroup/c1'), [['io.weight', '4950']]);
  // With BFQ (a file the io scheduler adds).
  writeFileSync(h.fs.p('/sys/fs/cgroup/c1/io.bfq.weight'), 'default 100\n');
  h.fs.log.length = 0;
  m.set({ blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 200 }] } });
  assert.equal(h.fs.writes('/sys/fs/cgroup/c1'), [
    ['io.bfq.weight', '500'],
    ['io.bfq.weight', '8:0 200'],
  ]);
  h.fs.cleanup();
});

test('v2 apply, pids, freeze/thaw, killAll, oom count', () => {
  const h = harness(v2Fake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  m.apply(101);
  m.apply(102);
  h.fs.mkdir(h.fs.p('/sys/fs/cgroup/c1/sub'));
  h.fs.write(h.fs.p('/sys/fs/cgroup/c1/sub/cgroup.procs'), '103');
  assert.equal(m.pids(), [101, 102, 103]);
  assert.equal(m.pids(false), [101, 102]);
  assert.is(m.freezerState(), 'thawed');
  m.freeze();
  assert.is(m.freezerState(), 'frozen');
  m.thaw();
  assert.is(m.freezerState(), 'thawed');
  // SIGTERM: freeze, signal each (ESRCH is fine), thaw.
  h.fs.write(h.fs.p('/sys/fs/cgroup/c1/cgroup.procs'), '999');
  h.fs.log.length = 0;
  m.killAll(15);
  assert.equal(h.killed, [
    [101, 15],
    [102, 15],
    [999, 15],
    [103, 15],
  ]);
  assert.equal(h.fs.writes('/sys/fs/cgroup/c1'), [
    ['cgroup.freeze', '1'],
    ['cgroup.freeze', '0'],
  ]);
  // SIGKILL: cgroup.kill.
  h.killed.length = 0;
  h.fs.log.length = 0;
  m.killAll(9);
  assert.equal(h.killed, []);
  assert.equal(h.fs.writes('/sys/fs/cgroup/c1'), [['cgroup.kill', '1']]);
  h.fs.write(h.fs.p('/sys/fs/cgroup/c1/memory.events'), 'low 0\nhigh 0\nmax 3\noom 2\noom_kill 2');
  assert.is(m.oomKillCount(), 2n);
  h.fs.cleanup();
});

test('v2 freeze: waits for cgroup.events, and thaws again when it never comes', () => {
  const h = harness(v2Fake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps) as V2Manager;
  m.create();
  // Make the kernel never report "frozen 1".
  h.fs.transforms.set('cgroup.freeze', (v) => v);
  const orig = h.fs.write.bind(h.fs);
  h.fs.write = (file, value) => {
    orig(file, value);
    if (file.endsWith('cgroup.freeze')) writeFileSync(file.replace('cgroup.freeze', 'cgroup.events'), 'populated 1\nfrozen 0\n');
  };
  throws(() => m.freeze(), `cannot freeze ${h.fs.p('/sys/fs/cgroup/c1')}: not frozen after 10 s`);
  assert.is(h.slept.length, 1000);
  assert.is(h.fs.content('/sys/fs/cgroup/c1/cgroup.freeze').trim(), '0');
  h.fs.cleanup();
});

test('v2 destroy: sub-cgroups first, EBUSY retried, then a clear error and a thawed cgroup', () => {
  const h = harness(v2Fake());
  const m = newManager(h.fs.layout(), abs('/hako/c1'), h.deps);
  m.create();
  h.fs.mkdir(h.fs.p('/sys/fs/cgroup/hako/c1/a'));
  h.fs.mkdir(h.fs.p('/sys/fs/cgroup/hako/c1/a/b'));
  m.destroy();
  assert.not.ok(m.exists());
  assert.ok(existsSync(h.fs.p('/sys/fs/cgroup/hako')), 'parents stay, as with runc');
  m.destroy(); // already gone: fine
  m.create();
  m.apply(42);
  m.freeze();
  const e = throws(() => m.destroy(), `cannot remove cgroup ${h.fs.p('/sys/fs/cgroup/hako/c1')}: device or resource busy (EBUSY) (processes are still in it)`);
  assert.is(e.code, 'EBUSY');
  assert.equal(h.slept, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
  assert.is(m.freezerState(), 'thawed', 'never left frozen');
  h.fs.cleanup();
});

test('v2 stats: runc shape from the cgroup files', () => {
  const h = harness(v2Fake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  const w = (f: string, v: string) => writeFileSync(h.fs.p(`/sys/fs/cgroup/c1/${f}`), v);
  w('cpu.stat', 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 20\n');
  w('memory.current', '8192\n');
  w('memory.max', 'max\n');
  w('memory.peak', '9000\n');
  w('memory.stat', 'anon 4096\nfile 4096\n');
  w('pids.current', '3\n');
  w('pids.max', '10\n');
  w('io.stat', '254:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n');
  w('hugetlb.2MB.events', 'max 2\n');
  const json = statsEventJson('c1', m.stats());
  assert.is(
    json,
    '{"type":"stats","id":"c1","data":{"cpu":{"usage":{"total":1500000,"kernel":500000,"user":1000000},"throttling":{"periods":4,"throttledPeriods":1,"throttledTime":20000}},' +
      '"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},' +
      '"memory":{"cache":4096,"usage":{"limit":18446744073709551615,"usage":8192,"max":9000,"failcnt":0},"swap":{"limit":18446744073709551615,"usage":8192,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0},"raw":{"anon":4096,"file":4096}},' +
      '"pids":{"current":3,"limit":10},"blkio":{"ioServiceBytesRecursive":[{"major":254,"op":"Read","value":4096},{"major":254,"op":"Write"}],"ioServicedRecursive":[{"major":254,"op":"Read","value":1},{"major":254,"op":"Write"}]},' +
      '"hugetlb":{"2MB":{"failcnt":2}},"intel_rdt":{},"network_interfaces":null}}',
  );
  h.fs.cleanup();
});

// --- cgroup v1 -------------------------------------------------------------------

test('v1 create: one directory per hierarchy (systemd included), cpuset copied down', () => {
  const h = harness(v1Fake());
  const m = newManager(h.fs.layout(), abs('/hako/c1'), h.deps);
  assert.instance(m, V1Manager);
  assert.equal(Object.keys(m.dirs).sort(), ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'name=systemd', 'pids']);
  m.create();
  for (const d of Object.values(m.dirs)) assert.ok(existsSync(d), d);
  assert.equal(h.fs.writes('/sys/fs/cgroup/cpuset'), [
    ['hako/cpuset.cpus', '0-1'],
    ['hako/cpuset.mems', '0'],
    ['hako/c1/cpuset.cpus', '0-1'],
    ['hako/c1/cpuset.mems', '0'],
  ]);
  h.fs.cleanup();
});

test('v1 create: a failure removes what was made', () => {
  const h = harness(v1Fake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  const mkdir = h.fs.mkdir.bind(h.fs);
  h.fs.mkdir = (d) => {
    if (d.includes('/pids/')) throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
    return mkdir(d);
  };
  throws(() => m.create(), `cannot create cgroup ${h.fs.p('/sys/fs/cgroup/pids/c1')}: permission denied (EACCES)`);
  assert.not.ok(m.exists());
  h.fs.cleanup();
});

test('v1 set: files per controller; devices from the inherited list; absent controller named', () => {
  const h = harness(v1Fake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  h.fs.log.length = 0;
  m.set({
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    ],
    memory: { limit: 1048576, swap: 2097152 },
    cpu: { shares: 512, quota: 50000, cpus: '1' },
    pids: { limit: 32 },
  });
  assert.equal(
    h.fs.log.map((w) => [w.file.slice(h.fs.p('/sys/fs/cgroup/').length), w.value]),
    [
      ['cpuset/c1/cpuset.cpus', '1'],
      ['devices/c1/devices.deny', 'a *:* rwm'],
      ['devices/c1/devices.allow', 'c 1:3 rwm'],
      ['memory/c1/memory.limit_in_bytes', '1048576'],
      ['memory/c1/memory.memsw.limit_in_bytes', '2097152'],
      ['cpu/c1/cpu.shares', '512'],
      ['cpu/c1/cpu.cfs_quota_us', '50000'],
      ['pids/c1/pids.max', '32'],
    ],
  );
  throws(
    () => m.set({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }),
    'config.json: /linux/resources/hugepageLimits/0: the hugetlb cgroup controller is not available on this host',
  );
  throws(
    () => m.set({ network: { classID: 5 } }),
    'config.json: /linux/resources/network/classID: the net_cls cgroup controller is not available on this host',
  );
  throws(() => m.set({ unified: { 'memory.high': '1' } }), 'config.json: /linux/resources/unified: cgroup v2 files cannot be set on a cgroup v1 host');
  h.fs.cleanup();
});

test('v1 set: memory ordering uses the current limit; EBUSY names the usage; clamped shares fail', () => {
  const h = harness(v1Fake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  h.fs.write(h.fs.p('/sys/fs/cgroup/memory/c1/memory.limit_in_bytes'), '1000');
  h.fs.log.length = 0;
  m.set({ memory: { limit: 2000, swap: 4000 } });
  assert.equal(h.fs.writes('/sys/fs/cgroup/memory/c1'), [
    ['memory.memsw.limit_in_bytes', '4000'],
    ['memory.limit_in_bytes', '2000'],
  ]);
  h.fs.write(h.fs.p('/sys/fs/cgroup/memory/c1/memory.usage_in_bytes'), '500000');
  h.fs.failures.set('memory.limit_in_bytes', ['EBUSY']);
  throws(
    () => m.set({ memory: { limit: 4096 } }),
    `config.json: /linux/resources/memory/limit: writing "4096" to ${h.fs.p('/sys/fs/cgroup/memory/c1/memory.limit_in_bytes')}: device or resource busy (EBUSY) (the current usage, 500000 bytes, is above the new limit)`,
  );
  h.fs.transforms.set('cpu.shares', (v) => String(Math.min(Number(v), 262144)));
  throws(
    () => m.set({ cpu: { shares: 500000 } }),
    'config.json: /linux/resources/cpu/shares: the kernel set cpu.shares to 262144 rather than 500000 (the maximum it allows)',
  );
  h.fs.cleanup();
});

test('v1 freeze: retries FREEZING, then FROZEN; state honours self_freezing; killAll freezes around signals', () => {
  const h = harness(v1Fake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  m.apply(7);
  h.fs.freezingRounds = 3;
  m.freeze();
  const states = () =>
    h.fs
      .writes('/sys/fs/cgroup/freezer/c1')
      .filter(([f]) => f === 'freezer.state')
      .map(([, v]) => v);
  assert.equal(states(), ['FROZEN', 'FROZEN', 'FROZEN', 'FROZEN']);
  h.fs.write(h.fs.p('/sys/fs/cgroup/freezer/c1/freezer.self_freezing'), '1');
  assert.is(m.freezerState(), 'frozen');
  h.fs.write(h.fs.p('/sys/fs/cgroup/freezer/c1/freezer.self_freezing'), '0');
  assert.is(m.freezerState(), 'thawed', 'frozen by a parent is not paused');
  m.thaw();
  assert.is(m.freezerState(), 'thawed');
  h.fs.log.length = 0;
  m.killAll(9);
  assert.equal(h.killed, [[7, 9]]);
  assert.equal(states(), ['FROZEN', 'THAWED']);
  // Processes still in it: removal fails after retries, and the cgroup is thawed.
  m.freeze();
  throws(() => m.destroy(), /cannot remove cgroup .*\/c1: device or resource busy \(EBUSY\) \(processes are still in it\)/);
  assert.is(h.fs.content('/sys/fs/cgroup/freezer/c1/freezer.state').trim(), 'THAWED');
  h.fs.cleanup();
});

test('v1 apply, pids, destroy, exists, oom count', () => {
  const h = harness(v1Fake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  m.apply(11);
  for (const d of Object.values(m.dirs)) assert.is(readFileSync(`${d}/cgroup.procs`, 'utf8'), '11\n');
  assert.equal(m.pids(), [11]);
  h.fs.write(h.fs.p('/sys/fs/cgroup/memory/c1/memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 4');
  assert.is(m.oomKillCount(), 4n);
  // The process leaves (exits): now removable.
  for (const d of Object.values(m.dirs)) writeFileSync(`${d}/cgroup.procs`, '');
  m.destroy();
  assert.not.ok(m.exists());
  h.fs.cleanup();
});

test('v1 stats: runc shape (cpuacct, cpuset, memory with swap and kmem, pids, blkio)', () => {
  const h = harness(v1Fake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  const w = (f: string, v: string) => writeFileSync(h.fs.p(`/sys/fs/cgroup/${f}`), v);
  w('cpuacct/c1/cpuacct.usage', '13988023\n');
  w('cpuacct/c1/cpuacct.usage_percpu', '13988023 0 \n');
  w('cpuacct/c1/cpuacct.usage_all', 'cpu user system\n0 0 8000000\n1 0 0\n');
  w('cpuacct/c1/cpuacct.stat', 'user 0\nsystem 1\n');
  w('memory/c1/memory.usage_in_bytes', '1732608\n');
  w('memory/c1/memory.max_usage_in_bytes', '1732608\n');
  w('memory/c1/memory.limit_in_bytes', '104857600\n');
  w('memory/c1/memory.memsw.usage_in_bytes', '1732608\n');
  w('memory/c1/memory.memsw.max_usage_in_bytes', '1732608\n');
  w('memory/c1/memory.memsw.failcnt', '0\n');
  w('memory/c1/memory.stat', 'cache 4096\nrss 1257472\n');
  w('pids/c1/pids.current', '4\n');
  w('pids/c1/pids.max', '32\n');
  w('blkio/c1/blkio.throttle.io_serviced_recursive', '254:0 Read 1\n254:0 Write 0\nTotal 1\n');
  w('blkio/c1/blkio.throttle.io_service_bytes_recursive', '254:0 Read 4096\n254:0 Write 0\nTotal 4096\n');
  w('cpuset/c1/cpuset.sched_relax_domain_level', '-1\n');
  const json = statsEventJson('probe', m.stats());
  assert.is(
    json,
    '{"type":"stats","id":"probe","data":{"cpu":{"usage":{"total":13988023,"percpu":[13988023,0],"percpu_kernel":[8000000,0],"percpu_user":[0,0],"kernel":10000000,"user":0},"throttling":{}},' +
      '"cpuset":{"cpus":[0,1],"cpu_exclusive":0,"mems":[0],"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":-1},' +
      '"memory":{"cache":4096,"usage":{"limit":104857600,"usage":1732608,"max":1732608,"failcnt":0},"swap":{"limit":9223372036854771712,"usage":1732608,"max":1732608,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0},"raw":{"cache":4096,"rss":1257472}},' +
      '"pids":{"current":4,"limit":32},"blkio":{"ioServiceBytesRecursive":[{"major":254,"op":"Read","value":4096},{"major":254,"op":"Write"}],"ioServicedRecursive":[{"major":254,"op":"Read","value":1},{"major":254,"op":"Write"}]},' +
      '"hugetlb":{},"intel_rdt":{},"network_interfaces":null}}',
  );
  h.fs.cleanup();
});

// --- hybrid -------------------------------------------------------------------------

test('hybrid: v1 hierarchies plus the unified tree, which is left alone until needed', () => {
  const h = harness(hybridFake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  assert.instance(m, HybridManager);
  assert.is(m.dirs[''], h.fs.p('/sys/fs/cgroup/unified/c1'));
  m.create();
  assert.ok(existsSync(h.fs.p('/sys/fs/cgroup/unified/c1')));
  assert.equal(h.fs.writes('/sys/fs/cgroup/unified'), []);
  m.apply(5);
  assert.is(h.fs.content('/sys/fs/cgroup/unified/c1/cgroup.procs'), '5\n');
  assert.is(h.fs.content('/sys/fs/cgroup/memory/c1/cgroup.procs'), '5\n');
  h.fs.cleanup();
});

test('hybrid set: v1 where mounted, hugetlb through the unified tree, unified keys there too', () => {
  const h = harness(hybridFake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  h.fs.log.length = 0;
  m.set({ pids: { limit: 5 }, hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }], unified: { 'cgroup.max.depth': '2' } });
  assert.equal(
    h.fs.log.map((w) => [w.file.slice(h.fs.p('/sys/fs/cgroup/').length), w.value]),
    [
      ['pids/c1/pids.max', '5'],
      ['unified/cgroup.subtree_control', '+hugetlb'],
      ['unified/c1/hugetlb.2MB.max', '2097152'],
      ['unified/c1/hugetlb.2MB.rsvd.max', '2097152'],
      ['unified/c1/cgroup.max.depth', '2'],
    ],
  );
  throws(
    () => m.set({ unified: { 'memory.high': '1' } }),
    'config.json: /linux/resources/unified/memory.high: the memory cgroup controller is not available on this host',
  );
  throws(() => m.set({ rdma: { mlx: { hcaHandles: 1 } } }), 'config.json: /linux/resources/rdma/mlx: the rdma cgroup controller is not available on this host');
  // Device rules stay with v1's devices controller.
  h.fs.log.length = 0;
  m.set({ devices: [{ allow: false }] });
  assert.equal(h.filters, []);
  assert.equal(h.fs.writes('/sys/fs/cgroup/devices/c1'), [['devices.deny', 'a *:* rwm']]);
  h.fs.cleanup();
});

test('hybrid without a v1 devices hierarchy: device rules become an eBPF filter on the unified tree', () => {
  const f = new FakeCgroupFs();
  f.addV1('/sys/fs/cgroup/memory', ['memory']);
  f.addV2('/sys/fs/cgroup/unified', []);
  const h = harness(f);
  const m = newManager(f.layout(), abs('/c1'), h.deps);
  m.create();
  m.set({ devices: [{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3 }] });
  assert.equal(h.filters, [[f.p('/sys/fs/cgroup/unified/c1'), 13 * 8]]);
  f.cleanup();
});

test('hybrid: SIGKILL through the unified cgroup.kill; freezing with the v1 freezer; hugetlb stats from unified', () => {
  const h = harness(hybridFake());
  const m = newManager(h.fs.layout(), abs('/c1'), h.deps);
  m.create();
  m.apply(8);
  h.fs.log.length = 0;
  m.killAll(9);
  assert.equal(h.fs.writes('/sys/fs/cgroup/unified/c1'), [['cgroup.kill', '1']]);
  m.freeze();
  assert.is(h.fs.content('/sys/fs/cgroup/freezer/c1/freezer.state').trim(), 'FROZEN');
  assert.is(m.freezerState(), 'frozen');
  m.thaw();
  m.set({ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] });
  writeFileSync(h.fs.p('/sys/fs/cgroup/unified/c1/hugetlb.2MB.current'), '4096\n');
  assert.equal(m.stats().hugetlb, { '2MB': { usage: 4096n, max: 0n, failcnt: 0n } });
  h.fs.cleanup();
});

test('loadManager: the recorded directories find the same cgroup, from any cgroup', () => {
  for (const make of [hybridFake, v1Fake, () => v2Fake()]) {
    const h = harness(make());
    // Created from one cgroup with a relative path...
    const m = newManager(h.fs.layout('/user.slice'), resolveCgroupPath({ id: 'c9' }), h.deps);
    h.fs.mkdir(h.fs.p('/sys/fs/cgroup/user.slice')); // v2 parent (ignored elsewhere)
    for (const k of Object.keys(m.dirs)) if (k !== '') h.fs.mkdir(m.dirs[k]!.replace(/\/c9$/, ''));
    if (m.dirs['']) h.fs.mkdir(m.dirs['']!.replace(/\/c9$/, ''));
    m.create();
    // ...found again from another.
    const again: CgroupManager = loadManager(h.fs.layout('/elsewhere'), JSON.parse(JSON.stringify(m.dirs)), h.deps);
    assert.equal(again.dirs, m.dirs);
    assert.is(again.mode, m.mode);
    assert.ok(again.exists());
    again.destroy();
    assert.not.ok(m.exists());
    h.fs.cleanup();
  }
  const h = harness(v2Fake());
  throws(() => loadManager(h.fs.layout(), { memory: '/sys/fs/cgroup/memory/x' }, h.deps), /does not match this host's cgroup layout \(v2\)/);
  h.fs.cleanup();
});

test('newManager: no cgroups at all is a clear error', () => {
  throws(() => newManager({ mode: 'none', hierarchies: [], self: new Map() }, abs('/x')), 'this host has no cgroup hierarchy mounted (/sys/fs/cgroup)');
});

test.run();
