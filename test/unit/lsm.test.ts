// LSM labels without root: host detection from fake sysfs/procfs files,
// label -> mount data, and what the create and exec plans carry.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { detectLsm, labelMount, processLsmRecs, mountLabelOf, type HostLsm } from '../../src/launch/lsm.js';
import { buildPlan, PlanError } from '../../src/launch/plan.js';
import { buildExecPlan, processFromDocument } from '../../src/launch/exec-plan.js';
import { cgroupMountRecs } from '../../src/launch/cgroup-mount.js';
import { T } from '../../src/launch/plan-tags.js';
import { decodeAll, encode, type Rec } from '../../src/launch/tlv.js';

const fake = (files: Record<string, string>) => (p: string) => files[p];
const NONE: HostLsm = { apparmor: false, selinux: false, apparmorConfined: false };
const AA: HostLsm = { apparmor: true, selinux: false, apparmorConfined: false };
const SE: HostLsm = { apparmor: false, selinux: true, apparmorConfined: false };
const LABEL = 'system_u:system_r:container_t:s0:c1,c2';
const FILE_LABEL = 'system_u:object_r:container_file_t:s0:c1,c2';

test('detect: the kernel list when securityfs is mounted', () => {
  const aa = detectLsm(
    fake({
      '/sys/kernel/security/lsm': 'lockdown,capability,landlock,yama,apparmor,bpf',
      '/sys/module/apparmor/parameters/enabled': 'Y\n',
      '/proc/self/attr/apparmor/current': 'unconfined\n',
      '/proc/self/attr/current': 'unconfined\n',
    }),
  );
  assert.equal(aa, { apparmor: true, selinux: false, apparmorConfined: false });
  // Built in but left out of lsm=: the list is the truth, not the parameter.
  const off = detectLsm(fake({ '/sys/kernel/security/lsm': 'capability,selinux', '/sys/module/apparmor/parameters/enabled': 'Y\n' }));
  assert.is(off.apparmor, false);
});

test('detect: without securityfs, AppArmor from its module parameter', () => {
  assert.is(detectLsm(fake({ '/sys/module/apparmor/parameters/enabled': 'Y\n' })).apparmor, true);
  assert.is(detectLsm(fake({ '/sys/module/apparmor/parameters/enabled': 'N\n' })).apparmor, false);
  assert.equal(detectLsm(fake({})), NONE);
});

test('detect: SELinux needs selinuxfs and a loaded policy', () => {
  const withPolicy = {
    '/sys/kernel/security/lsm': 'capability,selinux,bpf',
    '/sys/fs/selinux/enforce': '0',
    '/proc/self/attr/current': 'system_u:system_r:kernel_t:s0\0',
  };
  assert.equal(detectLsm(fake(withPolicy)), SE);
  // Enabled in the kernel, but no policy yet: everything is "kernel".
  assert.is(detectLsm(fake({ ...withPolicy, '/proc/self/attr/current': 'kernel\0' })).selinux, false);
  const noFs: Record<string, string> = { ...withPolicy };
  delete noFs['/sys/fs/selinux/enforce'];
  assert.is(detectLsm(fake(noFs)).selinux, false);
  // Without the kernel list, selinuxfs alone tells it is on.
  assert.is(detectLsm(fake({ '/sys/fs/selinux/enforce': '1', '/proc/self/attr/current': 'unconfined_u:unconfined_r:unconfined_t:s0' })).selinux, true);
});

test('detect: hako confined by AppArmor (crun: anything but "unconfined")', () => {
  const files = { '/sys/kernel/security/lsm': 'apparmor', '/proc/self/attr/apparmor/current': 'docker-default (enforce)\n' };
  assert.is(detectLsm(fake(files)).apparmorConfined, true);
  // Before Linux 5.1 attr/current is AppArmor's.
  assert.is(detectLsm(fake({ '/sys/kernel/security/lsm': 'apparmor', '/proc/self/attr/current': 'unconfined\n' })).apparmorConfined, false);
});

