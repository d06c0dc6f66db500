// The pure half of the seccomp compiler: OCI profile → libseccomp input, and
// the -ENOSYS stub. No addon, no kernel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { PlanError } from '../../src/launch/plan-error.js';
import { encode, decode } from '../../src/seccomp/bpf.js';
import { compileSeccomp, resolveSeccomp, type AddonCompiled, type CompiledInput, type SeccompBackend } from '../../src/seccomp/compile.js';
import { ACT, AUDIT_ARCH_X86_64, FILTER_FLAG } from '../../src/seccomp/consts.js';
import { enosysStub } from '../../src/seccomp/enosys.js';
import type { LinuxSeccomp } from '../../src/spec/types.js';
import { run } from './seccomp-vm.js';

const ERRNO = (e: number) => (ACT.ERRNO | e) >>> 0;
const TRACE = (e: number) => (ACT.TRACE | e) >>> 0;
const AUDIT_I386 = 0x40000003;
const AUDIT_S390X = 0x80000016;

function planError(fn: () => unknown, message: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, PlanError);
    assert.is((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected: ${message}`);
}

const profile = (p: Partial<LinuxSeccomp>): LinuxSeccomp => ({ defaultAction: 'SCMP_ACT_ALLOW', ...p }) as LinuxSeccomp;

test('actions: codes, errno defaulting to EPERM, SCMP_ACT_KILL is KILL_THREAD', () => {
  const r = resolveSeccomp(
    profile({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['a'], action: 'SCMP_ACT_KILL' },
        { names: ['b'], action: 'SCMP_ACT_KILL_THREAD' },
        { names: ['c'], action: 'SCMP_ACT_KILL_PROCESS' },
        { names: ['d'], action: 'SCMP_ACT_TRAP' },
        { names: ['e'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['f'], action: 'SCMP_ACT_TRACE' },
        { names: ['g'], action: 'SCMP_ACT_TRACE', errnoRet: 77 },
        { names: ['h'], action: 'SCMP_ACT_ALLOW' },
        { names: ['i'], action: 'SCMP_ACT_LOG' },
        { names: ['j'], action: 'SCMP_ACT_ERRNO', errnoRet: 0 },
      ],
    }),
  );
  assert.is(r.input.defaultAction, ERRNO(1));
  assert.equal(
    r.input.rules.map((x) => [x.name, x.action]),
    [
      ['a', 0],
      ['b', 0],
      ['c', 0x80000000],
      ['d', 0x00030000],
      ['e', ERRNO(13)],
      ['f', TRACE(1)],
      ['g', TRACE(77)],
      ['h', 0x7fff0000],
      ['i', 0x7ffc0000],
      ['j', ERRNO(0)],
    ],
  );
  assert.equal(
    r.ruleSources,
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `/linux/seccomp/syscalls/${i}`),
  );
  assert.is(r.notify, false);
});

test('defaultErrnoRet', () => {
  assert.is(resolveSeccomp(profile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38 })).input.defaultAction, ERRNO(38));
  assert.is(resolveSeccomp(profile({ defaultAction: 'SCMP_ACT_TRACE', defaultErrnoRet: 5 })).input.defaultAction, TRACE(5));
  planError(
    () => resolveSeccomp(profile({ defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 })),
    'config.json: /linux/seccomp/defaultErrnoRet: applies only to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not SCMP_ACT_KILL',
  );
  planError(
    () => resolveSeccomp(profile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 65536 })),
    'config.json: /linux/seccomp/defaultErrnoRet: must be an integer from 0 to 65535 (seccomp returns 16 bits)',
  );
  planError(
    () => resolveSeccomp(profile({ syscalls: [{ names: ['x'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] })),
    'config.json: /linux/seccomp/syscalls/0/errnoRet: applies only to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not SCMP_ACT_ALLOW',
  );
  planError(
    () => resolveSeccomp(profile({ defaultAction: 'SCMP_ACT_DENY' as never })),
    'config.json: /linux/seccomp/defaultAction: unknown seccomp action "SCMP_ACT_DENY"',
  );
});

test('architectures: libseccomp names, duplicates dropped, unknown refused', () => {
  const r = resolveSeccomp(profile({ architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'] }));
  assert.equal(r.input.architectures, ['x86_64', 'x86', 'x32', 'aarch64']);
  assert.equal(
    r.archSources,
    [0, 1, 2, 4].map((i) => `/linux/seccomp/architectures/${i}`),
  );
  assert.equal(resolveSeccomp(profile({ architectures: ['SCMP_ARCH_PPC64LE', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_S390X'] })).input.architectures, [
    'ppc64le',
    'mipsel64n32',
    's390x',
  ]);
  planError(
    () => resolveSeccomp(profile({ architectures: ['SCMP_ARCH_X86_64', 'amd64' as never] })),
    'config.json: /linux/seccomp/architectures/1: unknown architecture "amd64"',
  );
});

test('flags: bits, TSYNC ignored, runc default SPEC_ALLOW only when absent', () => {
  const r = resolveSeccomp(
    profile({ flags: ['SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_LOG'] }),
  );
  assert.equal(
    r.flags.map((f) => [f.bit, f.pointer]),
    [
      [FILTER_FLAG.LOG, '/linux/seccomp/flags/1'],
      [FILTER_FLAG.SPEC_ALLOW, '/linux/seccomp/flags/2'],
    ],
  );
  assert.is(r.defaultSpecAllow, false);
  assert.is(resolveSeccomp(profile({})).defaultSpecAllow, true);
  assert.is(resolveSeccomp(profile({ flags: [] })).defaultSpecAllow, false);
  planError(
    () => resolveSeccomp(profile({ flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER' as never] })),
    'config.json: /linux/seccomp/flags/0: unknown seccomp flag "SECCOMP_FILTER_FLAG_NEW_LISTENER"',
  );
});

test('flags: WAIT_KILLABLE_RECV only with a listener', () => {
  const without = resolveSeccomp(profile({ flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] }));
  assert.equal(without.flags, []);
  const withNotify = resolveSeccomp(
    profile({
      flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'],
      listenerPath: '/run/agent.sock',
      syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY' }],
    }),
  );
  assert.equal(
    withNotify.flags.map((f) => f.bit),
    [FILTER_FLAG.WAIT_KILLABLE_RECV, FILTER_FLAG.NEW_LISTENER],
  );
  assert.is(withNotify.notify, true);
  assert.is(withNotify.input.rules[0]!.action, ACT.NOTIFY);
});

test('syscalls: one rule per name, args as bigints, all names kept for the stub', () => {
  const r = resolveSeccomp(
    profile({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        {
          names: ['personality', 'nosuch'],
          action: 'SCMP_ACT_ALLOW',
          args: [
            { index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' },
            { index: 1, value: 0x10, valueTwo: 0x10, op: 'SCMP_CMP_MASKED_EQ' },
          ],
        },
        // JSON.parse makes 2^64-1 into 2^64; it means the maximum.
        { names: ['ioctl'], action: 'SCMP_ACT_ALLOW', args: [{ index: 5, value: 18446744073709551615, op: 'SCMP_CMP_LE' }] },
      ],
    }),
  );
  assert.equal(r.input.rules, [
    {
      name: 'personality',
      action: ACT.ALLOW,
      args: [
        { index: 0, op: 4, value: 0xffffffffn, valueTwo: 0n },
        { index: 1, op: 7, value: 0x10n, valueTwo: 0x10n },
      ],
    },
    {
      name: 'nosuch',
      action: ACT.ALLOW,
      args: [
        { index: 0, op: 4, value: 0xffffffffn, valueTwo: 0n },
        { index: 1, op: 7, value: 0x10n, valueTwo: 0x10n },
      ],
    },
    { name: 'ioctl', action: ACT.ALLOW, args: [{ index: 5, op: 3, value: 0xffffffffffffffffn, valueTwo: 0n }] },
  ]);
  assert.equal(r.input.syscallNames, ['personality', 'nosuch', 'ioctl']);
  assert.is(r.input.binaryTree, false);
});

test('syscalls: comparisons on the same argument become separate rules (runc)', () => {
  const r = resolveSeccomp(
    profile({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        {
          names: ['socket'],
          action: 'SCMP_ACT_ALLOW',
          args: [
            { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
            { index: 0, value: 2, op: 'SCMP_CMP_EQ' },
            { index: 1, value: 3, op: 'SCMP_CMP_NE' },
          ],
        },
      ],
    }),
  );
  assert.equal(
    r.input.rules.map((x) => x.args.map((a) => [a.index, a.value])),
    [[[0, 1n]], [[0, 2n]], [[1, 3n]]],
  );
  assert.equal(r.ruleSources, ['/linux/seccomp/syscalls/0', '/linux/seccomp/syscalls/0', '/linux/seccomp/syscalls/0']);
});

test('syscalls: a rule repeating the default action is dropped (libseccomp refuses it)', () => {
  const r = resolveSeccomp(
    profile({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      syscalls: [
        { names: ['a'], action: 'SCMP_ACT_ERRNO' },
        { names: ['b'], action: 'SCMP_ACT_ERRNO', errnoRet: 2 },
        { names: ['c'], action: 'SCMP_ACT_ALLOW' },
      ],
    }),
  );
  assert.equal(
    r.input.rules.map((x) => x.name),
    ['b', 'c'],
  );
  assert.equal(r.input.syscallNames, ['a', 'b', 'c']);
  const kill = resolveSeccomp(profile({ defaultAction: 'SCMP_ACT_KILL', syscalls: [{ names: ['a'], action: 'SCMP_ACT_KILL_THREAD' }] }));
  assert.equal(kill.input.rules, []);
});

test('syscalls: errors name the JSON path', () => {
  const bad = (sc: object) => () => resolveSeccomp(profile({ syscalls: [{ names: ['ok'], action: 'SCMP_ACT_LOG' }, sc as never] }));
  planError(bad({ names: [], action: 'SCMP_ACT_LOG' }), 'config.json: /linux/seccomp/syscalls/1/names: must name at least one syscall');
  planError(bad({ names: ['a', ''], action: 'SCMP_ACT_LOG' }), 'config.json: /linux/seccomp/syscalls/1/names/1: must be a syscall name');
  planError(
    bad({
      names: ['a'],
      action: 'SCMP_ACT_LOG',
      args: [
        { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
        { index: 0, value: 1, op: 'EQ' },
      ],
    }),
    'config.json: /linux/seccomp/syscalls/1/args/1/op: unknown operator "EQ"',
  );
  planError(
    bad({ names: ['a'], action: 'SCMP_ACT_LOG', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }),
    'config.json: /linux/seccomp/syscalls/1/args/0/index: must be an argument index from 0 to 5',
  );
  planError(
    bad({ names: ['a'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }),
    'config.json: /linux/seccomp/syscalls/1/errnoRet: must be an integer from 0 to 65535 (seccomp returns 16 bits)',
  );
  planError(bad({ names: ['a'], action: 'ALLOW' }), 'config.json: /linux/seccomp/syscalls/1/action: unknown seccomp action "ALLOW"');
});

test('notify: refused as the default action (as runc does), taken for write (as crun does); a listener is required', () => {
  planError(
    () => resolveSeccomp(profile({ defaultAction: 'SCMP_ACT_NOTIFY' })),
    'config.json: /linux/seccomp/defaultAction: SCMP_ACT_NOTIFY cannot be the default action',
  );
  const w = resolveSeccomp(profile({ listenerPath: '/a', syscalls: [{ names: ['read', 'write'], action: 'SCMP_ACT_NOTIFY' }] }));
  assert.ok(w.notify);
  assert.equal(
    w.input.rules.map((r) => [r.name, r.action]),
    [
      ['read', ACT.NOTIFY],
      ['write', ACT.NOTIFY],
    ],
  );
  planError(
    () => resolveSeccomp(profile({ syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] })),
    'config.json: /linux/seccomp/listenerPath: is required when a rule uses SCMP_ACT_NOTIFY',
  );
  const r = resolveSeccomp(profile({ listenerPath: '/a', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }));
  assert.equal(r.flags, [{ bit: FILTER_FLAG.NEW_LISTENER, name: 'SCMP_ACT_NOTIFY', pointer: '/linux/seccomp/syscalls' }]);
});

test('the -ENOSYS stub goes in front unless the default lets syscalls through or already says ENOSYS', () => {
  const stub = (p: Partial<LinuxSeccomp>) => resolveSeccomp(profile(p)).enosysStub;
  assert.is(stub({ defaultAction: 'SCMP_ACT_ERRNO' }), true);
  assert.is(stub({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1 }), true);
  assert.is(stub({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38 }), false);
  assert.is(stub({ defaultAction: 'SCMP_ACT_KILL' }), true);
  assert.is(stub({ defaultAction: 'SCMP_ACT_KILL_PROCESS' }), true);
  assert.is(stub({ defaultAction: 'SCMP_ACT_TRAP' }), true);
  assert.is(stub({ defaultAction: 'SCMP_ACT_ALLOW' }), false);
  assert.is(stub({ defaultAction: 'SCMP_ACT_LOG' }), false);
  assert.is(stub({ defaultAction: 'SCMP_ACT_TRACE' }), false);
});

test('a binary tree for long profiles, as runc asks', () => {
  const names = Array.from({ length: 33 }, (_, i) => `s${i}`);
  assert.is(resolveSeccomp(profile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] })).input.binaryTree, true);
  assert.is(
    resolveSeccomp(profile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: names.slice(1), action: 'SCMP_ACT_ALLOW' }] })).input.binaryTree,
    false,
  );
});

// ---- the stub, run on the interpreter ----

const ALLOW_ALL = encode([{ code: 0x06, jt: 0, jf: 0, k: ACT.ALLOW }]);
const withStub = (archs: Parameters<typeof enosysStub>[0]) => Buffer.concat([encode(enosysStub(archs)), ALLOW_ALL]);

test('stub: above the last known syscall ENOSYS, the rest falls into the filter', () => {
  const p = withStub([
    { arch: 'x86_64', audit: AUDIT_ARCH_X86_64, lastSyscall: 435 },
    { arch: 'x86', audit: AUDIT_I386, lastSyscall: 400 },
    { arch: 'x32', audit: AUDIT_ARCH_X86_64, lastSyscall: 0x40000000 + 300 },
  ]);
  const at = (arch: number, nr: number) => run(p, { arch, nr });
  assert.is(at(AUDIT_ARCH_X86_64, 0), ACT.ALLOW);
  assert.is(at(AUDIT_ARCH_X86_64, 435), ACT.ALLOW);
  assert.is(at(AUDIT_ARCH_X86_64, 436), ERRNO(38));
  assert.is(at(AUDIT_ARCH_X86_64, 0x3fffffff), ERRNO(38));
  assert.is(at(AUDIT_I386, 400), ACT.ALLOW);
  assert.is(at(AUDIT_I386, 401), ERRNO(38));
  assert.is(at(AUDIT_ARCH_X86_64, 0x40000000 + 300), ACT.ALLOW);
  assert.is(at(AUDIT_ARCH_X86_64, 0x40000000 + 301), ERRNO(38));
  // An architecture the stub does not know is the filter's business.
  assert.is(at(0xc00000b7, 100000), ACT.ALLOW);
});

test('stub: x32 calls are left to the filter when x32 is not in it', () => {
  const p = withStub([{ arch: 'x86_64', audit: AUDIT_ARCH_X86_64, lastSyscall: 435 }]);
  assert.is(run(p, { arch: AUDIT_ARCH_X86_64, nr: 0x40000000 + 500 }), ACT.ALLOW);
  assert.is(run(p, { arch: AUDIT_ARCH_X86_64, nr: 500 }), ERRNO(38));
});

test('stub: s390x answers ENOSYS for the multiplexer, architectures without syscalls are left out', () => {
  const p = withStub([
    { arch: 's390x', audit: AUDIT_S390X, lastSyscall: 450 },
    { arch: 'x86', audit: AUDIT_I386, lastSyscall: -1 },
  ]);
  assert.is(run(p, { arch: AUDIT_S390X, nr: 0 }), ERRNO(38));
  assert.is(run(p, { arch: AUDIT_S390X, nr: 1 }), ACT.ALLOW);
  assert.is(run(p, { arch: AUDIT_S390X, nr: 451 }), ERRNO(38));
  assert.is(run(p, { arch: AUDIT_I386, nr: 5000 }), ACT.ALLOW);
  assert.equal(enosysStub([{ arch: 'x86', audit: AUDIT_I386, lastSyscall: -1 }]), []);
});

test('bpf: encode and decode are inverse', () => {
  const insns = [
    { code: 0x20, jt: 0, jf: 0, k: 4 },
    { code: 0x15, jt: 1, jf: 255, k: 0xc000003e },
  ];
  assert.equal(decode(encode(insns)), insns);
  assert.throws(() => decode(Buffer.alloc(12)), /not a whole number/);
});

// ---- compileSeccomp with a stand-in backend ----

function backend(over: Partial<SeccompBackend> & { supported?: number } = {}): SeccompBackend & { inputs: CompiledInput[] } {
  const inputs: CompiledInput[] = [];
  return {
    inputs,
    seccompFlagSupported: (f) => (f & ~(over.supported ?? 0xff)) === 0,
    seccompCompile: (input): AddonCompiled => {
      inputs.push(input);
      return { bpf: ALLOW_ALL, skipped: ['nosuch'], archs: [{ arch: 'x86_64', audit: AUDIT_ARCH_X86_64, lastSyscall: 10 }] };
    },
    ...over,
  };
}

test('compileSeccomp: stub + program, flags, skipped names', () => {
  const b = backend();
  const out = compileSeccomp(profile({ defaultAction: 'SCMP_ACT_ERRNO', flags: ['SECCOMP_FILTER_FLAG_LOG'] }), b);
  assert.is(out.flags, FILTER_FLAG.LOG);
  assert.equal(out.skipped, ['nosuch']);
  assert.is(out.notify, false);
  assert.is(out.bpf.length % 8, 0);
  assert.ok(out.bpf.length > ALLOW_ALL.length);
  assert.is(run(out.bpf, { arch: AUDIT_ARCH_X86_64, nr: 11 }), ERRNO(38));
  assert.is(run(out.bpf, { arch: AUDIT_ARCH_X86_64, nr: 10 }), ACT.ALLOW);
  // No stub under an allowing default.
  assert.equal(compileSeccomp(profile({ flags: [] }), b).bpf, ALLOW_ALL);
});

test('compileSeccomp: SPEC_ALLOW by default only where the kernel has it; asked-for flags must be there', () => {
  assert.is(compileSeccomp(profile({}), backend()).flags, FILTER_FLAG.SPEC_ALLOW);
  assert.is(compileSeccomp(profile({}), backend({ supported: FILTER_FLAG.LOG })).flags, 0);
  planError(
    () => compileSeccomp(profile({ flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'] }), backend({ supported: FILTER_FLAG.LOG })),
    'config.json: /linux/seccomp/flags/0: SECCOMP_FILTER_FLAG_SPEC_ALLOW is not supported by this kernel',
  );
  const n = compileSeccomp(profile({ flags: [], listenerPath: '/a', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] }), backend());
  assert.is(n.flags, FILTER_FLAG.NEW_LISTENER);
  assert.is(n.notify, true);
});

test('compileSeccomp: addon errors point at the rule or architecture', () => {
  const failing = (props: object) =>
    backend({
      seccompCompile: () => {
        throw Object.assign(new Error('libseccomp rejected the rule for b: invalid argument'), props);
      },
    });
  const p = profile({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_LOONGARCH64'],
    syscalls: [
      { names: ['a'], action: 'SCMP_ACT_ALLOW' },
      { names: ['b'], action: 'SCMP_ACT_LOG' },
    ],
  });
  planError(() => compileSeccomp(p, failing({ rule: 1 })), 'config.json: /linux/seccomp/syscalls/1: libseccomp rejected the rule for b: invalid argument');
  planError(
    () => compileSeccomp(p, failing({ architecture: 1 })),
    'config.json: /linux/seccomp/architectures/1: libseccomp rejected the rule for b: invalid argument',
  );
  planError(() => compileSeccomp(p, failing({})), 'config.json: /linux/seccomp: libseccomp rejected the rule for b: invalid argument');
});

test('compileSeccomp: the kernel limit of 4096 instructions', () => {
  const big = backend({
    seccompCompile: () => ({ bpf: Buffer.alloc(4097 * 8), skipped: [], archs: [] }),
  });
  planError(
    () => compileSeccomp(profile({}), big),
    "config.json: /linux/seccomp: the filter needs 4097 BPF instructions, more than the kernel's limit of 4096",
  );
});

test.run();
