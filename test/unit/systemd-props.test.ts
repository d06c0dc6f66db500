// What systemd is told: the unit's own properties (runc's) and the limits
// as systemd's properties, derived from the same cgroup writes hako makes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CgroupError } from '../../src/cgroups/cgroup-error.js';
import {
  annotationProperties,
  deviceProperties,
  ioWeightFromBfq,
  parseGVariant,
  quotaPerSec,
  rangeToBits,
  resourceProperties,
  unitProperties,
  v1Properties,
  v2Properties,
} from '../../src/cgroups/systemd-props.js';
import { runcDefaultDeviceRules } from '../../src/cgroups/devices.js';
import { resolveSystemdPath } from '../../src/cgroups/systemd-unit.js';
import type { Property } from '../../src/dbus/systemd1.js';
import { Variant } from '../../src/dbus/wire.js';

const INF = (1n << 64n) - 1n;
/** Properties as name → [signature, value] pairs, easy to compare. */
const flat = (ps: Property[]) => ps.map(([n, v]) => [n, v.signature, v.value instanceof Uint8Array ? [...v.value] : v.value]);

test("the unit's own properties: runc's set", () => {
  const u = resolveSystemdPath({ cgroupsPath: 'system.slice:hako:c1', id: 'c1' });
  assert.equal(flat(unitProperties(u, 42, 'v2')), [
    ['Description', 's', 'hako container c1'],
    ['Slice', 's', 'system.slice'],
    ['Delegate', 'b', true],
    ['PIDs', 'au', [42]],
    ['MemoryAccounting', 'b', true],
    ['CPUAccounting', 'b', true],
    ['IOAccounting', 'b', true],
    ['TasksAccounting', 'b', true],
    ['DefaultDependencies', 'b', false],
  ]);
  // v1 has BlockIOAccounting; a slice unit has Wants= and no PIDs.
  const s = resolveSystemdPath({ cgroupsPath: 'machine.slice:x:machine-p.slice', id: 'x' });
  const names = flat(unitProperties(s, 42, 'v1')).map((p) => p[0]);
  assert.equal(names, ['Description', 'Wants', 'MemoryAccounting', 'CPUAccounting', 'BlockIOAccounting', 'TasksAccounting', 'DefaultDependencies']);
});

test('v2 limits: the same values as the files, "max" as infinity', () => {
  const p = resourceProperties(
    {
      memory: { limit: 64 << 20, reservation: 32 << 20, swap: 96 << 20 },
      pids: { limit: 50 },
      cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1', mems: '0' },
    },
    'v2',
  );
  assert.equal(flat(p), [
    ['TasksMax', 't', 50n],
    ['MemorySwapMax', 't', 32n << 20n],
    ['MemoryMax', 't', 64n << 20n],
    ['MemoryLow', 't', 32n << 20n],
    // shares 1024 → weight 100, as the cgroupfs driver writes cpu.weight.
    ['CPUWeight', 't', 100n],
    ['CPUQuotaPerSecUSec', 't', 500_000n],
    ['CPUQuotaPeriodUSec', 't', 100_000n],
    ['AllowedCPUs', 'ay', [3]],
    ['AllowedMemoryNodes', 'ay', [1]],
  ]);
  assert.equal(flat(resourceProperties({ memory: { limit: -1 }, pids: { limit: -1 }, cpu: { period: 200000 } }, 'v2')), [
    ['TasksMax', 't', INF],
    ['MemorySwapMax', 't', INF],
    ['MemoryMax', 't', INF],
    ['CPUQuotaPerSecUSec', 't', INF],
    ['CPUQuotaPeriodUSec', 't', 200_000n],
  ]);
});

