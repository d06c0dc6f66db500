// hako explain's pure parts: the plan read back into sections (view.ts),
// the names of its numbers, and the dry-run cgroup filesystem, which must
// make create's manager code write exactly what it writes on a cgroup
// filesystem that reacts like the kernel (the managers' fake).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPlan } from '../../src/launch/plan.js';
import { buildExecPlan } from '../../src/launch/exec-plan.js';
import { rec } from '../../src/launch/tlv.js';
import { planView } from '../../src/explain/view.js';
import { memPolicyMode, msFlags, namespaceTypes, propagationName } from '../../src/explain/names.js';
import { DryRunFs } from '../../src/cgroups/dry-run.js';
import { newManager } from '../../src/cgroups/manager.js';
import { resolveCgroupPath } from '../../src/cgroups/path.js';
import { explanationText } from '../../src/explain/text.js';
import { hybridFake, v2Fake, type FakeCgroupFs } from './cgroups-fake.js';

function spec(edit?: (c: any) => void): any {
  const c: any = {
    ociVersion: '1.3.0',
    root: { path: 'rootfs', readonly: true },
    hostname: 'box',
    process: {
      args: ['sh', '-c', 'true'],
      cwd: '/',
      env: ['PATH=/bin', 'A=1', 'A=2'],
      user: { uid: 1000, gid: 1000, additionalGids: [5], umask: 0o22 },
      capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 18446744073709551615 }],
      noNewPrivileges: true,
      oomScoreAdj: 100,
    },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'ro', 'rslave'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }, { type: 'network', path: '/proc/1/ns/net' }],
      devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600 }],
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
      sysctl: { 'kernel.msgmax': '8192' },
      memoryPolicy: { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] },
    },
    hooks: { createContainer: [{ path: '/bin/hook', args: ['hook', 'a'], timeout: 3 }] },
  };
  edit?.(c);
  return c;
}
const opts = { id: 'x', bundle: '/b', fifoPath: '/run/hako/x/exec.fifo', capLastCap: 40 };

test('view: every section of a create plan, with names for the numbers', () => {
  const v = planView(buildPlan(spec(), opts).records);
  assert.is(v.mode, 'create');
  assert.equal(v.namespaces.new, ['pid', 'mount', 'ipc', 'uts']);
  assert.equal(v.namespaces.join, [{ type: 'network', path: '/proc/1/ns/net' }]);
  assert.equal(v.rootfs, { path: '/b/rootfs', readonly: true, pivot: 'pivot_root', propagation: 'rslave' });
  assert.is(v.hostname, 'box');
  assert.equal(
    v.mounts.map((m) => m.target),
    ['/proc', '/data'],
  );
  const bind = v.mounts[1]!;
  assert.is(bind.source, '/srv');
  assert.ok(bind.flags.includes('MS_BIND') && bind.flags.includes('MS_REC'));
  assert.equal(bind.propagation, ['rslave']);
  assert.ok(bind.remount?.includes('MS_RDONLY') || bind.recursive?.set.includes('MOUNT_ATTR_RDONLY'), 'ro applied after the bind');
  assert.equal(
    v.devices.find((d) => d.path === '/dev/fuse'),
    { path: '/dev/fuse', type: 'c', major: 10, minor: 229, mode: '0600', uid: 0, gid: 0, bind: false },
  );
  assert.equal(v.maskedPaths, ['/proc/kcore']);
  assert.equal(v.readonlyPaths, ['/proc/sys']);
  assert.equal(v.sysctl, { 'kernel.msgmax': '8192' });
  assert.equal(v.memoryPolicy, { mode: 'MPOL_BIND', flags: ['MPOL_F_STATIC_NODES'], nodes: [0] });
  assert.is(v.execFifo, '/run/hako/x/exec.fifo');
  assert.equal(v.hooks.createContainer, [{ path: '/bin/hook', args: ['hook', 'a'], env: [], timeout: 3 }]);
  const p = v.process;
  assert.equal(p.args, ['sh', '-c', 'true']);
  assert.equal(p.env, ['PATH=/bin', 'A=2'], 'deduplicated as the launcher gets it');
  assert.equal(p.user, { uid: 1000, gid: 1000, additionalGids: [5], umask: '0022', setgroupsDenied: false });
  assert.equal(p.capabilities.bounding, ['CAP_CHOWN', 'CAP_KILL']);
  assert.equal(p.capabilities.effective, ['CAP_KILL']);
  assert.equal(p.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 'unlimited' }]);
  assert.is(p.noNewPrivileges, true);
  assert.is(p.oomScoreAdj, 100);
  assert.is(p.sessionKeyring, '_ses.x');
  assert.equal(p.other, []);
});

