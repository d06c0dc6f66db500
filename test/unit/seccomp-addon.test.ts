// The compiler with the real libseccomp (through the addon), and what the
// programs it makes decide, asked of an interpreter: no root, nothing loaded.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';

const test = skippable(uvuTest, 'seccomp-addon');

import { native } from '../../src/native.js';
import { compileSeccomp, resolveSeccomp, type CompiledInput } from '../../src/seccomp/compile.js';
import { ACT, AUDIT_ARCH_X86_64, FILTER_FLAG, OPERATORS } from '../../src/seccomp/consts.js';
import { seccompFeatures } from '../../src/seccomp/features.js';
import type { LinuxSeccomp } from '../../src/spec/types.js';
import { REPO } from '../helpers.js';
import { run } from './seccomp-vm.js';

const n = native();
const ERRNO = (e: number) => (ACT.ERRNO | e) >>> 0;
const KILL_THREAD = 0;
const AUDIT_I386 = 0x40000003;
const AUDIT_AARCH64 = 0xc00000b7;
const x64 = process.arch === 'x64';

const fixture = (name: string): LinuxSeccomp => JSON.parse(readFileSync(join(REPO, 'test/fixtures/seccomp', name), 'utf8')) as LinuxSeccomp;

const input = (over: Partial<CompiledInput> = {}): CompiledInput => ({
  defaultAction: ACT.ALLOW,
  architectures: [],
  rules: [],
  syscallNames: [],
  binaryTree: false,
  ...over,
});

test('constants agree with the headers the addon was built with', () => {
  const c = n.seccompConstants;
  assert.is(c.SCMP_ACT_KILL_PROCESS, ACT.KILL_PROCESS);
  assert.is(c.SCMP_ACT_KILL_THREAD, ACT.KILL_THREAD);
  assert.is(c.SCMP_ACT_TRAP, ACT.TRAP);
  assert.is(c['SCMP_ACT_ERRNO(0)'], ACT.ERRNO);
  assert.is(c['SCMP_ACT_TRACE(0)'], ACT.TRACE);
  assert.is(c.SCMP_ACT_NOTIFY, ACT.NOTIFY);
  assert.is(c.SCMP_ACT_LOG, ACT.LOG);
  assert.is(c.SCMP_ACT_ALLOW, ACT.ALLOW);
  for (const [name, v] of Object.entries(OPERATORS)) assert.is(c[name], v, name);
  for (const [name, v] of Object.entries(FILTER_FLAG)) {
    if (name !== 'TSYNC_ESRCH') assert.is(c[`SECCOMP_FILTER_FLAG_${name}`], v, name);
  }
  assert.is(c.AUDIT_ARCH_X86_64, AUDIT_ARCH_X86_64);
});

test('seccompCompile: whole instructions, skipped names, architectures with their last syscall', () => {
  const out = n.seccompCompile(
    input({
      defaultAction: ERRNO(1),
      architectures: ['x86', 'x32'],
      rules: [
        { name: 'mkdir', action: ACT.ALLOW, args: [] },
        { name: 'no_such_syscall', action: ACT.ALLOW, args: [] },
        { name: 'no_such_syscall', action: ACT.LOG, args: [] },
        { name: 'personality', action: ACT.ALLOW, args: [{ index: 0, op: OPERATORS.SCMP_CMP_EQ, value: 0xffffffffn, valueTwo: 0n }] },
      ],
      syscallNames: ['mkdir', 'no_such_syscall', 'personality'],
    }),
  );
  assert.ok(out.bpf.length > 0);
  assert.is(out.bpf.length % 8, 0);
  assert.equal(out.skipped, ['no_such_syscall']);
  if (x64) {
    assert.equal(out.archs, [
      { arch: 'x86_64', audit: AUDIT_ARCH_X86_64, lastSyscall: 135 },
      { arch: 'x86', audit: AUDIT_I386, lastSyscall: 136 },
      // x32 numbers carry bit 30, and the kernel reports x86_64 for them.
      { arch: 'x32', audit: AUDIT_ARCH_X86_64, lastSyscall: 0x40000000 + 135 },
    ]);
  }
});

test('seccompCompile: the native architecture is always in, duplicates are fine', () => {
  const out = n.seccompCompile(input({ architectures: ['x86_64', 'x86_64'] }));
  assert.is(out.archs.length, 1);
  assert.is(out.archs[0]!.lastSyscall, -1);
});