test('mount data: context= where the filesystem takes it', () => {
  assert.equal(labelMount('tmpfs', ['mode=755', 'size=65536k'], FILE_LABEL), { data: ['mode=755', 'size=65536k', `context="${FILE_LABEL}"`] });
  assert.equal(labelMount('devpts', [], FILE_LABEL), { data: [`context="${FILE_LABEL}"`] });
  assert.equal(labelMount('mqueue', [], FILE_LABEL), { data: [], xattr: FILE_LABEL });
  for (const fs of ['proc', 'sysfs', 'cgroup', 'cgroup2', 'bind', '']) assert.equal(labelMount(fs, ['x'], FILE_LABEL), { data: ['x'] }, fs);
  // The mount's own SELinux option wins.
  assert.equal(labelMount('tmpfs', ['rootcontext=a:b:c:s0'], FILE_LABEL), { data: ['rootcontext=a:b:c:s0'] });
  assert.equal(labelMount('tmpfs', ['mode=1777'], undefined), { data: ['mode=1777'] });
});

test('labels for an LSM the host lacks are refused, naming the JSON path', () => {
  const err = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof PlanError && re.test(e.message), String(re));
  err(() => processLsmRecs({ apparmorProfile: 'p' }, SE), /^config.json: \/process\/apparmorProfile: AppArmor is not enabled on this host$/);
  err(() => processLsmRecs({ selinuxLabel: LABEL }, AA), /^config.json: \/process\/selinuxLabel: SELinux is not enabled on this host$/);
  err(() => mountLabelOf(FILE_LABEL, AA), /^config.json: \/linux\/mountLabel: SELinux is not enabled on this host$/);
  err(() => processLsmRecs({ apparmorProfile: 'a"b' }, AA), /^config.json: \/process\/apparmorProfile: "a\\"b" is not a label$/);
  assert.equal(processLsmRecs({}, NONE), []);
  assert.is(mountLabelOf('', NONE), undefined);
});

test('AppArmor: stack instead of exec when confined and no_new_privs', () => {
  const tags = (rs: Rec[]) => rs.map((r) => [r.tag, r.value]);
  assert.equal(tags(processLsmRecs({ apparmorProfile: 'p', noNewPrivileges: true }, AA)), [[T.APPARMOR_PROFILE, 'p']]);
  const confined = { ...AA, apparmorConfined: true };
  assert.equal(tags(processLsmRecs({ apparmorProfile: 'p', noNewPrivileges: false }, confined)), [[T.APPARMOR_PROFILE, 'p']]);
  assert.equal(tags(processLsmRecs({ apparmorProfile: 'p', noNewPrivileges: true }, confined)), [
    [T.APPARMOR_PROFILE, 'p'],
    [T.APPARMOR_STACK, true],
  ]);
});

