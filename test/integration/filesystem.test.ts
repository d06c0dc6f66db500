// The container's filesystem: rootfs, mounts and their flags, devices,
// masked and readonly paths, propagation, --no-pivot, and that nothing
// leaks onto the host's mount table.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, chownSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Env, isRoot, uniqueId } from '../helpers.js';
import { compile, hakoWithoutNewMountApi } from '../security/mount-lib.js';

const t = suite('filesystem');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const mountinfo = (text: string, target: string) => text.split('\n').find((l) => l.split(' ')[4] === target) ?? '';

t('pivot_root: / is the rootfs, read-only as asked; the host is out of reach', () => {
  const r = env.sh('cat /proc/self/mountinfo; touch /x 2>&1; ls /', (c) => (c.root.readonly = true));
  assert.is(r.status, 0, r.stderr);
  const root = mountinfo(r.stdout, '/');
  assert.match(root.split(' ')[5]!, /^ro\b/);
  assert.match(r.stdout, /Read-only file system/);
  assert.not.match(r.stdout, /\/work/);
});

t('mounts in order with their flags and data', () => {
  const r = env.sh('cat /proc/self/mountinfo', (c) => {
    c.mounts.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=1770', 'size=1m'] });
    c.mounts.push({ destination: '/scratch/deeper/dir', type: 'tmpfs', source: 'tmpfs', options: ['ro'] });
  });
  assert.is(r.status, 0, r.stderr);
  const s = mountinfo(r.stdout, '/scratch');
  assert.match(s, /rw,nosuid,nodev,noexec/);
  assert.match(s, /size=1024k,mode=1770/);
  assert.match(mountinfo(r.stdout, '/scratch/deeper/dir'), / ro[, ]/);
  assert.match(mountinfo(r.stdout, '/proc'), / - proc /);
  assert.match(mountinfo(r.stdout, '/dev/pts'), / - devpts /);
  assert.match(mountinfo(r.stdout, '/sys'), / ro,nosuid,nodev,noexec.* - sysfs /);
});

t('bind mounts: file and directory, read-only by remount, relative source', () => {
  const host = path.join(env.dir, uniqueId('share'));
  mkdirSync(host);
  writeFileSync(path.join(host, 'hello'), 'from-host\n');
  writeFileSync(path.join(env.dir, 'single-file'), 'one-file\n');
  const r = env.sh('cat /share/hello /etc/single; cat /proc/self/mountinfo; echo x > /share/new 2>&1 || echo write-refused', (c) => {
    c.mounts.push({ destination: '/share', source: host, options: ['rbind', 'ro', 'nosuid'] });
    c.mounts.push({ destination: '/etc/single', type: 'bind', source: path.join(env.dir, 'single-file'), options: ['bind'] });
  });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /from-host\none-file/);
  assert.match(mountinfo(r.stdout, '/share'), / ro,nosuid/);
  assert.match(r.stdout, /write-refused/);
});

t('mount targets never follow symlinks out of the rootfs', () => {
  const b = env.bundle((c) => {
    c.process.args = ['sh', '-c', 'cat /proc/self/mountinfo'];
    c.mounts.push({ destination: '/evil/inside', type: 'tmpfs', source: 'tmpfs' });
  });
  const outside = path.join(env.dir, uniqueId('outside'));
  mkdirSync(outside);
  symlinkSync(outside, path.join(b, 'rootfs/evil'));
  const r = env.hako(['run', '--bundle', b, uniqueId('evil')]);
  // Resolved inside the root: /evil -> <outside> becomes <rootfs>/<outside>.
  assert.is(r.status, 0, r.stderr);
  assert.match(mountinfo(r.stdout, path.join(outside, 'inside')), / - tmpfs /);
  const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8');
  assert.not.match(hostMounts, new RegExp(outside));
});

t('devices: defaults, linux.devices, /dev symlinks', () => {
  const r = env.sh('ls -l /dev /dev/fuse; for l in /dev/fd /dev/stdin /dev/ptmx; do readlink $l; done', (c) => {
    c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 }];
  });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .* null/);
  assert.match(r.stdout, /crw-rw-rw-\s+1 root\s+root\s+1,\s+9 .* urandom/);
  assert.match(r.stdout, /crw-------\s+1 root\s+root\s+10,\s+229 .* \/dev\/fuse/);
  assert.match(r.stdout, /\/proc\/self\/fd\n\/proc\/self\/fd\/0\npts\/ptmx/);
  const z = env.sh('head -c 4 /dev/zero | od -An -tx1');
  assert.match(z.stdout, /00 00 00 00/);
});

