// Device rules: normalisation, the emulated v1 semantics, the minimal v1
// transitions, runc's default rules, and the eBPF program for v2, which is
// run here by a small interpreter against every verdict the emulator gives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ACC, DeviceEmulator, normalizeDeviceRules, ruleString, runcDefaultDeviceRules, v1DeviceWrites } from '../../src/cgroups/devices.js';
import { native } from '../../src/native.js';
import {
  BPF_DEVCG_DEV_BLOCK,
  BPF_DEVCG_DEV_CHAR,
  DEVICE_FILTER_LICENSE,
  OP,
  decodeInsns,
  deviceFilterInsns,
  deviceFilterProgram,
  encodeInsns,
  type BpfInsn,
} from '../../src/cgroups/devices-bpf.js';
import { CgroupError } from '../../src/cgroups/cgroup-error.js';
import { v1Writes } from '../../src/cgroups/v1-resources.js';
import { v2Writes } from '../../src/cgroups/v2-resources.js';
import type { LinuxDeviceCgroup } from '../../src/spec/types.js';

const rules = (list: LinuxDeviceCgroup[]) => normalizeDeviceRules(list);
const emu = (list: LinuxDeviceCgroup[]) => DeviceEmulator.fromRules(rules(list));

test('normalize: defaults (type a, any major/minor, access rwm) and checks', () => {
  assert.equal(rules([{ allow: false }]), [{ allow: false, type: 'a', major: -1, minor: -1, access: ACC.ALL }]);
  assert.equal(rules([{ allow: true, type: 'c', major: 1, minor: 3, access: 'mr' }]), [
    { allow: true, type: 'c', major: 1, minor: 3, access: ACC.READ | ACC.MKNOD },
  ]);
  const bad = (d: LinuxDeviceCgroup, msg: string) => {
    try {
      rules([{ allow: true }, d]);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, CgroupError);
      assert.is((e as Error).message, msg);
    }
  };
  bad({ allow: true, access: '' }, 'config.json: /linux/resources/devices/1/access: must not be empty (use any of r, w and m)');
  bad({ allow: true, access: 'ax' }, 'config.json: /linux/resources/devices/1/access: "ax": must contain at least one of the letters r, w and m');
  bad({ allow: true, type: 'c', major: -2 }, 'config.json: /linux/resources/devices/1/major: must be -1 (any) or a device number 0..2147483647');
  bad({ allow: true, type: 'c', minor: 2 ** 31 }, 'config.json: /linux/resources/devices/1/minor: must be -1 (any) or a device number 0..2147483647');
});

test('normalize: letters other than r, w and m are ignored, with a warning naming the rule', () => {
  const warnings: string[] = [];
  const list: LinuxDeviceCgroup[] = [
    { allow: false },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 5, access: 'rwa' },
    { allow: true, type: 'b', major: 8, access: 'rxyx' },
  ];
  const out = normalizeDeviceRules(list, 'config.json', '/linux/resources/devices', (w) => warnings.push(w));
  assert.equal(out.slice(2), [
    { allow: true, type: 'c', major: 1, minor: 5, access: ACC.READ | ACC.WRITE },
    { allow: true, type: 'b', major: 8, minor: -1, access: ACC.READ },
  ]);
  assert.equal(warnings, [
    `config.json: /linux/resources/devices/2/access: "rwa": unknown letter 'a' ignored (only r, w and m mean anything)`,
    `config.json: /linux/resources/devices/3/access: "rxyx": unknown letters 'x', 'y' ignored (only r, w and m mean anything)`,
  ]);
  // Without a listener (systemd's properties, translated next to the files) nothing is said.
  assert.equal(normalizeDeviceRules(list), out);
});

test('unknown access letters: the same v1 writes and v2 program as without them, and one warning each', () => {
  const withA: LinuxDeviceCgroup[] = [
    { allow: false, access: 'rwma' },
    { allow: true, type: 'c', major: 1, minor: 5, access: 'rwa' },
  ];
  const plain: LinuxDeviceCgroup[] = [
    { allow: false, access: 'rwm' },
    { allow: true, type: 'c', major: 1, minor: 5, access: 'rw' },
  ];
  const t1 = v1Writes({ devices: withA });
  assert.equal(t1.writes, v1Writes({ devices: plain }).writes);
  assert.equal(
    t1.writes.map((w) => `${w.file} ${w.value}`),
    ['devices.deny a *:* rwm', 'devices.allow c 1:5 rw'],
  );
  assert.equal(t1.warnings, [
    `config.json: /linux/resources/devices/0/access: "rwma": unknown letter 'a' ignored (only r, w and m mean anything)`,
    `config.json: /linux/resources/devices/1/access: "rwa": unknown letter 'a' ignored (only r, w and m mean anything)`,
  ]);
  const t2 = v2Writes({ devices: withA }, {}, { source: '-', at: '' });
  assert.equal(t2.deviceProgram, v2Writes({ devices: plain }).deviceProgram);
  assert.equal(t2.warnings, [
    `-: /devices/0/access: "rwma": unknown letter 'a' ignored (only r, w and m mean anything)`,
    `-: /devices/1/access: "rwa": unknown letter 'a' ignored (only r, w and m mean anything)`,
  ]);
});

