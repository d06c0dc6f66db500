// Seccomp filters on real containers, observed from inside: errno text,
// deaths by SIGSYS, /proc/self/status. SCMP_ACT_NOTIFY and its agents:
// seccomp-notify.test.ts.
//
// The suite runs once `hako features` reports linux.seccomp.enabled, which
// is when create compiles linux.seccomp into the plan; the filters
// themselves are also checked without containers in
// test/unit/seccomp-kernel.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';

import type { LinuxSeccomp } from '../../src/spec/types.js';
import { Env, uniqueId, type Result } from '../helpers.js';
import { containerdDefault, podmanDefault } from './seccomp-profiles.js';

const t = suite('seccomp');
const test = skippable(t, 'seccomp');
let env: Env;
let enabled = false;
t.before(() => {
  env = new Env();
  try {
    enabled = JSON.parse(env.hako(['features']).stdout).linux?.seccomp?.enabled === true;
  } catch {
    enabled = false;
  }
});
t.after(() => env.cleanup());

const SIGSYS_STATUS = 128 + 31;

/** `sh -c script` under `seccomp`, with a writable root so that mkdir means something. */
function sh(script: string, seccomp: LinuxSeccomp, edit?: (c: any) => void): Result {
  return env.sh(script, (c) => {
    c.root.readonly = false;
    c.linux.seccomp = seccomp;
    edit?.(c);
  });
}

function runArgs(args: string[], seccomp: LinuxSeccomp): Result {
  const b = env.bundle((c) => {
    c.process.args = args;
    c.linux.seccomp = seccomp;
  });
  return env.hako(['run', '--bundle', b, uniqueId('c')]);
}

const mkdirErrno = (errnoRet: number): LinuxSeccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet }],
});

test('a profile that makes mkdir fail with a chosen errno', () => {
  if (!enabled) skip('`hako features` does not report linux.seccomp.enabled');
  const r = sh('mkdir /tmp/x; echo "status=$?"; touch /tmp/y && echo touch-ok', mkdirErrno(122));
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'status=1\ntouch-ok\n');
  assert.match(r.stderr, /mkdir: can't create directory '\/tmp\/x': Disk quota exceeded/);
  // errnoRet unset means EPERM.
  const p = sh('mkdir /tmp/x', { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] });
  assert.match(p.stderr, /Operation not permitted/);
});

test('the filter is in force in the container process', () => {
  if (!enabled) skip('`hako features` does not report linux.seccomp.enabled');
  const r = sh('grep -E "^(NoNewPrivs|Seccomp|Seccomp_filters):" /proc/self/status', mkdirErrno(1));
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
  assert.match(r.stdout, /^Seccomp_filters:\s+1$/m);
});

for (const nnp of [true, false]) {
  // podman and containerd leave no_new_privs off unless asked: then the
  // filter is loaded before the capabilities are dropped and must let the
  // rest of the setup through.
  const how = nnp ? 'with no_new_privs' : 'without no_new_privs, as podman runs it';

  test(`podman's default profile (${podmanDefault().source}), ${how}`, () => {
    if (!enabled) skip('`hako features` does not report linux.seccomp.enabled');
    const { profile } = podmanDefault();
    assert.is(profile.defaultErrnoRet, 38);
    const r = sh('echo hello; ls / >/dev/null && echo ls-ok; grep "^Seccomp:" /proc/self/status; linux32 true && echo persona-ok', profile, (c) => {
      c.process.noNewPrivileges = nnp;
    });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /^hello\nls-ok\nSeccomp:\s+2\npersona-ok\n$/);
  });

  test(`containerd's default profile, ${how}`, () => {
    if (!enabled) skip('`hako features` does not report linux.seccomp.enabled');
    const r = sh('echo hello; ls / >/dev/null && echo ls-ok; grep "^Seccomp:" /proc/self/status', containerdDefault(), (c) => {
      c.process.noNewPrivileges = nnp;
    });
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, /^hello\nls-ok\nSeccomp:\s+2\n$/);
  });
}

