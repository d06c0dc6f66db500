import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPlan, containerPath, capMask, PlanError } from '../../src/launch/plan.js';
import { fsOptions, parseMountOptions } from '../../src/launch/mount-options.js';
import { T } from '../../src/launch/plan-tags.js';
import { CLONE, MS, MOUNT_ATTR } from '../../src/launch/linux-consts.js';
import { decodeAll, encode, rec, type Rec } from '../../src/launch/tlv.js';
import { cgroupMountRecs } from '../../src/launch/cgroup-mount.js';
import { layoutOf, parseMountinfo, parseProcCgroup } from '../../src/cgroups/host.js';

function spec(edit?: (c: any) => void): any {
  const c: any = {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { args: ['sh'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }] },
  };
  edit?.(c);
  return c;
}
const opts = { id: 'x', bundle: '/b', fifoPath: '/run/hako/x/exec.fifo' };
const all = (rs: Rec[], tag: number) => rs.filter((r) => r.tag === tag);
const one = (rs: Rec[], tag: number) => rs.find((r) => r.tag === tag)?.value;

test('mount options: flags, clears, propagation, data', () => {
  const o = parseMountOptions(['nosuid', 'strictatime', 'mode=755', 'size=65536k', 'rslave', 'ro', 'rw', 'noexec']);
  assert.is(o.flags, MS.NOSUID | MS.STRICTATIME | MS.NOEXEC);
  assert.is(o.cleared & MS.RDONLY, MS.RDONLY);
  assert.equal(o.propagation, [MS.SLAVE | MS.REC]);
  assert.equal(o.data, ['mode=755', 'size=65536k']);
  assert.is(o.bind, false);
});

test('filesystem options for fsconfig: one per parameter, commas inside quotes kept, SELinux values unquoted', () => {
  assert.equal(fsOptions(['mode=755', 'size=65536k']), ['mode=755', 'size=65536k']);
  assert.equal(fsOptions(['newinstance', 'ptmxmode=0666,mode=0620', '', 'gid=5']), ['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']);
  assert.equal(fsOptions(['mode=755', 'context="system_u:object_r:container_file_t:s0:c1,c2"']), [
    'mode=755',
    'context=system_u:object_r:container_file_t:s0:c1,c2',
  ]);
  assert.equal(fsOptions(['rootcontext="a:b:c:s0:c1,c2",defcontext="x,y"', 'cpu,cpuacct']), ['rootcontext=a:b:c:s0:c1,c2', 'defcontext=x,y', 'cpu', 'cpuacct']);
  // Quotes mean nothing to other filesystems' options: kept as given.
  assert.equal(fsOptions(['opt="a,b"', 'x=']), ['opt="a,b"', 'x=']);
  assert.equal(fsOptions([',,=skipped,,y']), ['y']);
});

test('mount options: rbind and recursive attributes', () => {
  const o = parseMountOptions(['rbind', 'rro', 'rnosuid', 'rnoatime', 'defaults']);
  assert.is(o.bind, true);
  assert.is(o.flags, MS.BIND | MS.REC);
  assert.is(o.attrSet, MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NOATIME);
  assert.is(o.attrClr, MOUNT_ATTR.ATIME_MASK);
  const r = parseMountOptions(['rro', 'rrw']);
  assert.is(r.attrSet, 0);
  assert.is(r.attrClr, MOUNT_ATTR.RDONLY);
});

test('tlv round trip', () => {
  const r = rec('MSG_PLAN', [rec('ARG', 'sh'), rec('UID', 5), rec('CAP_BOUNDING', 1n << 40n), rec('NO_PIVOT', true), rec('MOUNT', [rec('M_TARGET', '/x')])]);
  const back = decodeAll(encode(r));
  assert.is(back.length, 1);
  const f = back[0]!.value as Rec[];
  assert.is(one(f, T.ARG), 'sh');
  assert.is(one(f, T.UID), 5);
  assert.is(one(f, T.CAP_BOUNDING), 1n << 40n);
  assert.is(one(f, T.NO_PIVOT), true);
  assert.throws(() => rec('UID', 'zero' as any), /UID/);
  assert.throws(() => rec('UID', -1), /range/);
});