test('ruleString: the v1 file syntax', () => {
  assert.is(ruleString({ type: 'c', major: 1, minor: 3, access: ACC.ALL }), 'c 1:3 rwm');
  assert.is(ruleString({ type: 'a', major: -1, minor: -1, access: ACC.ALL }), 'a *:* rwm');
  assert.is(ruleString({ type: 'b', major: 8, minor: -1, access: ACC.MKNOD }), 'b 8:* m');
});

test('emulator: "a" rules reset, later rules override earlier ones', () => {
  const e = emu([{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'm' }]);
  assert.is(e.defaultAllow, false);
  assert.equal(e.sorted(), [{ type: 'c', major: 1, minor: 3, access: ACC.ALL }]);
  assert.ok(e.permits('c', 1, 3, ACC.READ | ACC.WRITE));
  assert.not.ok(e.permits('c', 1, 5, ACC.READ));
  // Denying again what was allowed removes it...
  const e2 = emu([
    { allow: false },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    { allow: false, type: 'c', major: 1, minor: 3, access: 'w' },
  ]);
  assert.equal(e2.sorted(), [{ type: 'c', major: 1, minor: 3, access: ACC.READ | ACC.MKNOD }]);
  assert.not.ok(e2.permits('c', 1, 3, ACC.WRITE));
  // ...and a later "a" rule wipes everything.
  const e3 = emu([{ allow: true, type: 'c', major: 1, minor: 3 }, { allow: true }]);
  assert.ok(e3.allowsAll);
  // Without a leading "a" rule the list starts from deny-all, as in runc.
  assert.not.ok(emu([{ allow: true, type: 'c', major: 1, minor: 3 }]).permits('c', 1, 5, ACC.READ));
});

