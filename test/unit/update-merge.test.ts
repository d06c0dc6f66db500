// How an update request merges onto the recorded resources (pure), and the
// reading of a --resources document. The cgroup writes themselves are the
// managers' (cgroups-*.test.ts) and the integration tests'.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tmpdir } from 'node:os';
import { mergeResources, readResourcesDocument } from '../../src/container/update.js';
import type { LinuxResources } from '../../src/spec/types.js';

const recorded: LinuxResources = {
  devices: [{ allow: false, access: 'rwm' }],
  memory: { limit: 64 << 20, swap: 128 << 20 },
  cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0' },
  pids: { limit: 50 },
};

test('a section the request touches is written whole; the others are left alone', () => {
  const m = mergeResources(recorded, { memory: { limit: 96 << 20 } });
  assert.equal(m.merged.memory, { limit: 96 << 20, swap: 128 << 20 });
  assert.equal(m.merged.cpu, recorded.cpu);
  assert.equal(m.merged.devices, recorded.devices);
  assert.equal(m.apply, { memory: { limit: 96 << 20, swap: 128 << 20 } });
  assert.equal(m.restore, { memory: { limit: 64 << 20, swap: 128 << 20 } });
  assert.equal(m.warnings, []);
});

test('the recorded resources are not modified', () => {
  const before = structuredClone(recorded);
  mergeResources(recorded, { memory: { limit: 1 }, cpu: { quota: 1 }, pids: { limit: 3 } });
  assert.equal(recorded, before);
});

test('cpu quota alone keeps the recorded period (and the other way round)', () => {
  assert.equal(mergeResources(recorded, { cpu: { quota: 20000 } }).apply.cpu, { shares: 1024, quota: 20000, period: 100000, cpus: '0' });
  assert.equal(mergeResources(recorded, { cpu: { period: 50000 } }).merged.cpu, { shares: 1024, quota: 50000, period: 50000, cpus: '0' });
  assert.equal(mergeResources({}, { cpu: { quota: 20000 } }).merged.cpu, { quota: 20000 });
});

test('0 (and an empty cpuset) leaves a setting as it is, as in runc', () => {
  const m = mergeResources(recorded, {
    memory: { limit: 0, reservation: 0, swap: 0 },
    cpu: { shares: 0, quota: 0, period: 0, realtimePeriod: 0, realtimeRuntime: 0, cpus: '', mems: '' },
    pids: { limit: 0 },
    blockIO: { weight: 0 },
  });
  assert.equal(m.merged, recorded);
  assert.equal(m.apply, {});
  // The podman/runc "unchanged values can be omitted" document.
  const full = mergeResources(recorded, {
    memory: { limit: 0, reservation: 0, swap: 0 },
    cpu: { shares: 0, quota: 0, period: 0, cpus: '', mems: '' },
    blockIO: { weight: 0 },
    pids: { limit: 77 },
  });
  assert.equal(full.apply, { pids: { limit: 77 } });
});

test('memory -1 without swap means both unlimited; with swap, swap as given', () => {
  assert.equal(mergeResources(recorded, { memory: { limit: -1 } }).merged.memory, { limit: -1, swap: -1 });
  assert.equal(mergeResources(recorded, { memory: { limit: -1, swap: 0 } }).merged.memory, { limit: -1, swap: -1 });
  assert.equal(mergeResources(recorded, { memory: { limit: -1, swap: 256 << 20 } }).merged.memory, { limit: -1, swap: 256 << 20 });
});

test('kernel memory is warned about and never written; devices are ignored', () => {
  const m = mergeResources(
    { memory: { limit: 1 << 20, kernel: 1 << 20 } },
    { memory: { kernel: 5 << 20, kernelTCP: 1 << 20, reservation: 1 << 19 }, devices: [{ allow: true, access: 'rwm' }] },
  );
  assert.equal(m.warnings, ['Kernel memory settings are ignored and will be removed']);
  assert.equal(m.apply, { memory: { limit: 1 << 20, reservation: 1 << 19 } });
  assert.equal(m.merged.devices, undefined);
  assert.equal(m.ignored.length, 1);
  // A request with nothing but kernel memory touches nothing.
  assert.equal(mergeResources(recorded, { memory: { kernel: 1 } }).apply, {});
});

