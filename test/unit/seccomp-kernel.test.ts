// Compiled filters loaded by the real kernel, without root and without the
// launcher: a small Python (ctypes) loader sets no_new_privs, loads the
// program with seccomp(2) and the flags we computed, and execs the command,
// which is what the launcher does as its last step. This proves the kernel
// accepts our programs (the -ENOSYS stub included) and that they do what the
// interpreter says. Skipped where python3 or x86_64 is missing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';

const test = skippable(uvuTest, 'seccomp-kernel');

import { compileSeccomp } from '../../src/seccomp/compile.js';
import { FILTER_FLAG } from '../../src/seccomp/consts.js';
import type { LinuxSeccomp } from '../../src/spec/types.js';
import { REPO } from '../helpers.js';
import { LOADER } from './seccomp-loader.js';

const python = spawnSync('python3', ['-c', 'import ctypes'], { encoding: 'utf8' }).status === 0 ? 'python3' : null;
const enabled = python !== null && process.arch === 'x64';
const dir = mkdtempSync(join(tmpdir(), 'hako-seccomp-'));
uvuTest.after(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
function under(profile: LinuxSeccomp, argv: string[]) {
  const c = compileSeccomp(profile);
  const file = join(dir, `p${++count}.bpf`);
  writeFileSync(file, c.bpf);
  const r = spawnSync(python!, ['-c', LOADER, file, String(c.flags), ...argv], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, flags: c.flags };
}

const fixture = (name: string): LinuxSeccomp => JSON.parse(readFileSync(join(REPO, 'test/fixtures/seccomp', name), 'utf8')) as LinuxSeccomp;

// Python under the filter, to make one exact syscall and print its result.
const py = (code: string) => [python ?? 'python3', '-c', `import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n${code}`];

test('mkdir fails with the chosen errno, everything else runs', () => {
  if (!enabled) skip('needs python3 on x86_64');
  const r = under({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 122 }] }, [
    'sh',
    '-c',
    `echo before; mkdir ${dir}/x; echo status=$?`,
  ]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /before\nstatus=1\n/);
  assert.match(r.stderr, /Disk quota exceeded/);
});

test('podman default profile: a shell works, kexec_load is EPERM, an unlisted syscall ENOSYS', () => {
  if (!enabled) skip('needs python3 on x86_64');
  const sh = under(fixture('podman-default.json'), ['sh', '-c', 'echo hello; ls / >/dev/null && echo ls-ok']);
  assert.is(sh.status, 0, sh.stderr);
  assert.is(sh.stdout, 'hello\nls-ok\n');
  const r = under(fixture('podman-default.json'), py('for nr in (246, 248):\n    libc.syscall(nr, 0, 0, 0, 0, 0)\n    print(nr, ctypes.get_errno())'));
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '246 1\n248 38\n');
});

test('containerd default profile: clone3 and syscalls newer than the profile answer ENOSYS, others EPERM', () => {
  if (!enabled) skip('needs python3 on x86_64');
  const r = under(
    fixture('containerd-default.json'),
    py('for nr in (435, 1000, 248):\n    libc.syscall(nr, 0, 0, 0, 0, 0)\n    print(nr, ctypes.get_errno())'),
  );
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '435 38\n1000 38\n248 1\n');
});

test('SCMP_ACT_KILL_PROCESS: the process dies of SIGSYS', () => {
  if (!enabled) skip('needs python3 on x86_64');
  const r = under({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['uname'], action: 'SCMP_ACT_KILL_PROCESS' }] }, ['uname']);
  assert.is(r.signal, 'SIGSYS');
});

test('argument filtering: personality(0xffffffff) allowed, other personas refused', () => {
  if (!enabled) skip('needs python3 on x86_64');
  const r = under(
    {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_NE' }] }],
    },
    py(
      'libc.personality.argtypes = [ctypes.c_ulong]  # glibc takes unsigned long: no sign extension\nprint(libc.personality(0xffffffff) >= 0)\nprint(libc.personality(8), ctypes.get_errno())',
    ),
  );
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'True\n-1 1\n');
});

test('SCMP_ACT_LOG with SECCOMP_FILTER_FLAG_LOG: the kernel takes the flag, the syscall runs', () => {
  if (!enabled) skip('needs python3 on x86_64');
  const r = under({ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'], syscalls: [{ names: ['uname'], action: 'SCMP_ACT_LOG' }] }, [
    'uname',
    '-s',
  ]);
  assert.is(r.flags, FILTER_FLAG.LOG);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'Linux\n');
});

test('SCMP_ACT_NOTIFY: the load returns a listener fd', () => {
  if (!enabled) skip('needs python3 on x86_64');
  const r = under({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/unused', syscalls: [{ names: ['mknodat'], action: 'SCMP_ACT_NOTIFY' }] }, ['true']);
  assert.ok((r.flags & FILTER_FLAG.NEW_LISTENER) !== 0);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /^LISTENER=\d+$/m);
});

uvuTest.run();