function spec(edit?: (c: any) => void): any {
  const c: any = {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { args: ['sh'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' },
      { destination: '/data', type: 'bind', source: '/srv', options: ['rbind'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] },
  };
  edit?.(c);
  return c;
}
const opts = { id: 'x', bundle: '/b', fifoPath: '/run/hako/x/exec.fifo' };
const top = (rs: Rec[], tag: number) => rs.filter((r) => r.tag === tag).map((r) => r.value);
const field = (m: Rec, tag: number) => (m.value as Rec[]).find((r) => r.tag === tag)?.value;
const fields = (m: Rec, tag: number) => (m.value as Rec[]).filter((r) => r.tag === tag).map((r) => r.value);

test('create plan: labels, mount data and the masked-tmpfs label', () => {
  const s = spec((c) => {
    c.process.apparmorProfile = 'hako-test';
    c.process.selinuxLabel = LABEL;
    c.linux.mountLabel = FILE_LABEL;
  });
  const p = buildPlan(s, { ...opts, lsm: { apparmor: true, selinux: true, apparmorConfined: false } });
  // Through the wire encoding, as the launcher receives it.
  const rs = decodeAll(Buffer.concat(p.records.map(encode)));
  assert.equal(top(rs, T.APPARMOR_PROFILE), ['hako-test']);
  assert.equal(top(rs, T.SELINUX_LABEL), [LABEL]);
  assert.equal(top(rs, T.MOUNT_LABEL), [FILE_LABEL]);
  assert.equal(top(rs, T.APPARMOR_STACK), []);
  const mounts = rs.filter((r) => r.tag === T.MOUNT);
  const by = (dst: string) => mounts.find((m) => field(m, T.M_TARGET) === dst)!;
  assert.equal(fields(by('/proc'), T.M_FSOPT), []);
  // One fsconfig parameter each; the label's commas stay in its value.
  assert.equal(fields(by('/dev'), T.M_FSOPT), ['mode=755', `context=${FILE_LABEL}`]);
  assert.equal(fields(by('/dev/mqueue'), T.M_FSOPT), []);
  assert.is(field(by('/dev/mqueue'), T.M_LABEL), FILE_LABEL);
  assert.equal(fields(by('/data'), T.M_FSOPT), []);
  assert.is(field(by('/data'), T.M_LABEL), undefined);
});

test('create plan: nothing of the kind without labels; refused where the LSM is off', () => {
  const p = buildPlan(spec(), { ...opts, lsm: AA });
  for (const t of [T.APPARMOR_PROFILE, T.APPARMOR_STACK, T.SELINUX_LABEL, T.MOUNT_LABEL]) assert.equal(top(p.records, t), []);
  assert.throws(
    () =>
      buildPlan(
        spec((c) => (c.process.apparmorProfile = 'p')),
        { ...opts },
      ),
    (e: unknown) => e instanceof PlanError && e.message === 'config.json: /process/apparmorProfile: AppArmor is not enabled on this host',
  );
  assert.throws(
    () =>
      buildPlan(
        spec((c) => (c.linux.mountLabel = FILE_LABEL)),
        { ...opts, lsm: AA },
      ),
    (e: unknown) => e instanceof PlanError && e.message === 'config.json: /linux/mountLabel: SELinux is not enabled on this host',
  );
});

test('cgroup v1 tmpfs carries the mountLabel (runc labels it too)', () => {
  const layout: any = {
    mode: 'hybrid',
    hierarchies: [
      { fstype: 'cgroup', mountpoint: '/sys/fs/cgroup/memory', root: '/', controllers: ['memory'] },
      { fstype: 'cgroup2', mountpoint: '/sys/fs/cgroup/unified', root: '/', controllers: [] },
    ],
    self: new Map(),
  };
  const rs = cgroupMountRecs(layout, '/sys/fs/cgroup', 0x1 /* MS_RDONLY */, true, '/mounts/0', undefined, FILE_LABEL);
  const tmpfs = rs.filter((m) => field(m, T.M_FSTYPE) === 'tmpfs');
  assert.is(tmpfs.length, 1); // read-only too, which the launcher applies last
  assert.equal(fields(tmpfs[0]!, T.M_FSOPT), ['mode=755', `context=${FILE_LABEL}`]);
});

test("exec plan: the process's labels, else the container's", () => {
  const s = spec((c) => {
    c.process.apparmorProfile = 'container-profile';
    c.process.selinuxLabel = LABEL;
  });
  const eopts = { id: 'x', rootfs: '/b/rootfs', joinNamespaces: 0, mountNamespace: true, lsm: { apparmor: true, selinux: true, apparmorConfined: false } };
  // A process.json that names none must not leave the container's confinement.
  const bare = processFromDocument({ args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } }, { selinuxEnabled: true });
  let rs = buildExecPlan(s, bare, eopts).records;
  assert.equal(top(rs, T.APPARMOR_PROFILE), ['container-profile']);
  assert.equal(top(rs, T.SELINUX_LABEL), [LABEL]);
  rs = buildExecPlan(s, { ...bare, apparmorProfile: 'other', selinuxLabel: 'system_u:system_r:other_t:s0' }, eopts).records;
  assert.equal(top(rs, T.APPARMOR_PROFILE), ['other']);
  assert.equal(top(rs, T.SELINUX_LABEL), ['system_u:system_r:other_t:s0']);
  // Never a mount label: exec makes no mounts.
  assert.equal(top(rs, T.MOUNT_LABEL), []);
  assert.throws(() => buildExecPlan(s, bare, { ...eopts, lsm: NONE }), /AppArmor is not enabled on this host/);
});

test.run();
