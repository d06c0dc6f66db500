// criu's RPC messages and what hako tells criu about a container
// (src/checkpoint/rpc.ts, options.ts, swrk.ts's error reading): pure parts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader, Writer } from '../../src/protowire.js';
import { CG_MODE, REQ, decodeResp, encodeReq, versionNumber } from '../../src/checkpoint/rpc.js';
import {
  OptionError,
  cgroupExtMounts,
  cgroupsMode,
  checkStatusFd,
  dumpExtMounts,
  emptyNsMask,
  externalNamespaces,
  newNamespaces,
  pageServer,
  parentImage,
  parseDescriptors,
  restoreExtMounts,
  restoreNamespaces,
  stdioInheritFds,
} from '../../src/checkpoint/options.js';
import { cgroupRoots } from '../../src/checkpoint/restore.js';
import { restoreBringsLoopbackUp } from '../../src/checkpoint/loopback.js';
import { lastError } from '../../src/checkpoint/swrk.js';
import type { CgroupLayout } from '../../src/cgroups/host.js';

test('criu_req: type, opts with proto2 required fields written even when zero, notify_success', () => {
  const buf = encodeReq({
    type: REQ.RESTORE,
    opts: {
      imagesDirFd: 7,
      logLevel: 4,
      root: '/r',
      rstSibling: true,
      inheritFd: [{ key: 'pipe:[5]', fd: 0 }],
      manageCgroupsMode: CG_MODE.ignore!,
      emptyNs: 0x40000000,
      joinNs: [{ ns: 'uts', nsFile: '/proc/9/ns/uts' }],
    },
  });
  const r = new Reader(buf);
  assert.is(r.int(1), 2);
  const o = r.msg(2)!;
  assert.is(o.int(1), 7);
  assert.is(o.int(9), 4);
  assert.is(o.str(13), '/r');
  assert.ok(o.bool(26));
  const inh = o.msgs(27);
  assert.is(inh.length, 1);
  assert.is(inh[0]!.str(1), 'pipe:[5]');
  assert.ok(inh[0]!.has(2), 'inherit_fd.fd 0 is written: it is required');
  assert.is(inh[0]!.int(2), 0);
  assert.ok(o.has(34), 'manage_cgroups_mode IGNORE (0) is a choice, so written');
  assert.is(o.int(34), 0);
  assert.is(o.int(38), 0x40000000);
  assert.not.ok(o.has(3), 'unset booleans are left out');
  const j = o.msgs(39);
  assert.equal([j.length, j[0]!.str(1), j[0]!.str(2)], [1, 'uts', '/proc/9/ns/uts']);

  const n = new Reader(encodeReq({ type: REQ.NOTIFY, notifySuccess: true }));
  assert.is(n.int(1), 6);
  assert.ok(n.bool(3));
  // An images dir fd 0 would still be sent (required field).
  assert.ok(new Reader(encodeReq({ type: REQ.DUMP, opts: { imagesDirFd: 0 } })).msg(2)!.has(1));
});

test('criu_resp: success, notify, restore pid, errors, version', () => {
  const notify = new Writer().always(1, REQ.NOTIFY).always(2, true).msg(5, new Writer().str(1, 'post-restore').int(2, 4242)).bytes();
  assert.equal(decodeResp(notify), { type: 6, success: true, notify: { script: 'post-restore', pid: 4242 } });
  const restored = new Writer().always(1, REQ.RESTORE).always(2, true).msg(4, new Writer().always(1, 99)).bytes();
  assert.is(decodeResp(restored).restoredPid, 99);
  const failed = decodeResp(new Writer().always(1, REQ.DUMP).always(2, false).int(7, 2).str(9, 'Error (criu/x.c:1): bad; Error (y.c:2): worse').bytes());
  assert.is(failed.success, false);
  assert.is(failed.crErrno, 2);
  assert.match(failed.crErrmsg!, 'bad');
  const v = decodeResp(new Writer().always(1, REQ.VERSION).always(2, true).msg(10, new Writer().always(1, 3).always(2, 17).int(4, 1)).bytes());
  assert.is(versionNumber(v.version!), 31701);
});