test('containerPath cleans and refuses escapes', () => {
  assert.is(containerPath('proc', ''), '/proc');
  assert.is(containerPath('/a//b/', ''), '/a/b');
  assert.is(containerPath('/a/../b', ''), '/b');
  assert.is(containerPath('/../../etc', ''), '/etc');
});

test('capabilities: names to mask, unknown ones warned', () => {
  const w: string[] = [];
  assert.is(capMask(['CAP_CHOWN', 'CAP_KILL', 'CAP_NOPE'], '/p', w), 1n | (1n << 5n));
  assert.is(w.length, 1);
  assert.match(w[0]!, /CAP_NOPE/);
  const w2: string[] = [];
  assert.is(capMask(['CAP_CHECKPOINT_RESTORE'], '/p', w2, 39), 0n);
  assert.match(w2[0]!, /not supported by this kernel/);
});

test('plan: namespaces new and joined, user first and mount last', () => {
  const p = buildPlan(
    spec((c) => {
      c.linux.namespaces = [
        { type: 'mount', path: '/proc/1/ns/mnt' },
        { type: 'pid' },
        { type: 'network', path: '/run/netns/x' },
        { type: 'user', path: '/proc/1/ns/user' },
      ];
    }),
    opts,
  );
  const joins = all(p.records, T.NS_JOIN).map((r) => one(r.value as Rec[], T.NS_PATH));
  assert.equal(joins, ['/proc/1/ns/user', '/run/netns/x', '/proc/1/ns/mnt']);
  assert.is(one(p.records, T.NS_NEW), CLONE.NEWPID);
});

test('plan: a new network namespace gets its lo brought up, a joined one is left as it is', () => {
  const fresh = buildPlan(
    spec((c) => c.linux.namespaces.push({ type: 'network' })),
    opts,
  );
  assert.is(one(fresh.records, T.LOOPBACK_UP), true);
  const joined = buildPlan(
    spec((c) => c.linux.namespaces.push({ type: 'network', path: '/run/netns/x' })),
    opts,
  );
  assert.is(one(joined.records, T.LOOPBACK_UP), undefined);
  assert.is(one(buildPlan(spec(), opts).records, T.LOOPBACK_UP), undefined, 'the host network: never touched');
});

test('plan: rootfs, devices, symlinks, process', () => {
  const p = buildPlan(
    spec((c) => {
      c.root.readonly = true;
      c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 }];
      c.process.user = { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o27 };
      c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }];
    }),
    opts,
  );
  const r = p.records;
  assert.is(one(r, T.ROOTFS), '/b/rootfs');
  assert.is(one(r, T.ROOTFS_READONLY), true);
  assert.is(one(r, T.ROOTFS_PROPAGATION), MS.SLAVE | MS.REC);
  const devs = all(r, T.DEVICE).map((d) => one(d.value as Rec[], T.D_PATH));
  assert.equal(devs, ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/fuse']);
  const links = all(r, T.DEV_SYMLINK).map((d) => one(d.value as Rec[], T.SL_LINK));
  assert.ok(links.includes('/dev/ptmx') && links.includes('/dev/stdin'));
  assert.equal(
    all(r, T.ADDITIONAL_GID).map((x) => x.value),
    [10, 20],
  );
  assert.is(one(r, T.UMASK), 0o27);
  assert.is(one(r, T.UID), 1000);
  const rl = all(r, T.RLIMIT)[0]!.value as Rec[];
  assert.is(one(rl, T.RL_TYPE), 7);
  assert.is(one(rl, T.RL_HARD), 2048n);
  assert.is(one(r, T.KEYRING_NAME), '_ses.x');
});