test('seccompCompile: errors', () => {
  assert.throws(
    () => n.seccompCompile(undefined as never),
    (e: Error) => e instanceof TypeError && /input/.test(e.message),
  );
  assert.throws(
    () => n.seccompCompile(input({ rules: [{ name: 'mkdir', action: ACT.ALLOW, args: [{ index: 0, op: 4, value: 1 as never, valueTwo: 0n }] }] })),
    (e: Error) => e instanceof TypeError && e.message === 'input.rules[0].args[0].value must be a bigint',
  );
  assert.throws(
    () => n.seccompCompile(input({ architectures: ['vax'] })),
    (e: Error & { architecture?: number }) => /^architecture vax is not known to libseccomp \d/.test(e.message) && e.architecture === 0,
  );
  // libseccomp refuses a rule that repeats the default action.
  assert.throws(
    () =>
      n.seccompCompile(
        input({
          rules: [
            { name: 'getpid', action: ACT.LOG, args: [] },
            { name: 'mkdir', action: ACT.ALLOW, args: [] },
          ],
        }),
      ),
    (e: Error & { rule?: number; code?: string }) =>
      e.message.startsWith('libseccomp rejected the rule for mkdir: ') && e.rule === 1 && typeof e.code === 'string',
  );
  assert.throws(
    () => n.seccompCompile(input({ defaultAction: 0x12345678 })),
    (e: Error) => e.message.startsWith('libseccomp rejected the default action'),
  );
  assert.throws(
    () =>
      n.seccompCompile(
        input({ defaultAction: ERRNO(1), rules: [{ name: 'mkdir', action: ACT.ALLOW, args: [{ index: 0, op: 99, value: 0n, valueTwo: 0n }] }] }),
      ),
    (e: Error & { rule?: number }) => e.rule === 0,
  );
});

test('seccompExportPfc shows what the program does', () => {
  const text = n.seccompExportPfc(input({ defaultAction: ACT.ALLOW, rules: [{ name: 'mkdir', action: ERRNO(13), args: [] }], syscallNames: ['mkdir'] }));
  assert.match(text, /filter for syscall "mkdir"/);
  assert.match(text, /action ERRNO\(13\);/);
  assert.match(text, /action ALLOW;/);
});

test('seccompFlagSupported: this kernel knows LOG (4.14) and refuses unknown bits', () => {
  assert.is(n.seccompFlagSupported(FILTER_FLAG.LOG), true);
  assert.is(n.seccompFlagSupported(1 << 20), false);
});

// ---- what real programs decide (x86_64 syscall numbers) ----

const NR = { read: 0, mkdir: 83, personality: 135, clone: 56, clone3: 435, kexec_load: 246, getpid: 39, chroot: 161, mount: 165, add_key: 248, vhangup: 153 };

test('podman default profile: allow list, EPERM list, personality by argument, ENOSYS for the rest', () => {
  if (!x64) skip('x86_64 only');
  const p = fixture('podman-default.json');
  const out = compileSeccomp(p);
  assert.ok(out.bpf.length / 8 <= 4096);
  // The profile names syscalls of every architecture; some are unknown to this libseccomp.
  assert.ok(Array.isArray(out.skipped));
  const sys = (nr: number, ...args: bigint[]) => run(out.bpf, { arch: AUDIT_ARCH_X86_64, nr, args });
  assert.is(sys(NR.read), ACT.ALLOW);
  assert.is(sys(NR.mkdir), ACT.ALLOW);
  assert.is(sys(NR.chroot), ACT.ALLOW); // CAP_SYS_CHROOT is in podman's default set
  assert.is(sys(NR.kexec_load), ERRNO(1));
  // Allowed: podman leaves mount to the capabilities.
  assert.is(sys(NR.mount), ACT.ALLOW);
  assert.is(sys(NR.add_key), ERRNO(38));
  assert.is(sys(NR.vhangup), ERRNO(1));
  assert.is(sys(NR.personality, 0xffffffffn), ACT.ALLOW);
  assert.is(sys(NR.personality, 8n), ACT.ALLOW);
  assert.is(sys(NR.personality, 1n), ERRNO(38));
  assert.is(sys(2000), ERRNO(38));
  // The i386 entry point is filtered too, with its own numbers (mkdir is 39 there).
  assert.is(run(out.bpf, { arch: AUDIT_I386, nr: 39 }), ACT.ALLOW);
  // An architecture not in the profile is killed, as with runc.
  assert.is(run(out.bpf, { arch: AUDIT_AARCH64, nr: 0 }), KILL_THREAD);
});

test('containerd default profile: EPERM by default, clone without namespaces, clone3 and newer syscalls ENOSYS', () => {
  if (!x64) skip('x86_64 only');
  const out = compileSeccomp(fixture('containerd-default.json'));
  const sys = (nr: number, ...args: bigint[]) => run(out.bpf, { arch: AUDIT_ARCH_X86_64, nr, args });
  assert.is(sys(NR.read), ACT.ALLOW);
  assert.is(sys(NR.clone, 0x11n /* SIGCHLD */), ACT.ALLOW);
  assert.is(sys(NR.clone, 0x20000n | 0x11n /* CLONE_NEWNS */), ERRNO(1));
  assert.is(sys(NR.clone3), ERRNO(38));
  assert.is(sys(NR.mount), ERRNO(1));
  assert.is(sys(NR.kexec_load), ERRNO(1));
  // Numbers beyond every syscall the profile names: the -ENOSYS stub.
  assert.is(sys(1000), ERRNO(38));
  assert.is(sys(0x3fffffff), ERRNO(38));
});