test('--manage-cgroups-mode and --empty-ns as runc maps them', () => {
  assert.is(cgroupsMode(''), undefined);
  assert.is(cgroupsMode('soft'), 3);
  assert.is(cgroupsMode('full'), 4);
  assert.is(cgroupsMode('strict'), 5);
  assert.is(cgroupsMode('ignore'), 0);
  assert.throws(
    () => cgroupsMode('hard'),
    (e: Error) => e instanceof OptionError && /--manage-cgroups-mode: invalid mode "hard"/.test(e.message),
  );
  assert.is(emptyNsMask([]), 0x40000000, 'the network is always empty');
  assert.is(emptyNsMask(['ipc', 'network']), 0x48000000);
  assert.throws(() => emptyNsMask(['time']), /--empty-ns: namespace "time" is not supported/);
});

test('--parent-path is relative to the image directory and must be a directory there; --page-server', () => {
  const seen: string[] = [];
  assert.is(
    parentImage('/img', '', () => true),
    undefined,
  );
  assert.is(
    parentImage('/img', '../pre', (p) => {
      seen.push(p);
      return true;
    }),
    '../pre',
  );
  assert.equal(seen, ['/pre']);
  assert.throws(() => parentImage('/img', '/abs', () => true), /--parent-path must be relative/);
  assert.throws(() => parentImage('/img', '../none', () => 'no such file or directory'), /--parent-path: \/none: no such file or directory/);
  assert.equal(pageServer('10.0.0.1:8080'), { address: '10.0.0.1', port: 8080 });
  assert.is(pageServer(''), undefined);
  assert.throws(() => pageServer('host'), /--page-server/);
  assert.throws(() => pageServer('host:0'), /--page-server/);
});

test('--status-fd: not given, or open for writing (write-only or read-write) passes; not open, read-only or no flags line is one error naming the fd', () => {
  const info = (flags: string) => `pos:\t0\nflags:\t${flags}\nmnt_id:\t15\nino:\t1234\n`;
  checkStatusFd(-1, undefined);
  checkStatusFd(5, info('01'));
  checkStatusFd(5, info('02000001'));
  checkStatusFd(5, info('02')); // a socket, as node's extra stdio gives
  assert.throws(
    () => checkStatusFd(5, undefined),
    (e: Error) => e instanceof OptionError && e.message === '--status-fd 5: not an open file descriptor',
  );
  assert.throws(() => checkStatusFd(5, info('02000000')), /--status-fd 5: not open for writing/);
  assert.throws(() => checkStatusFd(5, 'pos:\t0\n'), /--status-fd 5: no flags in \/proc\/self\/fdinfo\/5/);
});

const spec = {
  mounts: [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/data/', type: 'bind', source: 'vol', options: ['rbind'] },
    { destination: '/etc/hosts', source: '/h/hosts', options: ['bind', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup' },
  ],
  linux: {
    maskedPaths: ['/proc/kcore', '/proc/acpi'],
    devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }],
    namespaces: [{ type: 'pid' }, { type: 'network', path: '/run/netns/x' }, { type: 'mount' }],
  },
} as any;

test('ext mounts: binds, masked files and devices keyed by mount point; restore gives each its source', () => {
  const dump = dumpExtMounts(spec, (p) => p === '/proc/kcore');
  const byKey = Object.fromEntries(dump.map((m) => [m.key, m.val]));
  assert.is(byKey['/data'], '/data');
  assert.is(byKey['/etc/hosts'], '/etc/hosts');
  assert.is(byKey['/proc/kcore'], '/dev/null', 'a masked file is /dev/null bound over it');
  assert.is(byKey['/proc/acpi'], undefined, 'a masked directory is a tmpfs criu dumps');
  assert.is(byKey['/dev/null'], '/dev/null');
  assert.is(byKey['/dev/fuse'], '/dev/fuse');
  assert.is(byKey['/proc'], undefined);

  const rst = Object.fromEntries(restoreExtMounts(spec, '/bundle').map((m) => [m.key, m.val]));
  assert.is(rst['/data'], '/bundle/vol', "a relative source is the bundle's");
  assert.is(rst['/etc/hosts'], '/h/hosts');
  assert.is(rst['/dev/null'], '/dev/null');
});