test('lists merge by key; maps by name', () => {
  const rec: LinuxResources = {
    blockIO: { weight: 100, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }], weightDevice: [{ major: 8, minor: 0, weight: 200 }] },
    hugepageLimits: [{ pageSize: '2MB', limit: 1 << 21 }],
    rdma: { mlx5_0: { hcaHandles: 3 } },
    unified: { 'memory.high': '1000000' },
    network: { classID: 1, priorities: [{ name: 'eth0', priority: 1 }] },
  };
  const m = mergeResources(rec, {
    blockIO: {
      throttleReadBpsDevice: [
        { major: 8, minor: 0, rate: 2000 },
        { major: 8, minor: 16, rate: 5 },
      ],
    },
    hugepageLimits: [
      { pageSize: '1GB', limit: 0 },
      { pageSize: '2MB', limit: 1 << 22 },
    ],
    rdma: { mlx5_1: { hcaObjects: 9 } },
    unified: { 'pids.max': '9' },
    network: { priorities: [{ name: 'lo', priority: 2 }] },
  });
  assert.equal(m.merged.blockIO, {
    weight: 100,
    throttleReadBpsDevice: [
      { major: 8, minor: 0, rate: 2000 },
      { major: 8, minor: 16, rate: 5 },
    ],
    weightDevice: [{ major: 8, minor: 0, weight: 200 }],
  });
  assert.equal(m.merged.hugepageLimits, [
    { pageSize: '2MB', limit: 1 << 22 },
    { pageSize: '1GB', limit: 0 },
  ]);
  assert.equal(m.merged.rdma, { mlx5_0: { hcaHandles: 3 }, mlx5_1: { hcaObjects: 9 } });
  assert.equal(m.merged.unified, { 'memory.high': '1000000', 'pids.max': '9' });
  assert.equal(m.merged.network, {
    classID: 1,
    priorities: [
      { name: 'eth0', priority: 1 },
      { name: 'lo', priority: 2 },
    ],
  });
  assert.equal(Object.keys(m.apply).sort(), ['blockIO', 'hugepageLimits', 'network', 'rdma', 'unified']);
  assert.equal(m.restore.unified, { 'memory.high': '1000000' });
});

test('other fields replace what is recorded', () => {
  const m = mergeResources(recorded, { memory: { swappiness: 10, checkBeforeUpdate: true }, cpu: { burst: 0, idle: 1 } });
  assert.equal(m.merged.memory, { limit: 64 << 20, swap: 128 << 20, swappiness: 10, checkBeforeUpdate: true });
  assert.equal(m.merged.cpu, { shares: 1024, quota: 50000, period: 100000, cpus: '0', burst: 0, idle: 1 });
});

test('--resources documents: validated, errors name the file and JSON path', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'hako-update-'));
  try {
    const f = path.join(dir, 'res.json');
    writeFileSync(f, '{"memory":{"limit":1048576},"pids":{"limit":10}}');
    assert.equal(readResourcesDocument(f), { memory: { limit: 1048576 }, pids: { limit: 10 } });
    writeFileSync(f, '{"memory":{"limit":"1g"}}');
    assert.throws(
      () => readResourcesDocument(f),
      (e: Error) => e.message.startsWith(`${f}: /memory/limit: `),
    );
    writeFileSync(f, '{"cpu":{"shares":1}');
    assert.throws(
      () => readResourcesDocument(f),
      (e: Error) => e.message.startsWith(`${f}: invalid JSON at line 1`),
    );
    assert.throws(() => readResourcesDocument(path.join(dir, 'missing.json')), /missing\.json: cannot read .*missing\.json: no such file or directory$/);
    assert.equal(
      readResourcesDocument('-', () => '{"cpu":{"quota":1000}}'),
      { cpu: { quota: 1000 } },
    );
    assert.throws(
      () => readResourcesDocument('-', () => '[]'),
      (e: Error) => e.message.startsWith('stdin: '),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