test('v2: unified values systemd knows become properties too (the last one wins, as in the files)', () => {
  const p = resourceProperties(
    {
      memory: { limit: 1 << 20 },
      unified: {
        'memory.max': '2097152',
        'memory.high': '1048576',
        'memory.min': 'max',
        'cpu.weight': '300',
        'cpu.max': 'max',
        'pids.max': '7',
        'io.weight': 'default 200\n8:0 50',
        'hugetlb.2MB.max': '0',
      },
    },
    'v2',
  );
  assert.equal(flat(p), [
    ['MemoryMax', 't', 1n << 20n],
    ['MemoryMax', 't', 2n << 20n],
    ['MemoryHigh', 't', 1n << 20n],
    ['MemoryMin', 't', INF],
    ['CPUWeight', 't', 300n],
    ['CPUQuotaPerSecUSec', 't', INF],
    ['CPUQuotaPeriodUSec', 't', 100_000n],
    ['TasksMax', 't', 7n],
    ['IOWeight', 't', 200n],
    ['IODeviceWeight', 'a(st)', [['/dev/block/8:0', 50n]]],
  ]);
  // Values the files would refuse are not guessed at.
  assert.equal(v2Properties([{ controller: 'memory', file: 'memory.max', value: 'lots', from: 'x' }]), []);
});

test('v2: BFQ weights become the IOWeight systemd maps back to them', () => {
  assert.equal(flat(v2Properties([{ controller: 'io', file: 'io.bfq.weight', value: '500', from: 'x' }])), [['IOWeight', 't', ioWeightFromBfq(500n)]]);
  assert.is(ioWeightFromBfq(100n), 100n);
  assert.is(ioWeightFromBfq(1000n), 10000n);
  assert.is(ioWeightFromBfq(10n), 10n);
});

test("v1 limits: systemd's v1 names; cpuset stays with the files", () => {
  const p = resourceProperties(
    {
      memory: { limit: 64 << 20 },
      pids: { limit: 9 },
      cpu: { shares: 512, quota: 25000, period: 50000, cpus: '0' },
      blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 200 }] },
    },
    'v1',
  );
  assert.equal(flat(p), [
    ['MemoryLimit', 't', 64n << 20n],
    ['CPUShares', 't', 512n],
    ['TasksMax', 't', 9n],
    ['BlockIOWeight', 't', 300n],
    ['BlockIODeviceWeight', 'a(st)', [['/dev/block/8:0', 200n]]],
    ['CPUQuotaPeriodUSec', 't', 50_000n],
    ['CPUQuotaPerSecUSec', 't', 500_000n],
  ]);
  assert.equal(flat(v1Properties([{ controller: 'cpu', file: 'cpu.cfs_quota_us', value: '-1', from: 'x' }])), [['CPUQuotaPerSecUSec', 't', INF]]);
  // On a hybrid host unified values go to the unified tree, not to systemd.
  assert.equal(resourceProperties({ unified: { 'memory.high': '5' } }, 'hybrid'), []);
});

test('CPU quota per second: rounded up to 10 ms, as runc does', () => {
  assert.is(quotaPerSec(50000n, 100000n), 500_000n);
  assert.is(quotaPerSec(12345n, 100000n), 130_000n);
  assert.is(quotaPerSec(1000n, 0n), 10_000n);
  assert.is(quotaPerSec(-1n, 100000n), INF);
});

test('CPU lists as bitmasks', () => {
  assert.equal([...rangeToBits('0')!], [1]);
  assert.equal([...rangeToBits('0-3,8')!], [15, 1]);
  assert.equal([...rangeToBits('9,1')!], [2, 2]);
  assert.is(rangeToBits('3-1'), undefined);
  assert.is(rangeToBits('a'), undefined);
});