test('the host-bound cgroup mount is external: v2 one key, v1 one per hierarchy; none with a cgroup namespace', () => {
  const v2: CgroupLayout = {
    mode: 'v2',
    hierarchies: [{ fstype: 'cgroup2', mountpoint: '/sys/fs/cgroup', root: '/', controllers: [] }],
  } as unknown as CgroupLayout;
  assert.equal(cgroupExtMounts(spec, v2), [{ key: '/sys/fs/cgroup', val: '/sys/fs/cgroup' }]);
  assert.equal(cgroupExtMounts(spec, v2, { '': '/sys/fs/cgroup/new' }), [{ key: '/sys/fs/cgroup', val: '/sys/fs/cgroup/new' }]);
  const v1: CgroupLayout = {
    mode: 'v1',
    hierarchies: [
      { fstype: 'cgroup', mountpoint: '/sys/fs/cgroup/cpu,cpuacct', root: '/', controllers: ['cpu', 'cpuacct'] },
      { fstype: 'cgroup', mountpoint: '/sys/fs/cgroup/memory', root: '/', controllers: ['memory'] },
    ],
  } as unknown as CgroupLayout;
  assert.equal(cgroupExtMounts(spec, v1, { 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/c', memory: '/sys/fs/cgroup/memory/c' }), [
    { key: '/sys/fs/cgroup/cpu,cpuacct', val: '/sys/fs/cgroup/cpu,cpuacct/c' },
    { key: '/sys/fs/cgroup/memory', val: '/sys/fs/cgroup/memory/c' },
  ]);
  const withNs = { ...spec, linux: { ...spec.linux, namespaces: [...spec.linux.namespaces, { type: 'cgroup' }] } };
  assert.equal(cgroupExtMounts(withNs, v2), []);
});

test('restore binds what create bound for a hierarchy hako made no cgroup in: its own path there, never the hierarchy root', () => {
  // A hybrid host: name=systemd is no controller hako manages, so the new
  // container's cgroup has no directory there. create binds the runtime's
  // own path in it (src/launch/cgroup-mount.ts); the host's whole tree
  // (every unit's and container's cgroup, writable through an rw cgroup
  // mount) must not be what restore gives the container instead.
  const hybrid: CgroupLayout = {
    mode: 'hybrid',
    hierarchies: [
      { fstype: 'cgroup', mountpoint: '/sys/fs/cgroup/memory', root: '/', controllers: ['memory'] },
      { fstype: 'cgroup', mountpoint: '/sys/fs/cgroup/systemd', root: '/', controllers: ['name=systemd'] },
      { fstype: 'cgroup2', mountpoint: '/sys/fs/cgroup/unified', root: '/', controllers: [] },
    ],
    self: new Map([
      ['memory', '/system.slice/shim.service'],
      ['name=systemd', '/system.slice/shim.service'],
      ['', '/system.slice/shim.service'],
    ]),
  };
  const rst = Object.fromEntries(
    cgroupExtMounts(spec, hybrid, { memory: '/sys/fs/cgroup/memory/c', '': '/sys/fs/cgroup/unified/c' }).map((m) => [m.key, m.val]),
  );
  assert.is(rst['/sys/fs/cgroup/memory'], '/sys/fs/cgroup/memory/c');
  assert.is(rst['/sys/fs/cgroup/unified'], '/sys/fs/cgroup/unified/c');
  assert.is(rst['/sys/fs/cgroup/systemd'], '/sys/fs/cgroup/systemd/system.slice/shim.service');
  // No cgroup at all (rootless without delegation): v2's own path, as create binds.
  const v2: CgroupLayout = {
    mode: 'v2',
    hierarchies: [{ fstype: 'cgroup2', mountpoint: '/sys/fs/cgroup', root: '/', controllers: [] }],
    self: new Map([['', '/user.slice/user-1000.slice/session-1.scope']]),
  };
  assert.equal(cgroupExtMounts(spec, v2, {}), [{ key: '/sys/fs/cgroup', val: '/sys/fs/cgroup/user.slice/user-1000.slice/session-1.scope' }]);
});

test('namespaces joined by path: external at dump, inherited fds at restore; others refused', () => {
  assert.equal(
    externalNamespaces(spec, () => 4026532000),
    ['net[4026532000]:extRootNetNS'],
  );
  assert.equal(restoreNamespaces(spec), { paths: ['/run/netns/x'], inherit: [{ key: 'extRootNetNS', fd: 4 }], join: [] });
  const pod = {
    linux: {
      namespaces: [
        { type: 'pid', path: '/proc/9/ns/pid' },
        { type: 'ipc', path: '/proc/9/ns/ipc' },
        { type: 'network', path: '/proc/9/ns/net' },
        { type: 'mount', path: '/proc/9/ns/mnt' },
      ],
    },
  } as any;
  assert.equal(restoreNamespaces(pod), {
    paths: ['/proc/9/ns/pid', '/proc/9/ns/net'],
    inherit: [
      { key: 'extRootPidNS', fd: 4 },
      { key: 'extRootNetNS', fd: 5 },
    ],
    join: [
      { ns: 'ipc', nsFile: '/proc/9/ns/ipc' },
      { ns: 'mnt', nsFile: '/proc/9/ns/mnt' },
    ],
  });
  assert.throws(
    () => restoreNamespaces({ linux: { namespaces: [{ type: 'cgroup', path: '/proc/1/ns/cgroup' }] } } as any),
    /cgroup namespace given by path .* cannot be restored/,
  );
  assert.is(newNamespaces(spec), 0x20000000 | 0x20000, 'pid and mount made, the network joined');
});

test('stdio: pipes among the recorded descriptors become inherit_fd entries; descriptors.json is checked', () => {
  assert.equal(stdioInheritFds(['pipe:[10]', '/dev/null', 'pipe:[12]']), [
    { key: 'pipe:[10]', fd: 0 },
    { key: 'pipe:[12]', fd: 2 },
  ]);
  assert.equal(stdioInheritFds(['/dev/pts/0', '/dev/pts/0', '/dev/pts/0']), []);
  // A file whose name holds "pipe:" is a file, not one of the init's pipes.
  assert.equal(stdioInheritFds(['/tmp/pipe:[10]', 'anon_inode:[pipe:]', 'pipe:[12] (deleted)']), []);
  assert.equal(parseDescriptors('["a","b"]', 'd.json'), ['a', 'b']);
  assert.throws(() => parseDescriptors('{', 'd.json'), /d\.json: not JSON/);
  assert.throws(() => parseDescriptors('[1]', 'd.json'), /d\.json: must be an array of strings/);
});

test('restore brings lo up in a network namespace the config makes, not in one it joins or where it has none', () => {
  assert.ok(restoreBringsLoopbackUp({ linux: { namespaces: [{ type: 'pid' }, { type: 'network' }] } } as any));
  assert.not.ok(restoreBringsLoopbackUp(spec), 'joined by path: not ours');
  assert.not.ok(restoreBringsLoopbackUp({ linux: { namespaces: [{ type: 'pid' }] } } as any), "the host's network");
  assert.not.ok(restoreBringsLoopbackUp({} as any));
});

test("cg_root from /proc/PID/cgroup; criu's last error line", () => {
  assert.equal(cgroupRoots('0::/c1\n'), [{ ctrl: undefined, path: '/c1' }]);
  assert.equal(cgroupRoots('4:cpu,cpuacct:/x\n1:name=systemd:/y\n'), [
    { ctrl: 'cpu,cpuacct', path: '/x' },
    { ctrl: 'name=systemd', path: '/y' },
  ]);
  assert.is(lastError('(00.1) Warn (a.c:1): w\n(00.2) Error (criu/mount.c:753): mnt: bad root\n(00.3) Info\n'), 'mnt: bad root');
  assert.is(lastError('nothing wrong'), undefined);
});

test.run();