test('plan: tmpcopyup reaches the launcher for tmpfs only (runc ignores it elsewhere)', () => {
  const p = buildPlan(
    spec((c) => {
      c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'nosuid', 'tmpcopyup'] });
      c.mounts.push({ destination: '/data', source: 'data', options: ['rbind', 'tmpcopyup'] });
    }),
    opts,
  );
  const [, tmp, data] = all(p.records, T.MOUNT).map((r) => r.value as Rec[]);
  assert.is(one(tmp!, T.M_TMPCOPYUP), true);
  assert.is(one(tmp!, T.M_FSOPT), undefined, 'not passed to the kernel as an option');
  assert.is(one(data!, T.M_TMPCOPYUP), undefined);
});

test('plan: bind mounts carry remount flags and propagation', () => {
  const p = buildPlan(
    spec((c) => {
      c.mounts.push({ destination: '/data', source: 'data', options: ['rbind', 'ro', 'nosuid', 'rprivate'] });
    }),
    opts,
  );
  const m = all(p.records, T.MOUNT)[1]!.value as Rec[];
  assert.is(one(m, T.M_SOURCE), '/b/data');
  assert.is(one(m, T.M_FLAGS), MS.BIND | MS.REC);
  assert.is(one(m, T.M_REMOUNT_FLAGS), MS.RDONLY | MS.NOSUID);
  assert.is(one(m, T.M_PROPAGATION), MS.PRIVATE | MS.REC);
});

test('plan: no mount namespace means chroot, user namespace means bound devices', () => {
  const p = buildPlan(
    spec((c) => (c.linux.namespaces = [{ type: 'pid' }])),
    opts,
  );
  assert.is(one(p.records, T.ROOT_CHROOT), true);
  const u = buildPlan(
    spec((c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    }),
    opts,
  );
  assert.is(one(u.records, T.USERNS_MAPS), true);
  assert.is(one(all(u.records, T.DEVICE)[0]!.value as Rec[], T.D_BIND), true);
});

test('plan: errors name the JSON path', () => {
  const bad = (edit: (c: any) => void, re: RegExp) => {
    try {
      buildPlan(spec(edit), opts);
    } catch (e) {
      assert.instance(e, PlanError);
      assert.match((e as Error).message, re);
      return;
    }
    assert.unreachable('no error');
  };
  bad((c) => (c.linux.namespaces = [{ type: 'pid' }, { type: 'pid' }]), /\/linux\/namespaces\/1\/type: namespace pid given twice/);
  bad((c) => (c.hostname = 'h') && (c.linux.namespaces = [{ type: 'pid' }]), /\/hostname: setting the hostname needs a uts namespace/);
  bad((c) => (c.linux.sysctl = { 'kernel.panic': '1' }), /\/linux\/sysctl\/kernel.panic: is not namespaced/);
  bad((c) => (c.linux.sysctl = { 'net.ipv4.ip_forward': '1' }), /needs a network namespace/);
  bad((c) => (c.process.rlimits = [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }]), /\/process\/rlimits\/0\/type: unknown rlimit/);
  bad((c) => (c.process.rlimits = [{ type: 'RLIMIT_CORE', soft: 2, hard: 1 }]), /soft limit above hard limit/);
  bad((c) => c.linux.namespaces.push({ type: 'user' }), /needs uidMappings and gidMappings/);
  bad((c) => (c.linux.timeOffsets = { monotonic: { secs: 1 } }), /time offsets need a new time namespace/);
  bad((c) => c.mounts.push({ destination: '/x', type: 'bind' }), /\/mounts\/1\/source: a bind mount needs a source/);
});

test("plan: sysctls never go to a namespace joined by path that is hako's own (the host's), as runc refuses for net.*", () => {
  const joinNet = (c: any) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'network').concat({ type: 'network', path: '/proc/1/ns/net' });
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
  };
  const own = (type: string, p: string) => type === 'network' && p === '/proc/1/ns/net';
  assert.throws(
    () => buildPlan(spec(joinNet), { ...opts, isOwnNamespace: own }),
    (e: Error) =>
      e instanceof PlanError && /\/linux\/sysctl\/net\.ipv4\.ip_forward: the network namespace joined \(\/proc\/1\/ns\/net\) is the host's/.test(e.message),
  );
  // Another namespace at that path: the sysctl is the container's.
  assert.ok(buildPlan(spec(joinNet), { ...opts, isOwnNamespace: () => false }));
});