test('emulator: punching a hole in a wildcard rule is an error (v1 would ignore it)', () => {
  try {
    emu([{ allow: false }, { allow: true, type: 'c', major: 1, access: 'rw' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, CgroupError);
    assert.is(
      (e as Error).message,
      'config.json: /linux/resources/devices/2: denying c 1:3 w cannot take effect: an earlier rule allows c 1:* rw, and the device cgroup cannot punch a hole in a wildcard rule',
    );
  }
  // No overlap in access: fine.
  emu([{ allow: false }, { allow: true, type: 'c', major: 1, access: 'r' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]);
});

test('emulator: in an allow-all cgroup a deny rule denies any access it shares (kernel semantics)', () => {
  const e = emu([{ allow: true }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]);
  assert.ok(e.permits('c', 1, 3, ACC.READ));
  assert.not.ok(e.permits('c', 1, 3, ACC.WRITE));
  assert.not.ok(e.permits('c', 1, 3, ACC.READ | ACC.WRITE));
  assert.ok(e.permits('b', 1, 3, ACC.WRITE));
});

test('devices.list parsing and transitions', () => {
  const cur = DeviceEmulator.fromList('c 1:3 rwm\nc 136:* rwm\nb *:* m\n');
  assert.is(cur.defaultAllow, false);
  assert.equal(
    cur.sorted().map((x) => ruleString({ ...x })),
    ['b *:* m', 'c 1:3 rwm', 'c 136:* rwm'],
  );
  assert.ok(DeviceEmulator.fromList('a *:* rwm\n').allowsAll);
  // Same default, some changes: no disruptive reset.
  const target = emu([{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }, { allow: true, type: 'c', major: 5, minor: 0 }]);
  assert.equal(
    cur.transition(target).map((r) => `${r.allow ? 'allow' : 'deny'} ${ruleString(r)}`),
    ['deny b *:* m', 'deny c 1:3 m', 'deny c 136:* rwm', 'allow c 5:0 rwm'],
  );
  // An allow-all source always starts with a reset (its deny list is invisible).
  assert.equal(v1DeviceWrites(target, 'a *:* rwm\n'), [
    { file: 'devices.deny', value: 'a *:* rwm' },
    { file: 'devices.allow', value: 'c 1:3 rw' },
    { file: 'devices.allow', value: 'c 5:0 rwm' },
  ]);
  // Going to allow-all with denies.
  assert.equal(v1DeviceWrites(emu([{ allow: true }, { allow: false, type: 'b', major: 8, minor: 0, access: 'w' }]), 'c 1:3 rwm\n'), [
    { file: 'devices.allow', value: 'a *:* rwm' },
    { file: 'devices.deny', value: 'b 8:0 w' },
  ]);
  // runc's sort: by major, then minor (wildcards first), then type.
  assert.equal(
    v1DeviceWrites(emu(runcDefaultDeviceRules([{ allow: false, access: 'rwm' }])), undefined).map((w) => w.value),
    [
      'a *:* rwm',
      'b *:* m',
      'c *:* m',
      'c 1:3 rwm',
      'c 1:5 rwm',
      'c 1:7 rwm',
      'c 1:8 rwm',
      'c 1:9 rwm',
      'c 5:0 rwm',
      'c 5:2 rwm',
      'c 10:200 rwm',
      'c 136:* rwm',
    ],
  );
});

test('runc default rules: appended after the config, minus the paths linux.devices redefines', () => {
  const all = runcDefaultDeviceRules([{ allow: false, access: 'rwm' }]);
  assert.is(all.length, 12);
  assert.equal(all[0], { allow: false, access: 'rwm' });
  const without = runcDefaultDeviceRules(undefined, ['/dev/null', '/dev/zero']);
  assert.is(without.length, 9);
  assert.not.ok(without.some((r) => r.major === 1 && (r.minor === 3 || r.minor === 5)));
});

// --- the eBPF program --------------------------------------------------------

/** Runs a device program the way the kernel would, on ctx {access_type, major, minor}. */
function run(prog: readonly BpfInsn[], type: number, access: number, major: number, minor: number): number {
  const ctx = [(access << 16) | type, major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0, steps = 0; steps < 10000; steps++) {
    const i = prog[pc];
    if (!i) throw new Error(`fell off the program at ${pc}`);
    let next = pc + 1;
    switch (i.code) {
      case OP.LDXW:
        assert.is(i.src, 1);
        r[i.dst] = ctx[i.off / 4]! >>> 0;
        break;
      case OP.AND32_K:
        r[i.dst] = (r[i.dst]! & i.imm) >>> 0;
        break;
      case OP.RSH32_K:
        r[i.dst] = r[i.dst]! >>> i.imm;
        break;
      case OP.MOV32_K:
        r[i.dst] = i.imm >>> 0;
        break;
      case OP.MOV32_X:
        r[i.dst] = r[i.src]!;
        break;
      case OP.JEQ_K:
        if (r[i.dst] === i.imm) next += i.off;
        break;
      case OP.JNE_K:
        if (r[i.dst] !== i.imm) next += i.off;
        break;
      case OP.JNE_X:
        if (r[i.dst] !== r[i.src]) next += i.off;
        break;
      case OP.EXIT:
        return r[0]!;
      default:
        throw new Error(`unexpected opcode 0x${i.code.toString(16)}`);
    }
    pc = next;
  }
  throw new Error('no exit');
}

const SAMPLE_DEVICES: Array<[type: 'c' | 'b', major: number, minor: number]> = [
  ['c', 1, 3],
  ['c', 1, 5],
  ['c', 1, 9],
  ['c', 5, 0],
  ['c', 5, 2],
  ['c', 10, 200],
  ['c', 136, 0],
  ['c', 136, 7],
  ['c', 4, 1],
  ['b', 8, 0],
  ['b', 8, 16],
  ['b', 254, 0],
  ['c', 3, 1],
  ['b', 1, 3],
];

function agrees(list: LinuxDeviceCgroup[]): void {
  const e = emu(list);
  const prog = deviceFilterInsns(e);
  for (const [t, mj, mn] of SAMPLE_DEVICES) {
    for (let acc = 1; acc <= 7; acc++) {
      const got = run(prog, t === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, acc, mj, mn);
      assert.is(got, e.permits(t, mj, mn, acc) ? 1 : 0, `${JSON.stringify(list)}: ${t} ${mj}:${mn} access ${acc}`);
    }
  }
}

test('bpf: deny-all with runc defaults, the exact instructions', () => {
  const prog = deviceFilterInsns(
    emu([{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'b', major: 8, access: 'r' }]),
  );
  const I = (code: number, dst: number, src: number, off: number, imm: number) => ({ code, dst, src, off, imm });
  assert.equal(prog, [
    I(OP.LDXW, 2, 1, 0, 0),
    I(OP.AND32_K, 2, 0, 0, 0xffff),
    I(OP.LDXW, 3, 1, 0, 0),
    I(OP.RSH32_K, 3, 0, 0, 16),
    I(OP.LDXW, 4, 1, 4, 0),
    I(OP.LDXW, 5, 1, 8, 0),
    // c 1:3 rwm: type, major, minor; no access test for rwm.
    I(OP.JNE_K, 2, 0, 4, BPF_DEVCG_DEV_CHAR),
    I(OP.JNE_K, 4, 0, 3, 1),
    I(OP.JNE_K, 5, 0, 2, 3),
    I(OP.MOV32_K, 0, 0, 0, 1),
    I(OP.EXIT, 0, 0, 0, 0),
    // b 8:* r: type, access subset, major.
    I(OP.JNE_K, 2, 0, 6, BPF_DEVCG_DEV_BLOCK),
    I(OP.MOV32_X, 1, 3, 0, 0),
    I(OP.AND32_K, 1, 0, 0, ACC.READ),
    I(OP.JNE_X, 1, 3, 3, 0),
    I(OP.JNE_K, 4, 0, 2, 8),
    I(OP.MOV32_K, 0, 0, 0, 1),
    I(OP.EXIT, 0, 0, 0, 0),
    // Default: deny.
    I(OP.MOV32_K, 0, 0, 0, 0),
    I(OP.EXIT, 0, 0, 0, 0),
  ]);
});

test('bpf: the program agrees with the emulator on every device and access', () => {
  agrees([{ allow: false }]);
  agrees([{ allow: true }]);
  agrees(runcDefaultDeviceRules([{ allow: false, access: 'rwm' }]));
  agrees([
    { allow: false },
    { allow: true, type: 'c', major: 1, minor: 3, access: 'r' },
    { allow: true, type: 'c', major: 136, access: 'rw' },
    { allow: true, type: 'b', access: 'm' },
  ]);
  agrees([{ allow: true }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }, { allow: false, type: 'b', major: 8, access: 'rwm' }]);
  agrees([{ allow: true }, { allow: false, type: 'c', access: 'm' }]);
  agrees([{ allow: false }, { allow: true, type: 'c', major: 1, minor: 5, access: 'rw' }, { allow: false, type: 'c', major: 1, minor: 5, access: 'w' }]);
});

test('bpf: struct bpf_insn encoding round-trips in both byte orders', () => {
  const prog = deviceFilterInsns(emu(runcDefaultDeviceRules([{ allow: false }])));
  for (const le of [true, false]) assert.equal(decodeInsns(encodeInsns(prog, le), le), prog);
  // Little endian: dst in the low nibble, offsets and immediates LE.
  const bytes = encodeInsns([{ code: OP.JNE_K, dst: 4, src: 1, off: 3, imm: 0x01020304 }], true);
  assert.equal([...bytes], [0x55, 0x14, 3, 0, 4, 3, 2, 1]);
  assert.is(deviceFilterProgram(rules([{ allow: false }])).length, 8 * 8);
});

test('bpf: the kernel verifier accepts the programs (as root; the addon checks its arguments)', () => {
  const n = native();
  assert.throws(() => n.bpfLoadDeviceFilter(Buffer.alloc(3), DEVICE_FILTER_LICENSE), /whole struct bpf_insn/);
  if (process.getuid?.() !== 0) return;
  for (const list of [
    [{ allow: false }],
    [{ allow: true }],
    runcDefaultDeviceRules([{ allow: false }]),
    [{ allow: true }, { allow: false, type: 'c' as const, major: 1, access: 'w' }],
  ]) {
    const p = deviceFilterProgram(rules(list));
    const fd = n.bpfLoadDeviceFilter(Buffer.from(p.buffer, p.byteOffset, p.byteLength), DEVICE_FILTER_LICENSE);
    assert.ok(fd > 2);
    n.close(fd);
  }
  // A refusal says why, in the verifier's words.
  const bad = encodeInsns([{ code: OP.MOV32_K, dst: 0, src: 0, off: 0, imm: 1 }]);
  assert.throws(
    () => n.bpfLoadDeviceFilter(Buffer.from(bad), DEVICE_FILTER_LICENSE),
    /EINVAL: .*bpf\(BPF_PROG_LOAD\): verifier: last insn is not an exit or jmp/,
  );
});

test.run();
