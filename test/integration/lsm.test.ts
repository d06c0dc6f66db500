// LSM labels, observed from inside the container: its AppArmor profile or
// SELinux label (/proc/self/attr), the profile's rules holding, mountLabel
// in mountinfo; exec --apparmor / --process-label; and the failures (an
// unknown profile, an LSM the host lacks) in one line, leaving nothing.
//
// Each part runs where its LSM is on: this host has neither, so here only
// the refusals run; `make test-v2` boots the guest with AppArmor (Debian's
// default) and again with SELinux and a permissive policy (scripts/vm).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostLsm } from '../../src/launch/lsm.js';
import { Env, expectCleanFailure, uniqueId } from '../helpers.js';
import { skip, skippable } from '../skip.js';

const t = suite('lsm');
const test = skippable(t, 'lsm');
const lsm = hostLsm();
let env: Env;

const PROFILE = 'hako-test-deny';
const parser = ['/usr/sbin/apparmor_parser', '/sbin/apparmor_parser'].find((p) => existsSync(p));
// Loading profiles needs securityfs (the guest's /init mounts it).
const apparmor = lsm.apparmor && parser !== undefined && existsSync('/sys/kernel/security/apparmor/.replace');
let profileFile = '';
const AA_SKIP = lsm.apparmor ? 'AppArmor: no apparmor_parser or securityfs to load a profile with' : 'AppArmor is not enabled on this host';
const SE_SKIP = 'SELinux is not enabled on this host';

// A profile that allows what the busybox container does, but reading one file.
const profileText = `profile ${PROFILE} flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  network,
  signal,
  unix,
  ptrace,
  deny /etc/hako-secret r,
}
`;

t.before(() => {
  env = new Env();
  if (apparmor) {
    profileFile = path.join(env.dir, `${PROFILE}.profile`);
    writeFileSync(profileFile, profileText);
    const r = spawnSync(parser!, ['-r', '-K', profileFile], { encoding: 'utf8' });
    assert.is(r.status, 0, `apparmor_parser: ${r.stderr}`);
  }
});
t.after(() => {
  env.cleanup();
  if (apparmor) spawnSync(parser!, ['-R', '-K', profileFile]);
});

const attr = 'cat /proc/self/attr/apparmor/current 2>/dev/null || cat /proc/self/attr/current';

/** A detached container running `sleep 1000`; returns its id. */
function running(edit?: (c: any) => void): string {
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    edit?.(c);
  });
  const id = uniqueId('lsm');
  const r = env.hako(['run', '-d', '--bundle', b, id], { stdio: 'ignore' });
  assert.is(r.status, 0, 'run -d');
  return id;
}

// The VM lane says which LSM its guest was booted with: there, not having
// it is a failure, not a reason to skip.
test('the LSM this run expects (HAKO_TEST_LSM) is there', () => {
  const want = process.env.HAKO_TEST_LSM;
  if (want === 'apparmor')
    assert.ok(
      apparmor,
      `AppArmor: enabled ${lsm.apparmor}, apparmor_parser ${parser ?? 'missing'}, securityfs mounted ${existsSync('/sys/kernel/security/apparmor')}`,
    );
  else if (want === 'selinux') assert.ok(lsm.selinux, 'SELinux is not enabled with a policy loaded');
  else assert.ok(want === undefined || want === '', `HAKO_TEST_LSM=${want}: apparmor or selinux`);
});

// ---- hosts without the LSM (this machine, and each guest for the other one) ----

test('a label for an LSM the host lacks: one line naming the JSON path, nothing left', () => {
  if (!lsm.apparmor)
    expectCleanFailure(env, (c) => (c.process.apparmorProfile = PROFILE), /config\.json: \/process\/apparmorProfile: AppArmor is not enabled on this host/);
  if (!lsm.selinux) {
    expectCleanFailure(
      env,
      (c) => (c.process.selinuxLabel = 'system_u:system_r:container_t:s0'),
      /config\.json: \/process\/selinuxLabel: SELinux is not enabled on this host/,
    );
    expectCleanFailure(
      env,
      (c) => (c.linux.mountLabel = 'system_u:object_r:container_file_t:s0'),
      /config\.json: \/linux\/mountLabel: SELinux is not enabled on this host/,
    );
  }
});