t('masked and readonly paths', () => {
  const r = env.sh(
    'cat /proc/kcore | wc -c; ls /proc/acpi | wc -l; echo 1 > /proc/sys/kernel/domainname 2>&1 || echo ro-refused; grep " /proc/sys " /proc/self/mountinfo',
    (c) => {
      c.linux.maskedPaths = ['/proc/kcore', '/proc/acpi', '/does/not/exist'];
      c.linux.readonlyPaths = ['/proc/sys', '/nope'];
    },
  );
  assert.is(r.status, 0, r.stderr);
  const [kcore, acpi] = r.stdout.split('\n');
  assert.is(kcore!.trim(), '0');
  assert.is(acpi!.trim(), '0');
  assert.match(r.stdout, /ro-refused/);
  assert.match(r.stdout, / \/proc\/sys ro,/);
});

t('tmpcopyup: the new tmpfs starts with a copy of what it covers (files, dirs, symlinks, owners, modes)', () => {
  const b = env.bundle((c) => {
    c.process.args = [
      'sh',
      '-c',
      'grep " /seed " /proc/self/mountinfo; cat /seed/file /seed/sub/deep; readlink /seed/link; stat -c "%a %u:%g %n" /seed /seed/sub /seed/file /seed/sub/deep; echo new > /seed/sub/deep && cat /seed/sub/deep',
    ];
    c.mounts.push({ destination: '/seed', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'tmpcopyup'] });
  });
  const seed = path.join(b, 'rootfs/seed');
  mkdirSync(path.join(seed, 'sub'), { recursive: true, mode: 0o750 });
  chmodSync(seed, 0o1777);
  chmodSync(path.join(seed, 'sub'), 0o750);
  writeFileSync(path.join(seed, 'file'), 'top\n');
  chmodSync(path.join(seed, 'file'), 0o604);
  chownSync(path.join(seed, 'file'), 1000, 1001);
  writeFileSync(path.join(seed, 'sub/deep'), 'deep\n');
  symlinkSync('/etc/outside-target', path.join(seed, 'link'));
  const r = env.hako(['run', '--bundle', b, uniqueId('copyup')]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, / \/seed rw,nosuid,nodev.* - tmpfs /);
  assert.match(r.stdout, /^top\ndeep\n\/etc\/outside-target\n/m);
  assert.match(r.stdout, /^1777 0:0 \/seed$/m);
  assert.match(r.stdout, /^750 0:0 \/seed\/sub$/m);
  assert.match(r.stdout, /^604 1000:1001 \/seed\/file$/m);
  assert.match(r.stdout, /^new$/m);
  // The write went to the tmpfs, not to the image.
  assert.is(readFileSync(path.join(seed, 'sub/deep'), 'utf8'), 'deep\n');
});

t('--no-pivot runs the container too', () => {
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', 'ls /bin/busybox && cat /proc/self/mountinfo | wc -l']));
  const r = env.hako(['run', '--no-pivot', '--bundle', b, uniqueId('nopivot')]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\/bin\/busybox\n\d+\n$/);
});

t('rootfsPropagation is applied to the new root; the host mount table is untouched', () => {
  // Scoped to this run's directory: other work on the host may mount and
  // unmount meanwhile (whole-table counts were off by one on a busy host).
  const ours = () =>
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.includes(env.dir));
  const before = ours();
  const r = env.sh('awk \'$5 == "/"\' /proc/self/mountinfo', (c) => (c.linux.rootfsPropagation = 'private'));
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /\S/, 'the root mount is listed');
  assert.not.match(r.stdout, /shared:|master:/);
  const shared = env.sh('awk \'$5 == "/"\' /proc/self/mountinfo', (c) => (c.linux.rootfsPropagation = 'shared'));
  assert.is(shared.status, 0, shared.stderr);
  assert.match(shared.stdout, /shared:/);
  assert.equal(ours(), before);
});

t('cgroup mount shows the container its cgroups, read-only', () => {
  const r = env.sh('ls /sys/fs/cgroup; grep /sys/fs/cgroup /proc/self/mountinfo | head -3; touch /sys/fs/cgroup/x 2>&1 || echo ro-refused');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /ro-refused/);
  assert.match(r.stdout, /\/sys\/fs\/cgroup/);
});