test('small profiles: one errno, kill, log, argument filters', () => {
  if (!x64) skip('x86_64 only');
  const mk = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 122 }] });
  assert.is(run(mk.bpf, { arch: AUDIT_ARCH_X86_64, nr: NR.mkdir }), ERRNO(122));
  assert.is(run(mk.bpf, { arch: AUDIT_ARCH_X86_64, nr: NR.read }), ACT.ALLOW);
  assert.is(mk.flags, n.seccompFlagSupported(FILTER_FLAG.SPEC_ALLOW) ? FILTER_FLAG.SPEC_ALLOW : 0);

  const kill = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_KILL_PROCESS' }] });
  assert.is(run(kill.bpf, { arch: AUDIT_ARCH_X86_64, nr: NR.getpid }), ACT.KILL_PROCESS);

  const log = compileSeccomp({ defaultAction: 'SCMP_ACT_LOG', flags: ['SECCOMP_FILTER_FLAG_LOG'], syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] });
  assert.is(log.flags, FILTER_FLAG.LOG);
  assert.is(run(log.bpf, { arch: AUDIT_ARCH_X86_64, nr: NR.mkdir }), ACT.LOG);

  const args = compileSeccomp({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      // ORed by runc's rule: two comparisons on argument 0 are two rules.
      {
        names: ['personality'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: 1,
        args: [
          { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
          { index: 0, value: 2, op: 'SCMP_CMP_EQ' },
        ],
      },
      { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 2, args: [{ index: 1, value: 0o700, valueTwo: 0o700, op: 'SCMP_CMP_MASKED_EQ' }] },
      {
        names: ['read'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: 3,
        args: [
          { index: 2, value: 4096, op: 'SCMP_CMP_GT' },
          { index: 0, value: 0, op: 'SCMP_CMP_NE' },
        ],
      },
    ],
  });
  const a = (nr: number, ...v: bigint[]) => run(args.bpf, { arch: AUDIT_ARCH_X86_64, nr, args: v });
  assert.is(a(NR.personality, 1n), ERRNO(1));
  assert.is(a(NR.personality, 2n), ERRNO(1));
  assert.is(a(NR.personality, 3n), ACT.ALLOW);
  assert.is(a(NR.mkdir, 0n, 0o755n), ERRNO(2));
  assert.is(a(NR.mkdir, 0n, 0o600n), ACT.ALLOW);
  assert.is(a(NR.read, 3n, 0n, 8192n), ERRNO(3));
  assert.is(a(NR.read, 0n, 0n, 8192n), ACT.ALLOW);
  assert.is(a(NR.read, 3n, 0n, 4096n), ACT.ALLOW);
  // 64-bit comparison: the high word counts.
  assert.is(a(NR.read, 3n, 0n, 1n << 32n), ERRNO(3));
});

test('unknown syscall names are skipped and reported', () => {
  const out = compileSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'not_a_syscall_2099'], action: 'SCMP_ACT_ALLOW' }] });
  assert.equal(out.skipped, ['not_a_syscall_2099']);
  assert.is(
    resolveSeccomp({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'not_a_syscall_2099'], action: 'SCMP_ACT_ALLOW' }] }).input.rules.length,
    2,
  );
});

test('features: what this kernel and libseccomp support', () => {
  const f = seccompFeatures();
  assert.is(f.enabled, true);
  assert.ok(f.actions!.includes('SCMP_ACT_NOTIFY'));
  assert.ok(f.operators!.includes('SCMP_CMP_MASKED_EQ'));
  if (x64) assert.ok(f.archs!.includes('SCMP_ARCH_X86_64') && f.archs!.includes('SCMP_ARCH_X32'));
  assert.ok(f.supportedFlags!.includes('SECCOMP_FILTER_FLAG_TSYNC'));
  assert.ok(f.supportedFlags!.includes('SECCOMP_FILTER_FLAG_LOG'));
  assert.ok(f.supportedFlags!.every((x) => f.knownFlags!.includes(x)));
});

test('features: SCMP_ACT_NOTIFY only where the kernel makes listeners and libseccomp takes the action', () => {
  const n = native();
  const real = {
    seccompAvailable: () => true,
    seccompCompile: (i: CompiledInput) => n.seccompCompile(i),
    seccompFlagSupported: (f: number) => n.seccompFlagSupported(f),
  };
  assert.ok(seccompFeatures(real).actions!.includes('SCMP_ACT_NOTIFY'));
  // A kernel before 5.0.
  const oldKernel = { ...real, seccompFlagSupported: (f: number) => (f & FILTER_FLAG.NEW_LISTENER) === 0 && n.seccompFlagSupported(f) };
  assert.not.ok(seccompFeatures(oldKernel).actions!.includes('SCMP_ACT_NOTIFY'));
  // A libseccomp before 2.5.
  const oldLib = {
    ...real,
    seccompCompile: (i: CompiledInput) => {
      if (i.rules.some((r) => r.action === ACT.NOTIFY)) throw new Error('invalid action');
      return n.seccompCompile(i);
    },
  };
  const f = seccompFeatures(oldLib);
  assert.not.ok(f.actions!.includes('SCMP_ACT_NOTIFY'));
  assert.ok(f.actions!.includes('SCMP_ACT_ERRNO'));
});

uvuTest.run();