// ---- AppArmor ----

test('apparmorProfile: the process runs confined by it, and its rules hold', () => {
  if (!apparmor) skip(AA_SKIP);
  const b = env.bundle((c) => {
    c.process.apparmorProfile = PROFILE;
    c.process.args = ['sh', '-c', `${attr}; cat /etc/hako-secret; echo "status $?"; cat /etc/hostname >/dev/null && echo readable`];
  });
  writeFileSync(path.join(b, 'rootfs/etc/hako-secret'), 'secret\n');
  const r = env.hako(['run', '--bundle', b, uniqueId('aa')]);
  assert.is(r.status, 0, r.stderr);
  const [label, status, other] = r.stdout.trim().split('\n');
  assert.is(label, `${PROFILE} (enforce)`);
  assert.is(status, 'status 1', 'the denied file cannot be read');
  assert.not.match(r.stdout, /^secret$/m);
  assert.match(r.stderr, /hako-secret'?: Permission denied/);
  assert.is(other, 'readable', 'what the profile allows still works');
});

// CVE-2019-16884: runc wrote the profile into whatever the container's
// /proc held, here a symlink to ordinary files. hako writes through the
// procfs it opened before entering the container, so the image's /proc
// does not matter. Seen from the host: the container has no procfs.
test("apparmorProfile goes through hako's own procfs, not the container's /proc (a trap here)", () => {
  if (!apparmor) skip(AA_SKIP);
  const b = env.bundle((c) => {
    c.process.apparmorProfile = PROFILE;
    c.process.args = ['sleep', '1000'];
    c.mounts = c.mounts.filter((m: any) => m.destination !== '/proc');
    c.linux.maskedPaths = [];
    c.linux.readonlyPaths = [];
  });
  const fake = path.join(b, 'rootfs/fakeproc');
  for (const d of ['self', 'thread-self']) {
    mkdirSync(path.join(fake, d, 'attr/apparmor'), { recursive: true });
    writeFileSync(path.join(fake, d, 'attr/apparmor/exec'), '');
    writeFileSync(path.join(fake, d, 'attr/exec'), '');
  }
  rmSync(path.join(b, 'rootfs/proc'), { recursive: true, force: true });
  symlinkSync('fakeproc', path.join(b, 'rootfs/proc'));
  const id = uniqueId('lsm');
  assert.is(env.hako(['run', '-d', '--bundle', b, id], { stdio: 'ignore' }).status, 0, 'run -d');
  try {
    const pid = JSON.parse(env.hako(['state', id]).stdout).pid;
    assert.is(readFileSync(`/proc/${pid}/attr/current`, 'utf8').trim(), `${PROFILE} (enforce)`);
    for (const d of ['self', 'thread-self']) assert.is(readFileSync(path.join(fake, d, 'attr/apparmor/exec'), 'utf8'), '', 'the trap stays untouched');
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

test('exec: --apparmor, and the container profile for a process.json without one', () => {
  if (!apparmor) skip(AA_SKIP);
  const plain = running();
  const confined = running((c) => (c.process.apparmorProfile = PROFILE));
  try {
    let r = env.hako(['exec', plain, 'sh', '-c', attr]);
    assert.is(r.stdout.trim(), 'unconfined', r.stderr);
    r = env.hako(['exec', '--apparmor', PROFILE, plain, 'sh', '-c', attr]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), `${PROFILE} (enforce)`);
    const proc = path.join(env.dir, `${uniqueId('p')}.json`);
    writeFileSync(proc, JSON.stringify({ args: ['sh', '-c', attr], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }));
    r = env.hako(['exec', '--process', proc, confined]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), `${PROFILE} (enforce)`, 'leaving apparmorProfile out is no way out of the profile');
    // runc's status for an exec that fails before the process runs.
    r = env.hako(['exec', '--apparmor', 'hako-no-such-profile', plain, 'true']);
    assert.is(r.status, 255, r.stderr);
    assert.match(r.stderr, /apparmor profile "hako-no-such-profile" is not loaded in the kernel/);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  } finally {
    env.hako(['delete', '--force', plain]);
    env.hako(['delete', '--force', confined]);
  }
});

test('an unknown profile: one line, nothing left', () => {
  if (!apparmor) skip(AA_SKIP);
  expectCleanFailure(
    env,
    (c) => (c.process.apparmorProfile = 'hako-no-such-profile'),
    /apparmor profile "hako-no-such-profile" is not loaded in the kernel \(write \/proc\/thread-self\/attr\/apparmor\/exec: no such file or directory\)/,
  );
});

// ---- SELinux ----

// Debian's reference policy has no container_t: these are types it has.
const PROCESS_LABEL = 'system_u:system_r:initrc_t:s0';
const EXEC_LABEL = 'system_u:system_r:sshd_t:s0';
const MOUNT_LABEL = 'system_u:object_r:tmpfs_t:s0:c1,c2';

test('selinuxLabel and mountLabel: the process label, context= on the mounts that take one', () => {
  if (!lsm.selinux) skip(SE_SKIP);
  const b = env.bundle((c) => {
    c.process.selinuxLabel = PROCESS_LABEL;
    c.linux.mountLabel = MOUNT_LABEL;
    c.process.args = ['sh', '-c', 'cat /proc/self/attr/current; echo; cat /proc/self/mountinfo'];
  });
  const r = env.hako(['run', '--bundle', b, uniqueId('se')]);
  assert.is(r.status, 0, r.stderr);
  const [label, ...mountinfo] = r.stdout.split('\n');
  assert.is(label!.replace(/\0/g, ''), PROCESS_LABEL);
  const line = (dst: string) => mountinfo.find((l) => l.split(' ')[4] === dst) ?? '';
  const context = `context="${MOUNT_LABEL}"`;
  for (const dst of ['/dev', '/dev/shm', '/dev/pts']) assert.ok(line(dst).includes(context), `${dst}: ${line(dst)}`);
  // The masking tmpfs over directories is labelled too; proc is not.
  assert.ok(line('/proc/acpi').includes(context), `/proc/acpi: ${line('/proc/acpi')}`);
  assert.not.ok(line('/proc').includes('context='), line('/proc'));
});

/** SELinux label of the keyring named `name` (listed in /proc/keys), by keyctl(KEYCTL_GET_SECURITY) from python3's ctypes. */
function keyringLabel(name: string): string {
  const line = readFileSync('/proc/keys', 'utf8')
    .split('\n')
    .find((l) => l.endsWith(` ${name}: empty`) || l.includes(` ${name}: `));
  assert.ok(line, `${name} in /proc/keys`);
  const serial = parseInt(line!.split(' ')[0]!, 16);
  const py =
    'import ctypes,sys\nb=ctypes.create_string_buffer(256)\nn=ctypes.CDLL(None,use_errno=True).syscall(250,17,int(sys.argv[1]),b,256)\nprint(b.value.decode() if n>0 else "errno %d" % ctypes.get_errno())';
  const r = spawnSync('python3', ['-c', py, String(serial)], { encoding: 'utf8' });
  return r.stdout.trim();
}

test('exec --process-label, and the container label for a process.json without one', () => {
  if (!lsm.selinux) skip(SE_SKIP);
  const id = running((c) => (c.process.selinuxLabel = PROCESS_LABEL));
  try {
    let r = env.hako(['exec', '--process-label', EXEC_LABEL, id, 'cat', '/proc/self/attr/current']);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.replace(/\0/g, '').trim(), EXEC_LABEL);
    const proc = path.join(env.dir, `${uniqueId('p')}.json`);
    writeFileSync(proc, JSON.stringify({ args: ['cat', '/proc/self/attr/current'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }));
    r = env.hako(['exec', '--process', proc, id]);
    assert.is(r.stdout.replace(/\0/g, '').trim(), PROCESS_LABEL, r.stderr);
    // The session keyring the init made carries the process label too.
    assert.is(keyringLabel(`_ses.${id}`), PROCESS_LABEL);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

test('an SELinux label the policy does not know: one line, nothing left', () => {
  if (!lsm.selinux) skip(SE_SKIP);
  expectCleanFailure(
    env,
    (c) => (c.process.selinuxLabel = 'system_u:system_r:hako_no_such_t:s0'),
    /selinux label "system_u:system_r:hako_no_such_t:s0" is not valid in the loaded policy/,
  );
});

t.run();