t('without the new mount API (an outer seccomp profile refusing it), the classic fallback makes the same mounts with the same flags', () => {
  const wrapper = compile(env, 'test/fixtures/old-mount-api.c');
  const host = path.join(env.dir, uniqueId('share'));
  mkdirSync(host);
  writeFileSync(path.join(host, 'hello'), 'from-host\n');
  const edit = (c: any) => {
    c.process.args = ['sh', '-c', 'cat /proc/self/mountinfo; cat /share/hello; touch /share/x /ro-tmp/x /x 2>&1; echo made > /scratch/f && cat /scratch/f'];
    c.mounts.push(
      { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noatime', 'mode=1770', 'size=1m'] },
      { destination: '/share', source: host, options: ['rbind', 'ro', 'nosuid'] },
      { destination: '/ro-tmp', type: 'tmpfs', source: 'tmpfs', options: ['ro'] },
    );
  };
  // Masked and readonly paths need the new API itself: refused, saying which call.
  const masked = hakoWithoutNewMountApi(env, wrapper, ['run', '--bundle', env.bundle(edit), uniqueId('oldapi')]);
  assert.is(masked.status, 1);
  assert.match(masked.stderr, /masked paths: clone the host's \/dev\/null: operation not permitted/);
  const b = env.bundle((c) => {
    edit(c);
    c.linux.maskedPaths = [];
    c.linux.readonlyPaths = [];
  });
  const r = hakoWithoutNewMountApi(env, wrapper, ['run', '--bundle', b, uniqueId('oldapi')]);
  assert.is(r.status, 0, r.stderr);
  assert.match(mountinfo(r.stdout, '/'), / ro[, ]/);
  assert.match(mountinfo(r.stdout, '/scratch'), / rw,nosuid,nodev,noatime\b.* - tmpfs tmpfs rw,size=1024k,mode=1770/);
  assert.match(mountinfo(r.stdout, '/share'), / ro,nosuid[, ]/);
  assert.match(mountinfo(r.stdout, '/ro-tmp'), / ro[, ].* - tmpfs /);
  assert.match(mountinfo(r.stdout, '/sys'), / ro,nosuid,nodev,noexec.* - sysfs /);
  assert.match(mountinfo(r.stdout, '/sys/fs/cgroup'), / ro,nosuid,nodev,noexec/);
  assert.match(mountinfo(r.stdout, '/dev/pts'), / - devpts devpts rw,gid=5,mode=620,ptmxmode=666/);
  assert.match(r.stdout, /^from-host$/m);
  assert.is(r.stdout.match(/Read-only file system/g)?.length, 3, r.stdout);
  assert.match(r.stdout, /^made$/m);

  // A profile written for Linux 5.11 refuses only mount_setattr: everything
  // runs, masked and readonly paths too, flags set through the mounts' fds.
  const r511 = hakoWithoutNewMountApi(
    env,
    wrapper,
    [
      'run',
      '--bundle',
      env.bundle((c) => {
        edit(c);
        c.process.args[2] += '; (echo 1 > /proc/sys/kernel/domainname) 2>/dev/null || echo ro-refused; cat /proc/kcore | wc -c';
      }),
      uniqueId('oldapi'),
    ],
    true,
  );
  assert.is(r511.status, 0, r511.stderr);
  assert.match(mountinfo(r511.stdout, '/'), / ro[, ]/);
  assert.match(mountinfo(r511.stdout, '/share'), / ro,nosuid[, ]/);
  assert.match(mountinfo(r511.stdout, '/ro-tmp'), / ro[, ].* - tmpfs /);
  assert.match(mountinfo(r511.stdout, '/proc/sys'), / ro[, ].* - proc /);
  assert.match(mountinfo(r511.stdout, '/sys/fs/cgroup'), / ro,nosuid,nodev,noexec/);
  assert.is(r511.stdout.match(/Read-only file system/g)?.length, 3, r511.stdout);
  assert.match(r511.stdout, /^ro-refused\n0$/m, '/proc/sys read-only, /proc/kcore masked');
});

// A new user namespace's root is nobody on the host: a bind source behind a
// root-only directory is out of its reach. runc opens such sources on the
// host side; hako's launcher stages them before it unshares the user
// namespace (addon/launcher/bindsrc.c). What the mount shows is still
// subject to the permissions inside (files appear as the overflow uid).
t('user namespace: bind sources behind a root-only 0700 directory are mounted; host flags stay locked', () => {
  if (!isRoot) return;
  const hidden = path.join(env.dir, uniqueId('hidden'));
  const canary = `canary-${uniqueId()}`;
  mkdirSync(path.join(hidden, 'vol'), { recursive: true });
  writeFileSync(path.join(hidden, 'vol', 'canary'), canary + '\n');
  writeFileSync(path.join(hidden, 'file'), 'single\n');
  // A host bind made read-only on the host: the container inherits ro, and
  // its root (CAP_SYS_ADMIN in its user namespace) must not clear it.
  const rovol = path.join(hidden, 'rovol');
  mkdirSync(rovol);
  writeFileSync(path.join(rovol, 'c'), 'ro\n');
  chmodSync(hidden, 0o700);
  assert.is(spawnSync('mount', ['--bind', rovol, rovol]).status, 0);
  try {
    assert.is(spawnSync('mount', ['-o', 'remount,bind,ro', rovol]).status, 0);
    const b = env.bundle((c) => {
      c.process.args = [
        'sh',
        '-c',
        'cat /v/canary /f; stat -c "%u %a" /v /v/canary; touch /v/x 2>&1; ls /h 2>&1; mount -o remount,bind,rw /ro 2>&1 && echo REMOUNTED; cat /proc/self/mountinfo',
      ];
      c.process.capabilities.bounding.push('CAP_SYS_ADMIN');
      c.process.capabilities.effective.push('CAP_SYS_ADMIN');
      c.process.capabilities.permitted.push('CAP_SYS_ADMIN');
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts.push({ destination: '/v', type: 'bind', source: path.join(hidden, 'vol'), options: ['bind', 'ro'] });
      c.mounts.push({ destination: '/f', type: 'bind', source: path.join(hidden, 'file'), options: ['bind'] });
      c.mounts.push({ destination: '/h', type: 'bind', source: hidden, options: ['rbind'] });
      c.mounts.push({ destination: '/ro', type: 'bind', source: rovol, options: ['bind'] });
    });
    // Mount points the container's root (nobody on the host) cannot make.
    for (const d of ['v', 'h', 'ro']) mkdirSync(path.join(b, 'rootfs', d));
    writeFileSync(path.join(b, 'rootfs', 'f'), '');
    const id = uniqueId('unreach');
    const r = env.hako(['--debug', 'run', '--bundle', b, id]);
    assert.is(r.status, 0, r.stderr);
    const overflow = readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim();
    const [first, second, own1, own2] = r.stdout.split('\n');
    assert.is(first, canary);
    assert.is(second, 'single');
    assert.is(own1, `${overflow} 755`);
    assert.is(own2, `${overflow} 644`);
    assert.match(r.stdout, /touch: \/v\/x: Read-only file system/);
    // The 0700 directory itself is mounted; inside it is nobody's 0700.
    assert.match(r.stdout, /ls: can't open '\/h': Permission denied/);
    assert.match(mountinfo(r.stdout, '/h'), new RegExp(` ${hidden} /h `));
    assert.match(mountinfo(r.stdout, '/ro'), / ro[, ]/);
    assert.not.match(r.stdout, /REMOUNTED/);
    assert.match(r.stderr, /out of the user namespace's reach/);
    // The staging tmpfs never reaches the host, nor the container.
    assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(`${env.root}/${id}`));
    assert.not.match(r.stdout, / - tmpfs [^ ]* rw,.*mode=711/);

    // Without the new mount API nothing is staged: the init's own lookup
    // fails as it always did (masked paths need the new API too: none).
    const old = env.bundle((c) => {
      Object.assign(c, JSON.parse(readFileSync(path.join(b, 'config.json'), 'utf8')));
      c.linux.maskedPaths = [];
      c.linux.readonlyPaths = [];
    });
    for (const d of ['v', 'h', 'ro']) mkdirSync(path.join(old, 'rootfs', d));
    writeFileSync(path.join(old, 'rootfs', 'f'), '');
    const o = hakoWithoutNewMountApi(env, compile(env, 'test/fixtures/old-mount-api.c'), ['run', '--bundle', old, uniqueId('unreach-old')]);
    assert.is(o.status, 1, o.stdout);
    assert.match(o.stderr, /mount .*\/vol onto \/v: open the source: permission denied/);
  } finally {
    spawnSync('umount', [rovol]);
  }
});

t.run();