test('devices: strict with one entry per allowed device, the way runc spells them', () => {
  const { properties, warnings } = deviceProperties({
    devices: runcDefaultDeviceRules([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'b', major: 8, access: 'r' },
    ]),
  });
  assert.equal(warnings, []);
  assert.equal(flat(properties), [
    ['DevicePolicy', 's', 'strict'],
    ['DeviceAllow', 'a(ss)', []],
    [
      'DeviceAllow',
      'a(ss)',
      [
        ['block-*', 'm'],
        ['char-*', 'm'],
        ['/dev/char/1:3', 'rwm'],
        ['/dev/char/1:5', 'rwm'],
        ['/dev/char/1:7', 'rwm'],
        ['/dev/char/1:8', 'rwm'],
        ['/dev/char/1:9', 'rwm'],
        ['/dev/char/5:0', 'rwm'],
        ['/dev/char/5:2', 'rwm'],
        ['block-8', 'r'],
        ['/dev/char/10:200', 'rwm'],
        ['char-136', 'rwm'],
      ],
    ],
  ]);
  // Allow-all: no policy at all.
  assert.equal(flat(deviceProperties({ devices: [{ allow: true, access: 'rwm' }] }).properties), [
    ['DevicePolicy', 's', 'auto'],
    ['DeviceAllow', 'a(ss)', []],
  ]);
  // What systemd cannot say is left to hako's rules, with a warning.
  const odd = deviceProperties({
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', minor: 3, access: 'rw' },
    ],
  });
  assert.equal(flat(odd.properties).slice(2), [['DeviceAllow', 'a(ss)', []]]);
  assert.match(odd.warnings[0]!, /systemd cannot express c \*:3 rw/);
  const deny = deviceProperties({
    devices: [
      { allow: true, access: 'rwm' },
      { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
    ],
  });
  assert.equal(flat(deny.properties), [
    ['DevicePolicy', 's', 'strict'],
    ['DeviceAllow', 'a(ss)', []],
  ]);
  assert.match(deny.warnings[0]!, /systemd has no deny rules/);
});

test('org.systemd.property.* annotations: GVariant text, Sec becomes USec', () => {
  assert.equal(
    flat(
      annotationProperties({
        'org.systemd.property.TimeoutStopSec': '5',
        'org.systemd.property.CollectMode': "'inactive-or-failed'",
        'org.systemd.property.IgnoreSIGPIPE': 'false',
        'org.systemd.property.RuntimeMaxSec': 'uint64 60',
        'org.systemd.property.TasksMax': 'uint64 99',
        'org.systemd.property.After': '[\'a.service\', "b.service"]',
        'org.systemd.property.CPUQuotaPeriodSec': '0.5',
        'other.annotation': 'x',
      }),
    ),
    [
      ['TimeoutStopUSec', 't', 5_000_000n],
      ['CollectMode', 's', 'inactive-or-failed'],
      ['IgnoreSIGPIPE', 'b', false],
      ['RuntimeMaxUSec', 't', 60_000_000n],
      ['TasksMax', 't', 99n],
      ['After', 'as', ['a.service', 'b.service']],
      ['CPUQuotaPeriodUSec', 't', 500_000n],
    ],
  );
  const bad = (a: Record<string, string>, re: RegExp) => {
    try {
      annotationProperties(a);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, CgroupError);
      assert.match((e as Error).message, re);
    }
  };
  bad({ 'org.systemd.property.lower': '1' }, /^config\.json: \/annotations\/org\.systemd\.property\.lower: "lower" is not a systemd property name/);
  bad({ 'org.systemd.property.TimeoutStopSec': "'5'" }, /a time in seconds must be a non-negative number/);
  bad({ 'org.systemd.property.Foo': "'open" }, /unterminated string/);
  bad({ 'org.systemd.property.Foo': 'uint32 -1' }, /out of range/);
  bad({ 'org.systemd.property.Foo': '{1}' }, /not a value this parser knows/);
});

test('GVariant text: the types the parser takes', () => {
  assert.equal(parseGVariant('42'), new Variant('i', 42));
  assert.equal(parseGVariant('@t 42'), new Variant('t', 42n));
  assert.equal(parseGVariant('int64 -3'), new Variant('x', -3n));
  assert.equal(parseGVariant('[1, 2]'), new Variant('ai', [1, 2]));
  assert.equal(parseGVariant("'it\\'s'"), new Variant('s', "it's"));
  assert.equal(parseGVariant('2.5'), new Variant('d', 2.5));
});

test.run();