test('SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL and SCMP_ACT_TRAP: the process dies of SIGSYS', () => {
  if (!enabled) skip('`hako features` does not report linux.seccomp.enabled');
  // sethostname: busybox sh makes no such call on its own (it does call
  // uname at startup), and seccomp decides before the capability check.
  for (const action of ['SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP'] as const) {
    const r = runArgs(['hostname', 'kill-me'], { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['sethostname'], action }] });
    assert.is(r.status, SIGSYS_STATUS, `${action}: ${r.stderr}`);
  }
  // The shell survives a child killed by the filter.
  const r = sh('(hostname kill-me); echo "status=$?"', {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['sethostname'], action: 'SCMP_ACT_KILL_PROCESS' }],
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'status=159\n');
});

test('SCMP_ACT_LOG lets the syscall run (SECCOMP_FILTER_FLAG_LOG accepted)', () => {
  if (!enabled) skip('`hako features` does not report linux.seccomp.enabled');
  const r = runArgs(['uname', '-s'], {
    defaultAction: 'SCMP_ACT_ALLOW',
    flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'],
    syscalls: [{ names: ['uname'], action: 'SCMP_ACT_LOG' }],
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'Linux\n');
});

test('argument filters: personality(0) allowed, other personas refused', () => {
  if (!enabled) skip('`hako features` does not report linux.seccomp.enabled');
  const r = sh('linux64 true && echo linux64-ok; linux32 true; echo "linux32=$?"', {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 0, op: 'SCMP_CMP_NE' }] }],
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'linux64-ok\nlinux32=1\n');
  assert.match(r.stderr, /personality.*Operation not permitted/);
});

test('a default action with an allow list: ENOSYS for the rest', () => {
  if (!enabled) skip('`hako features` does not report linux.seccomp.enabled');
  const { profile } = podmanDefault();
  // Take mkdir and mkdirat out of podman's allow list.
  const trimmed: LinuxSeccomp = {
    ...profile,
    syscalls: profile.syscalls!.map((s) => ({ ...s, names: s.names.filter((n) => n !== 'mkdir' && n !== 'mkdirat') })).filter((s) => s.names.length > 0),
  };
  const r = sh('mkdir /tmp/x; echo "status=$?"', trimmed);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'status=1\n');
  assert.match(r.stderr, /Function not implemented/);
});

test('syscall names unknown to libseccomp are skipped, and said so at debug level', () => {
  if (!enabled) skip('`hako features` does not report linux.seccomp.enabled');
  const b = env.bundle((c) => {
    c.root.readonly = false;
    c.process.args = ['sh', '-c', 'mkdir /tmp/x; echo "status=$?"'];
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['hako_no_such_syscall', 'mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
  });
  const r = env.hako(['--debug', 'run', '--bundle', b, uniqueId('c')]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'status=1\n');
  assert.match(r.stderr, /hako_no_such_syscall/);
});

test('a bad profile fails create with the JSON path and leaves nothing behind', () => {
  if (!enabled) skip('`hako features` does not report linux.seccomp.enabled');
  const r = sh('true', {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }],
  });
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /config\.json: \/linux\/seccomp\/syscalls\/0\/args\/0\/index: must be an argument index from 0 to 5/);
  assert.is(env.hako(['list', '--format', 'json']).stdout.trim(), 'null');
  const notify = sh('true', { defaultAction: 'SCMP_ACT_NOTIFY' });
  assert.match(notify.stderr, /config\.json: \/linux\/seccomp\/defaultAction: SCMP_ACT_NOTIFY cannot be the default action/);
});

test('exec: the container filter applies to exec processes too', () => {
  if (!enabled) skip('`hako features` does not report linux.seccomp.enabled');
  const id = uniqueId('c');
  const b = env.bundle((c) => {
    c.root.readonly = false;
    c.process.args = ['sleep', '100'];
    c.linux.seccomp = mkdirErrno(122);
  });
  // The detached container keeps whatever stdio it is given: not our pipes.
  const run = env.hako(['run', '-d', '--bundle', b, id], { stdio: 'ignore' });
  assert.is(run.status, 0);
  try {
    const r = env.hako(['exec', id, 'sh', '-c', 'mkdir /tmp/x; echo "status=$?"']);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'status=1\n');
    assert.match(r.stderr, /Disk quota exceeded/);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t.run();