test('cgroup mount on a hybrid host: tmpfs (read-only, which the launcher applies last), one bind per hierarchy', () => {
  const mi = [
    '30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
    '31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw',
    '33 30 0:29 / /sys/fs/cgroup/cpu rw,nosuid shared:12 - cgroup cgroup rw,cpu',
    '34 30 0:30 / /sys/fs/cgroup/systemd rw,nosuid shared:13 - cgroup cgroup rw,xattr,name=systemd',
  ].join('\n');
  const layout = layoutOf(parseMountinfo(mi), parseProcCgroup('3:cpu:/a/b\n1:name=systemd:/s\n0::/u\n'));
  assert.is(layout.mode, 'hybrid');
  const rs = cgroupMountRecs(layout, '/sys/fs/cgroup', MS.RDONLY | MS.NOSUID, false, '/mounts/6');
  const targets = rs.map((r) => one(r.value as Rec[], T.M_TARGET));
  assert.equal(targets, ['/sys/fs/cgroup', '/sys/fs/cgroup/unified', '/sys/fs/cgroup/cpu', '/sys/fs/cgroup/systemd']);
  assert.is(one(rs[0]!.value as Rec[], T.M_FLAGS), MS.RDONLY | MS.NOSUID);
  assert.equal(
    all(rs[0]!.value as Rec[], T.M_FSOPT).map((r) => r.value),
    ['mode=755'],
  );
  assert.equal(
    rs.map((r) => one(r.value as Rec[], T.M_SOURCE)),
    ['tmpfs', '/sys/fs/cgroup/unified/u', '/sys/fs/cgroup/cpu/a/b', '/sys/fs/cgroup/systemd/s'],
  );
  const ns = cgroupMountRecs(layout, '/sys/fs/cgroup', MS.RDONLY, true, '/mounts/6');
  assert.is(one(ns[3]!.value as Rec[], T.M_FSOPT), 'name=systemd');
  assert.is(one(ns[2]!.value as Rec[], T.M_FSTYPE), 'cgroup');
});

test('cgroup mount: controllers mounted together are reachable by each name', () => {
  const mi = [
    '30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755',
    '33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:12 - cgroup cgroup rw,cpu,cpuacct',
    '35 30 0:31 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid shared:14 - cgroup cgroup rw,net_cls,net_prio',
    '36 30 0:32 / /sys/fs/cgroup/memory rw,nosuid shared:15 - cgroup cgroup rw,memory',
  ].join('\n');
  const layout = layoutOf(parseMountinfo(mi), parseProcCgroup('4:memory:/m\n3:cpu,cpuacct:/c\n2:net_cls,net_prio:/n\n'));
  for (const cgroupns of [false, true]) {
    const rs = cgroupMountRecs(layout, '/sys/fs/cgroup', MS.RDONLY, cgroupns, '/mounts/6');
    const shown = rs.map((r) => {
      const f = r.value as Rec[];
      const link = one(f, T.M_SYMLINK);
      return link === undefined ? one(f, T.M_TARGET) : `${one(f, T.M_TARGET)} -> ${link}`;
    });
    assert.equal(shown, [
      '/sys/fs/cgroup',
      '/sys/fs/cgroup/cpu,cpuacct',
      '/sys/fs/cgroup/net_cls,net_prio',
      '/sys/fs/cgroup/memory',
      '/sys/fs/cgroup/cpu -> cpu,cpuacct',
      '/sys/fs/cgroup/cpuacct -> cpu,cpuacct',
      '/sys/fs/cgroup/net_cls -> net_cls,net_prio',
      '/sys/fs/cgroup/net_prio -> net_cls,net_prio',
    ]);
  }
});

test.run();
