// config-linux.md: namespaces, devices, masked and readonly paths, rootfs
// propagation, sysctl, personality, user and time namespaces, cgroups,
// seccomp.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cgroupDirOf, mountAt, nsOf, parseMountinfo, type Check, type Config, type T } from '../harness.js';

const NS_FILES: Record<string, string> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt', cgroup: 'cgroup', user: 'user', time: 'time' };

/** `readlink /proc/self/ns/X` for every type, from inside a container. */
async function containerNs(t: T, edit: (c: Config) => void): Promise<Map<string, string>> {
  const script = Object.entries(NS_FILES)
    .map(([type, f]) => `echo ${type}=$(readlink /proc/self/ns/${f})`)
    .join('; ');
  const r = await t.sh(script, edit);
  const m = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

/** A persistent namespace of `type` held by a bind mount at a file under t.dir. */
function holdNs(t: T, type: 'net' | 'uts' | 'ipc'): string {
  const f = path.join(t.dir, `${type}ns`);
  writeFileSync(f, '');
  const r = spawnSync('unshare', [`--${type}=${f}`, 'true']);
  if (r.status !== 0) t.skip(`unshare --${type}=FILE failed: ${String(r.stderr).trim()}`);
  t.defer(() => {
    spawnSync('umount', [f]);
  });
  return f;
}

/**
 * A container allowlist in the style of the usual default profiles: what
 * programs commonly need, without mkdir/mkdirat (to see the default action)
 * and without the administrative calls.
 */
const ALLOWLIST = (
  'accept accept4 access alarm arch_prctl bind brk capget capset chdir chmod chown clock_getres clock_gettime ' +
  'clock_nanosleep clone clone3 close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 ' +
  'epoll_ctl epoll_pwait epoll_wait eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64 ' +
  'fallocate fchdir fchmod fchmodat fchown fchownat fcntl fdatasync flock fork fstat fstatfs fsync ftruncate futex ' +
  'getcwd getdents getdents64 getegid geteuid getgid getgroups getitimer getpeername getpgid getpgrp getpid getppid ' +
  'getpriority getrandom getresgid getresuid getrlimit get_robust_list getrusage getsid getsockname getsockopt gettid ' +
  'gettimeofday getuid getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch ioctl kill lchown lgetxattr ' +
  'link linkat listen lseek lstat madvise membarrier memfd_create mincore mlock mmap mprotect mremap msync munlock munmap ' +
  'nanosleep newfstatat open openat openat2 pause personality pipe pipe2 poll ppoll prctl pread64 preadv preadv2 prlimit64 ' +
  'pselect6 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recvfrom recvmmsg recvmsg rename renameat ' +
  'renameat2 restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn ' +
  'rt_sigsuspend rt_sigtimedwait rt_tgsigqueueinfo sched_getaffinity sched_getparam sched_get_priority_max ' +
  'sched_get_priority_min sched_getscheduler sched_setaffinity sched_yield select sendfile sendmmsg sendmsg sendto ' +
  'setfsgid setfsuid setgid setgroups setitimer setpgid setpriority setregid setresgid setresuid setreuid setrlimit ' +
  'set_robust_list setsid setsockopt set_tid_address setuid setxattr shutdown sigaltstack socket socketpair splice stat ' +
  'statfs statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete ' +
  'timerfd_create timerfd_gettime timerfd_settime timer_getoverrun timer_gettime timer_settime times tkill truncate umask ' +
  'uname unlink unlinkat utime utimensat utimes vfork wait4 waitid write writev'
).split(' ');

/** Syscalls added in Linux 5.x that older profiles (runtime-tools', Docker's before 2020) do not list. */
const NEWER = ['faccessat2', 'close_range', 'openat2', 'clone3', 'rseq', 'membarrier', 'preadv2', 'pwritev2'];

const nsInode = (f: string): string => `[${statSync(f).ino}]`;

function resourcesCheck(id: string, title: string, controller: string, resources: Record<string, unknown>, file1: string, file2: string, want: string): Check {
  return {
    id,
    section: 'config-linux.md#control-groups',
    level: 'MUST',
    title,
    async run(t) {
      const c = await t.create(
        t.bundle((cfg) => {
          cfg.linux.resources = { ...(cfg.linux.resources ?? {}), ...resources };
        }),
      );
      const d = cgroupDirOf(c.pid, controller);
      if (!d) return t.skip(`no ${controller} controller on this host`);
      const f = path.join(d.dir, d.version === 1 ? file1 : file2);
      if (!existsSync(f)) return t.fail(`the container is in ${d.dir}, which has no ${path.basename(f)} (no cgroup of its own)`);
      const v = readFileSync(f, 'utf8').trim();
      t.eq(v, want, f);
    },
  };
}

export const checks: Check[] = [
  // ------------------------------------------------------------- namespaces
  {
    id: 'namespaces.new',
    section: 'config-linux.md#namespaces',
    level: 'MUST',
    title: 'a listed namespace without path is a new namespace (pid, network, ipc, uts, mount, cgroup)',
    async run(t) {
      const ns = await containerNs(t, (c) => {
        c.linux.namespaces = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'].map((type) => ({ type }));
      });
      const same = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'].filter((type) => ns.get(type) === nsOf('self', NS_FILES[type]!));
      t.assert(same.length === 0, `shared with the runtime: ${same.join(', ')}`);
    },
  },
  {
    id: 'namespaces.inherit',
    section: 'config-linux.md#namespaces',
    level: 'MUST',
    title: 'a namespace type not listed is inherited from the runtime (network, ipc, uts, cgroup)',
    async run(t) {
      const ns = await containerNs(t, (c) => {
        c.linux.namespaces = [{ type: 'pid' }, { type: 'mount' }];
        delete c.hostname;
      });
      const differ = ['network', 'ipc', 'uts', 'cgroup'].filter((type) => ns.get(type) !== nsOf('self', NS_FILES[type]!));
      t.assert(differ.length === 0, `not the runtime's: ${differ.join(', ')}`);
    },
  },
  {
    id: 'namespaces.join',
    section: 'config-linux.md#namespaces',
    level: 'MUST',
    title: 'a namespace with path is joined (network and uts given by bind-mounted namespace files)',
    async run(t) {
      const net = holdNs(t, 'net');
      const uts = holdNs(t, 'uts');
      const ns = await containerNs(t, (c) => {
        c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) =>
          n.type === 'network' ? { type: 'network', path: net } : n.type === 'uts' ? { type: 'uts', path: uts } : n,
        );
        delete c.hostname;
      });
      t.eq(ns.get('network'), `net:${nsInode(net)}`, 'network namespace');
      t.eq(ns.get('uts'), `uts:${nsInode(uts)}`, 'uts namespace');
    },
  },
  {
    id: 'namespaces.join-wrong-type',
    section: 'config-linux.md#namespaces',
    level: 'MUST',
    title: 'a namespace path of another type is an error',
    async run(t) {
      const uts = holdNs(t, 'uts');
      await t.createFails(
        t.bundle((c) => {
          c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: uts } : n));
        }),
        'with a uts namespace file given as the network namespace',
      );
    },
  },
  {
    id: 'namespaces.duplicate',
    section: 'config-linux.md#namespaces',
    level: 'MUST',
    title: 'duplicated namespace types are an error',
    async run(t) {
      await t.createFails(
        t.bundle((c) => {
          c.linux.namespaces.push({ type: 'ipc' });
        }),
        'with two ipc namespaces',
      );
    },
  },
  {
    id: 'namespaces.user-mappings',
    section: 'config-linux.md#user-namespace-mappings',
    level: 'MUST',
    title: 'a new user namespace gets uidMappings and gidMappings',
    async run(t) {
      const r = await t.sh('cat /proc/self/uid_map /proc/self/gid_map; id -u', (c) => {
        c.linux.namespaces.push({ type: 'user' });
        c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
        // A user namespace cannot mount sysfs or cgroup of the host's network namespace: keep it simple.
        c.mounts = c.mounts.filter((m: { destination: string }) => !m.destination.startsWith('/sys'));
      });
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/).join(' '));
      t.eq(lines, ['0 100000 65536', '0 200000 65536', '0'], 'uid_map, gid_map, id -u');
    },
  },
  {
    id: 'namespaces.time-offsets',
    section: 'config-linux.md#offset-for-time-namespace',
    level: 'MUST',
    title: 'a new time namespace gets timeOffsets (monotonic and boottime)',
    async run(t) {
      const DAY = 86400;
      const r = await t.sh('cat /proc/uptime', (c) => {
        c.linux.namespaces.push({ type: 'time' });
        c.linux.timeOffsets = { monotonic: { secs: 365 * DAY, nanosecs: 0 }, boottime: { secs: 365 * DAY, nanosecs: 0 } };
      });
      const inside = Number(r.stdout.trim().split(/\s+/)[0]);
      const host = Number(readFileSync('/proc/uptime', 'utf8').split(/\s+/)[0]);
      const diff = inside - host;
      t.assert(Math.abs(diff - 365 * DAY) < 60, `uptime inside - outside = ${diff.toFixed(0)} s, want ${365 * DAY}`);
    },
  },
  // ------------------------------------------------------------- devices
  {
    id: 'devices.create',
    section: 'config-linux.md#devices',
    level: 'MUST',
    title: 'linux.devices are created with their type, numbers, mode and owner (also outside /dev)',
    async run(t) {
      const r = await t.sh('stat -c "%n %F %t:%T %a %u:%g" /dev/xnull /mydevs/xzero', (c) => {
        c.linux.devices = [
          { path: '/dev/xnull', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 1000, gid: 1001 },
          { path: '/mydevs/xzero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
        ];
        c.linux.resources = { devices: [{ allow: true, access: 'rwm' }] };
      });
      t.eq(r.stdout.trim().split('\n'), ['/dev/xnull character special file 1:3 640 1000:1001', '/mydevs/xzero character special file 1:5 666 0:0'], 'stat');
    },
  },
  {
    id: 'devices.conflict',
    section: 'config-linux.md#devices',
    level: 'MUST',
    title: 'a device path where a different file exists is an error',
    async run(t) {
      await t.createFails(
        t.bundle((c) => {
          c.linux.devices = [{ path: '/etc/hostname', type: 'c', major: 1, minor: 3 }];
        }),
        'with a device over the regular file /etc/hostname',
      );
    },
  },
  {
    id: 'devices.default',
    section: 'config-linux.md#default-devices',
    level: 'MUST',
    title: 'default devices: /dev/null, zero, full, random, urandom, tty (right numbers) and /dev/ptmx',
    async run(t) {
      const r = await t.sh(
        'stat -L -c "%n %F %t:%T" /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/ptmx; echo x > /dev/null && head -c 1 /dev/zero | od -An -tx1',
      );
      const lines = r.stdout.trim().split('\n');
      t.eq(
        lines.slice(0, 6),
        [
          '/dev/null character special file 1:3',
          '/dev/zero character special file 1:5',
          '/dev/full character special file 1:7',
          '/dev/random character special file 1:8',
          '/dev/urandom character special file 1:9',
          '/dev/tty character special file 5:0',
        ],
        'stat',
      );
      t.assert(/^\/dev\/ptmx character special file 5:2$/.test(lines[6] ?? ''), `/dev/ptmx: ${lines[6]}`);
      t.eq(lines[7]?.trim(), '00', 'a byte of /dev/zero');
    },
  },
  {
    id: 'devices.cgroup-order',
    section: 'config-linux.md#allowed-device-list',
    level: 'MUST',
    title: 'linux.resources.devices entries apply in order (deny all, then allow one device; allow, then deny all)',
    async run(t) {
      // /dev/fuse (10:229) opens without capabilities and is in no runtime's
      // default allow list (runc allows tun, 10:200); EPERM on open is
      // the device cgroup's answer.
      const script = 'if exec 3</dev/xfuse; then echo allowed; fi 2>&1';
      const dev = [{ path: '/dev/xfuse', type: 'c', major: 10, minor: 229, fileMode: 0o666 }];
      const verdict = (out: string): string => (/not permitted/i.test(out) ? 'denied' : 'allowed');
      const allowLast = await t.sh(
        script,
        (c) => {
          c.linux.devices = dev;
          c.linux.resources = {
            devices: [
              { allow: false, access: 'rwm' },
              { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
            ],
          };
        },
        { allowFail: true },
      );
      const denyLast = await t.sh(
        script,
        (c) => {
          c.linux.devices = dev;
          c.linux.resources = {
            devices: [
              { allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' },
              { allow: false, access: 'rwm' },
            ],
          };
        },
        { allowFail: true },
      );
      t.eq(
        [verdict(allowLast.stdout + allowLast.stderr), verdict(denyLast.stdout + denyLast.stderr)],
        ['allowed', 'denied'],
        'open /dev/xfuse (10:229) with [deny all, allow it] and [allow it, deny all]',
      );
    },
  },
  // ------------------------------------------------------------- paths
  {
    id: 'maskedPaths',
    section: 'config-linux.md#masked-paths',
    level: 'MUST',
    title: 'maskedPaths cannot be read (a file and a directory of the rootfs, /proc/kcore)',
    async run(t) {
      const b = t.bundle((c) => {
        c.linux.maskedPaths = ['/secret.txt', '/secretdir', '/proc/kcore'];
        c.process.args = ['sh', '-c', 'cat /secret.txt; echo "|"; ls /secretdir; echo "|"; head -c 16 /proc/kcore | wc -c'];
      });
      t.file(path.join(b, 'rootfs/secret.txt'), 'SECRET', 0o644);
      t.file(path.join(b, 'rootfs/secretdir/inner'), 'SECRET', 0o644);
      const r = await t.sh('', undefined, { bundle: b });
      const [file, dir, kcore] = r.stdout.split('|').map((s) => s.trim());
      t.eq(file, '', 'content of the masked file');
      t.eq(dir, '', 'listing of the masked directory');
      t.eq(kcore, '0', 'bytes read from /proc/kcore');
    },
  },
  {
    id: 'readonlyPaths',
    section: 'config-linux.md#readonly-paths',
    level: 'MUST',
    title: 'readonlyPaths are read-only (a rootfs directory, /proc/sys); the rest stays writable',
    async run(t) {
      const r = await t.sh(
        'touch /etc/x 2>/dev/null && echo w || echo ro; touch /tmp/x && echo w || echo ro; echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo w || echo ro',
        (c) => {
          c.linux.readonlyPaths = ['/etc', '/proc/sys'];
        },
      );
      t.eq(r.stdout.trim().split('\n'), ['ro', 'w', 'ro'], '/etc, /tmp, /proc/sys');
    },
  },
  ...(['private', 'slave', 'shared', 'unbindable'] as const).map(
    (prop): Check => ({
      id: `rootfsPropagation.${prop}`,
      section: 'config-linux.md#rootfs-mount-propagation',
      level: 'MUST',
      title: `rootfsPropagation ${prop}`,
      async run(t) {
        if (prop === 'slave') {
          // A slave of a private mount is private: give the bundle a shared
          // mount on the host first, so "slave" can show (master:N).
          const m = spawnSync('sh', ['-c', `mount --bind "${t.dir}" "${t.dir}" && mount --make-shared "${t.dir}"`]);
          if (m.status !== 0) t.skip(`cannot make ${t.dir} a shared mount: ${String(m.stderr)}`);
          t.defer(() => {
            spawnSync('umount', ['-l', t.dir]);
          });
        }
        const r = await t.sh('cat /proc/self/mountinfo', (c) => {
          c.linux.rootfsPropagation = prop;
        });
        const root = mountAt(parseMountinfo(r.stdout), '/');
        if (!root) return t.fail('no / in mountinfo');
        const opt = root.optional;
        const shared = opt.some((x) => x.startsWith('shared:'));
        const master = opt.some((x) => x.startsWith('master:'));
        const unb = opt.includes('unbindable');
        const good = prop === 'private' ? !shared && !master && !unb : prop === 'shared' ? shared : prop === 'slave' ? master : unb;
        t.assert(good, `/ propagation: ${opt.join(' ') || 'private'}`);
      },
    }),
  ),
  {
    id: 'sysctl',
    section: 'config-linux.md#sysctl',
    level: 'MUST',
    title: 'linux.sysctl values are set in the container (net, kernel ipc)',
    async run(t) {
      const r = await t.sh('cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced /proc/sys/net/core/somaxconn', (c) => {
        c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shm_rmid_forced': '1', 'net.core.somaxconn': '321' };
      });
      t.eq(r.stdout.trim().split('\n'), ['1', '1', '321'], 'ip_forward, shm_rmid_forced, somaxconn');
    },
  },
  {
    id: 'personality',
    section: 'config-linux.md#personality',
    level: 'MUST',
    title: 'personality LINUX32 makes uname -m report a 32-bit machine',
    async run(t) {
      const r = await t.sh('uname -m', (c) => {
        c.linux.personality = { domain: 'LINUX32' };
      });
      t.assert(/^i[3-6]86$/.test(r.stdout.trim()), `uname -m: ${r.stdout.trim()}`);
    },
  },
  // ------------------------------------------------------------- cgroups
  {
    id: 'cgroupsPath.absolute',
    section: 'config-linux.md#cgroups-path',
    level: 'MUST',
    title: 'an absolute cgroupsPath is relative to the cgroup mount point',
    async run(t) {
      const cg = `/hako-conformance-${process.pid}-abs`;
      const c = await t.create(
        t.bundle((cfg) => {
          cfg.linux.cgroupsPath = cg;
        }),
      );
      const d = cgroupDirOf(c.pid, 'pids') ?? cgroupDirOf(c.pid, 'memory');
      if (!d) return t.skip('no pids or memory controller');
      t.assert(d.dir.endsWith(cg) && !d.dir.endsWith(`/process_api${cg}`), `the container's cgroup is ${d.dir}`);
    },
  },
  resourcesCheck(
    'resources.memory',
    'memory.limit is applied',
    'memory',
    { memory: { limit: 64 * 1024 * 1024 } },
    'memory.limit_in_bytes',
    'memory.max',
    String(64 * 1024 * 1024),
  ),
  resourcesCheck('resources.pids', 'pids.limit is applied', 'pids', { pids: { limit: 42 } }, 'pids.max', 'pids.max', '42'),
  resourcesCheck(
    'resources.cpu-shares',
    'cpu.shares is applied (v1 cpu.shares; v2 weight)',
    'cpu',
    { cpu: { shares: 512 } },
    'cpu.shares',
    'cpu.weight',
    '512',
  ),
  {
    id: 'resources.pids-zero',
    section: 'config-linux.md#pids',
    level: 'SHOULD',
    title: 'pids.limit 0 is a valid limit (not "unlimited")',
    async run(t) {
      const c = await t
        .create(
          t.bundle((cfg) => {
            cfg.linux.resources = { ...(cfg.linux.resources ?? {}), pids: { limit: 0 } };
          }),
        )
        .catch((e: unknown) => {
          t.note('create refused pids.limit 0');
          throw e;
        });
      const d = cgroupDirOf(c.pid, 'pids');
      if (!d) return t.skip('no pids controller');
      const f = path.join(d.dir, 'pids.max');
      if (!existsSync(f)) return t.fail(`the container is in ${d.dir}, which has no pids.max (no cgroup of its own)`);
      const v = readFileSync(f, 'utf8').trim();
      t.assert(v !== 'max', 'pids.max is "max" for pids.limit 0');
    },
  },
  // ------------------------------------------------------------- seccomp
  {
    id: 'seccomp.errno',
    section: 'config-linux.md#seccomp',
    level: 'MUST',
    title: 'a seccomp rule SCMP_ACT_ERRNO with errnoRet makes the syscall fail with that errno',
    async run(t) {
      const r = await t.sh('mkdir /tmp/d 2>&1; echo rc=$?; touch /tmp/f && echo touch-ok', (c) => {
        c.linux.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
          syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
        };
      });
      t.assert(/Permission denied/.test(r.stdout) && /rc=1/.test(r.stdout), `mkdir: ${r.stdout.trim()}`);
      t.assert(r.stdout.includes('touch-ok'), 'other syscalls are blocked too');
    },
  },
  ...(
    [
      [true, false],
      [false, false],
      [false, true],
    ] as const
  ).map(
    ([nnp, older]): Check => ({
      id: `seccomp.allowlist${nnp ? '' : '-nnp-false'}${older ? '-older-profile' : ''}`,
      section: 'config-linux.md#seccomp',
      level: 'MUST',
      title:
        'an allowlist profile (defaultAction SCMP_ACT_ERRNO, the usual container syscalls allowed) runs the process and denies the rest' +
        (nnp ? '' : ', with noNewPrivileges false (the filter is loaded while the runtime still holds CAP_SYS_ADMIN)') +
        (older ? '; a profile from before Linux 5.8 (no faccessat2, close_range, openat2, clone3): the runtime must not need them after loading it' : ''),
      async run(t) {
        const names = older ? ALLOWLIST.filter((n) => !NEWER.includes(n)) : ALLOWLIST;
        const r = await t.sh('echo ran; mkdir /tmp/d 2>&1; true', (c) => {
          c.process.noNewPrivileges = nnp;
          c.linux.seccomp = {
            defaultAction: 'SCMP_ACT_ERRNO',
            defaultErrnoRet: 1,
            architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
            syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }],
          };
        });
        const lines = r.stdout.trim().split('\n');
        t.eq(lines[0], 'ran', 'first line of output');
        t.assert(/not permitted/i.test(lines[1] ?? ''), `mkdir (not in the list) was not denied: ${lines[1]}`);
      },
    }),
  ),
  {
    id: 'seccomp.errno-unsupported',
    section: 'config-linux.md#seccomp',
    level: 'MUST',
    title: 'errnoRet with an action that takes no errno (SCMP_ACT_KILL) is an error',
    async run(t) {
      await t.createFails(
        t.bundle((c) => {
          c.linux.seccomp = {
            defaultAction: 'SCMP_ACT_ALLOW',
            syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 1 }],
          };
        }),
        'with errnoRet on SCMP_ACT_KILL',
      );
    },
  },
];