test('view: the process of create and of exec of the same process agree', () => {
  const s = spec();
  const create = planView(buildPlan(s, opts).records);
  const exec = planView(
    buildExecPlan(s, s.process, { id: 'x', rootfs: '/b/rootfs', joinNamespaces: 0x20000000 | 0x20000, mountNamespace: true, capLastCap: 40 }).records,
  );
  assert.is(exec.mode, 'exec');
  assert.equal(exec.execJoin, ['pid', 'mount']);
  assert.equal(exec.process, create.process);
  assert.equal(exec.mounts, []);
});

test('view: a record it has no field for is shown by its tag name, not dropped', () => {
  const v = planView([rec('MODE', 1), rec('INIT_PID', 7)]);
  assert.equal(v.process.other, [{ tag: 'INIT_PID', value: 7 }]);
});

test('names: flags, propagation, namespaces, memory policy', () => {
  assert.equal(msFlags(4096 | 16384 | 1), ['MS_RDONLY', 'MS_BIND', 'MS_REC']);
  assert.equal(msFlags(1 << 30), ['0x40000000']);
  assert.is(propagationName((1 << 19) | 16384), 'rslave');
  assert.equal(namespaceTypes(0x20000000 | 0x80), ['pid', 'time']);
  assert.equal(memPolicyMode(2 | (1 << 15)), { mode: 'MPOL_BIND', flags: ['MPOL_F_STATIC_NODES'] });
});

/** create's cgroup steps on the fake (which reacts as the kernel does) and on a dry run over the fake's initial state. */
function compare(mkFake: () => FakeCgroupFs, cgroupsPath: string, resources: any): void {
  const real = mkFake();
  const filters: number[] = [];
  const m = newManager(real.layout(), resolveCgroupPath({ cgroupsPath, id: 'x' }), {
    fs: real,
    deviceFilter: { attach: (_d, p) => void filters.push(p.length / 8) },
    sleep: () => {},
  });
  m.create();
  const warnReal = m.set(resources);
  const before = mkFake();
  const dry = new DryRunFs(before, before.layout());
  const d = newManager(before.layout(), resolveCgroupPath({ cgroupsPath, id: 'x' }), { fs: dry, deviceFilter: dry.deviceFilter, sleep: () => {} });
  d.create();
  const warnDry = d.set(resources);
  // The fake's paths are below its own root: compare relative to it.
  const rel = (fs: FakeCgroupFs, p: string) => p.slice(fs.root.length);
  assert.equal(
    dry.ops.filter((o) => o.op === 'write').map((o) => [rel(before, o.path), (o as { value: string }).value]),
    real.log.map((w) => [rel(real, w.file), w.value]),
  );
  assert.equal(
    dry.ops.filter((o) => o.op === 'device-filter').map((o) => (o as { instructions: number }).instructions),
    filters,
  );
  assert.equal(warnDry, warnReal);
  assert.ok(dry.ops.some((o) => o.op === 'mkdir'));
  assert.is(before.log.length, 0, 'the dry run wrote nothing');
  assert.not.ok(before.exists(d.dirs['']! ?? Object.values(d.dirs)[0]!), 'and made nothing');
  real.cleanup();
  before.cleanup();
}

const RESOURCES = {
  memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20 },
  cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
  pids: { limit: 100 },
  devices: [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  ],
};

test('dry run: cgroup v2, a nested path: the same writes as on the kernel-like fake, nothing made', () => {
  compare(() => v2Fake(), '/hako/nested/x', RESOURCES);
});

test("dry run: hybrid (this machine's shape): the same writes, cpuset copied down, device rules to devices.allow", () => {
  compare(() => hybridFake(), '/x', RESOURCES);
});

test("text: sections in create's order, nothing left out of the process", () => {
  const plan = planView(buildPlan(spec(), opts).records);
  const t = explanationText({
    operation: 'create',
    id: 'x',
    bundle: '/b',
    config: spec(),
    plan,
    cgroup: null,
    hooks: { prestart: [], createRuntime: [], createContainer: plan.hooks.createContainer, startContainer: [], poststart: [], poststop: [] },
    netDevices: [],
    warnings: [],
    debug: [],
  });
  const order = [
    'namespaces:',
    'cgroup:',
    'root filesystem:',
    'mounts, in order:',
    'devices:',
    'masked paths:',
    'read-only paths:',
    'sysctls:',
    'process:',
    'hooks, in order:',
  ].map((h) => t.indexOf(`\n${h}\n`));
  assert.ok(
    order.every((i) => i > 0),
    t,
  );
  assert.equal(
    [...order].sort((a, b) => a - b),
    order,
  );
  assert.match(t, /createContainer: \["hook","a"\] \(\/bin\/hook\) timeout 3s/);
  assert.match(t, /rlimit RLIMIT_NOFILE: soft 1024 hard unlimited/);
});

test.run();
