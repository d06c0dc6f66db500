#!/usr/bin/env node
// Development driver for the launcher (addon/launcher): builds a plan for a
// busybox rootfs, runs hako-launcher with it the way `hako create` + `hako
// start` will, and prints every message it gets back. No TypeScript needed.
//
//   node scripts/launch-plan.mjs [options] [-- command args...]
//   node scripts/launch-plan.mjs --exec PID [--console SOCK] [-- command...]
//
// --exec PID runs the command in exec mode inside the namespaces of PID (a
// container init started by this driver, or any process); --console SOCK
// gives the process a pty whose master goes to the unix socket SOCK (for
// instance `socat UNIX-LISTEN:SOCK -` will not do, it cannot take fds: use a
// receiver such as test/integration/terminal.test.ts's).
//
// Needs root. The container init is a child of this driver's helper (the
// launcher clones with CLONE_PARENT and Node cannot reap foreign children),
// so a tiny python3 helper spawns the launcher and reports exit statuses.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync, openSync, createReadStream, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// ---- protocol: tag numbers and types straight from addon/plan.tags ----
const TAGS = {};
const NAMES = {};
for (const line of readFileSync(join(root, 'addon/plan.tags'), 'utf8').split('\n')) {
  const m = /^([A-Z][A-Z0-9_]*)\s+(\d+)\s+(\S+)/.exec(line.trim());
  if (m) {
    TAGS[m[1]] = { num: Number(m[2]), type: m[3] };
    NAMES[m[2]] = m[1];
  }
}

// Same wire format as src/launch/tlv.ts: u32 tag | u32 length | value, LE.
const rec = (name, value) => {
  const t = TAGS[name];
  if (!t) throw new Error(`unknown tag ${name}`);
  return { tag: t.num, type: t.type, value };
};
const rawRec = (num, type, value) => ({ tag: num, type, value });
function encode(r) {
  let body;
  switch (r.type) {
    case 'str': body = Buffer.from(r.value, 'utf8'); break;
    case 'bytes': body = Buffer.from(r.value); break;
    case 'u32': case 'bool': body = Buffer.alloc(4); body.writeUInt32LE(r.type === 'bool' ? (r.value ? 1 : 0) : r.value >>> 0); break;
    case 'i32': body = Buffer.alloc(4); body.writeInt32LE(r.value); break;
    case 'u64': body = Buffer.alloc(8); body.writeBigUInt64LE(BigInt(r.value)); break;
    case 'i64': body = Buffer.alloc(8); body.writeBigInt64LE(BigInt(r.value)); break;
    case 'nest': body = Buffer.concat(r.value.map(encode)); break;
    default: throw new Error(`bad type ${r.type}`);
  }
  const h = Buffer.alloc(8);
  h.writeUInt32LE(r.tag, 0);
  h.writeUInt32LE(body.length, 4);
  return Buffer.concat([h, body]);
}
function decode(buf) {
  const out = [];
  for (let off = 0; off < buf.length; ) {
    const tag = buf.readUInt32LE(off), len = buf.readUInt32LE(off + 4);
    const v = buf.subarray(off + 8, off + 8 + len);
    off += 8 + len;
    const name = NAMES[tag] ?? String(tag);
    const type = TAGS[name]?.type;
    const value = type === 'str' ? v.toString('utf8') : type === 'u32' ? v.readUInt32LE(0) : type === 'i32' ? v.readInt32LE(0) : type === 'nest' ? decode(v) : v;
    out.push({ name, value });
  }
  return out;
}

// ---- options ----
const argv = process.argv.slice(2);
const dd = argv.indexOf('--');
const cmd = dd >= 0 ? argv.slice(dd + 1) : ['sh', '-c', 'echo hello from $(hostname), I am $(id)'];
const flags = dd >= 0 ? argv.slice(0, dd) : argv;
const opt = { join: [], rbindRo: [], env: [], bind: [], sysctl: [], rlimit: [], hookCreate: [], hookStart: [], masked: null, readonly: null };
for (let i = 0; i < flags.length; i++) {
  const f = flags[i];
  const val = () => flags[++i];
  switch (f) {
    case '--launcher': opt.launcher = val(); break;
    case '--rootfs': opt.rootfs = val(); break;
    case '--userns': opt.userns = true; break;
    case '--no-pivot': opt.noPivot = true; break;
    case '--chroot': opt.chroot = true; break;
    case '--timens': opt.timens = true; break;
    case '--ro': opt.ro = true; break;
    case '--user': opt.user = val(); break;
    case '--cwd': opt.cwd = val(); break;
    case '--hostname': opt.hostname = val(); break;
    case '--env': opt.env.push(val()); break;
    case '--bind': opt.bind.push(val()); break;
    case '--bad-mount': opt.badMount = true; break;
    case '--preserve-fds': opt.preserve = Number(val()); break;
    case '--hook-create': opt.hookCreate.push(val()); break;
    case '--hook-start': opt.hookStart.push(val()); break;
    case '--hook-timeout': opt.hookTimeout = Number(val()); break;
    case '--no-nnp': opt.noNnp = true; break;
    case '--seccomp-deny-mkdir': opt.seccomp = true; break;
    case '--caps': opt.caps = val(); break;
    case '--no-start': opt.noStart = true; break;
    case '--start-delay': opt.startDelay = Number(val()); break; // seconds between READY and start
    case '--log-level': opt.logLevel = Number(val()); break;
    case '--sysctl': opt.sysctl.push(val()); break;
    case '--rlimit': opt.rlimit.push(val()); break;
    case '--oom': opt.oom = Number(val()); break;
    case '--umask': opt.umask = parseInt(val(), 8); break;
    case '--no-keyring': opt.noKeyring = true; break;
    case '--bad-tag': opt.badTag = true; break;
    case '--bad-length': opt.badLength = true; break;
    case '--exec': opt.exec = Number(val()); break; // exec mode into this pid's namespaces
    case '--console': opt.console = val(); break; // console socket path: CONSOLE_FD
    case '--console-size': opt.consoleSize = val().split('x').map(Number); break; // WxH
    case '--no-go': opt.noGo = true; break;
    case '--proc-symlink': opt.procSymlink = true; break;
    case '--masked': opt.masked = val().split(',').filter(Boolean); break;
    case '--readonly': opt.readonly = val().split(',').filter(Boolean); break;
    case '--quiet': opt.quiet = true; break;
    case '--cgroup-v1': opt.cgroupV1 = val(); break; // "ns" (mount the hierarchies) or "bind" (bind the host's)
    case '--rootfs-prop': opt.rootfsProp = val(); break; // rshared, rprivate...
    case '--join': opt.join.push(val()); break; // type:path, e.g. net:/proc/123/ns/net
    case '--rbind-ro': opt.rbindRo.push(val()); break; // src:dst, read-only recursively (mount_setattr)
    case '--ambient': opt.ambient = BigInt(val()); break; // capability number to make ambient
    default: throw new Error(`unknown option ${f}`);
  }
}
const log = (...a) => { if (!opt.quiet) console.error('[driver]', ...a); };

// ---- the rootfs ----
function ensureRootfs(dir, owner) {
  if (existsSync(join(dir, 'bin/busybox'))) return;
  for (const d of ['bin', 'proc', 'sys', 'dev', 'tmp', 'etc', 'root', 'home'])
    mkdirSync(join(dir, d), { recursive: true });
  execFileSync('cp', ['/bin/busybox', join(dir, 'bin/busybox')]);
  // Not `busybox --install -s`: it links to the host path of the binary.
  for (const applet of execFileSync('/bin/busybox', ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    mkdirSync(join(dir, dirname(applet)), { recursive: true });
    if (!existsSync(join(dir, applet))) symlinkSync('/bin/busybox', join(dir, applet));
  }
  execFileSync('chmod', ['1777', join(dir, 'tmp')]);
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(join(dir, 'etc/hostname'), 'rootfs\n');
  if (owner) execFileSync('chown', ['-R', owner, dir]);
}
const rootfs = opt.rootfs ?? (opt.userns ? '/tmp/lr/rootfs-userns' : '/tmp/lr/rootfs');
ensureRootfs(rootfs, opt.userns ? '100000:100000' : null);
if (opt.procSymlink) {
  // An attacker's rootfs: /proc is a symlink to somewhere else.
  rmSync(join(rootfs, 'proc'), { recursive: true, force: true });
  execFileSync('ln', ['-s', '/tmp', join(rootfs, 'proc')]);
} else if (!existsSync(join(rootfs, 'proc'))) {
  rmSync(join(rootfs, 'proc'), { force: true });
  mkdirSync(join(rootfs, 'proc'));
}

// ---- the plan ----
const C = { NEWNS: 0x20000, NEWUTS: 0x4000000, NEWIPC: 0x8000000, NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000, NEWCGROUP: 0x02000000, NEWTIME: 0x80 };
const MS = { RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, REMOUNT: 32, BIND: 4096, REC: 16384, PRIVATE: 1 << 18, SLAVE: 1 << 19, STRICTATIME: 1 << 24, RELATIME: 1 << 21 };
const S_IFCHR = 0o020000;
let nsNew = C.NEWPID | C.NEWIPC | C.NEWUTS | C.NEWNET | C.NEWCGROUP;
if (!opt.chroot) nsNew |= C.NEWNS;
if (opt.userns) nsNew |= C.NEWUSER;
if (opt.timens) nsNew |= C.NEWTIME;

const mount = (target, fstype, source, flags, data, extra = []) => {
  const r = [rec('M_TARGET', target), rec('M_FLAGS', flags)];
  if (fstype) r.push(rec('M_FSTYPE', fstype));
  if (source) r.push(rec('M_SOURCE', source));
  // One fsconfig parameter each (src/launch/mount-options.ts fsOptions; no quoted values here).
  for (const o of (data ?? '').split(',')) if (o) r.push(rec('M_FSOPT', o));
  return rec('MOUNT', [...r, ...extra]);
};
const mounts = [
  mount('/proc', 'proc', 'proc', 0),
  mount('/dev', 'tmpfs', 'tmpfs', MS.NOSUID | MS.STRICTATIME, 'mode=755,size=65536k'),
  mount('/dev/pts', 'devpts', 'devpts', MS.NOSUID | MS.NOEXEC, 'newinstance,ptmxmode=0666,mode=0620' + (opt.userns ? '' : ',gid=5')),
  mount('/dev/shm', 'tmpfs', 'shm', MS.NOSUID | MS.NOEXEC | MS.NODEV, 'mode=1777,size=65536k'),
  mount('/dev/mqueue', 'mqueue', 'mqueue', MS.NOSUID | MS.NOEXEC | MS.NODEV),
  mount('/sys', 'sysfs', 'sysfs', MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY),
];
if (existsSync('/sys/fs/cgroup/cgroup.controllers'))
  mounts.push(mount('/sys/fs/cgroup', 'cgroup2', 'cgroup', MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RELATIME | MS.RDONLY));
for (const b of opt.bind) {
  const [src, dst, mode] = b.split(':');
  const flags = MS.BIND | MS.REC;
  const extra = [rec('M_PROPAGATION', MS.PRIVATE | MS.REC)];
  if (mode === 'ro') extra.push(rec('M_REMOUNT_FLAGS', MS.RDONLY));
  mounts.push(mount(dst, null, src, flags, null, extra));
}
for (const b of opt.rbindRo) {
  const [src, dst] = b.split(':');
  mounts.push(mount(dst, null, src, MS.BIND | MS.REC, null, [rec('M_ATTR_SET', 1), rec('M_ATTR_PROPAGATION', MS.PRIVATE)]));
}
if (opt.cgroupV1) {
  // What src/launch/cgroup-mount.ts plans on a v1/hybrid host, read-only.
  const ro = MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY;
  // Read-only: the launcher applies that last, after the binds in it.
  mounts.push(mount('/sys/fs/cgroup', 'tmpfs', 'tmpfs', ro, 'mode=755'));
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0 || !f[4].startsWith('/sys/fs/cgroup/')) continue;
    const name = f[4].slice('/sys/fs/cgroup/'.length);
    const fstype = f[sep + 1];
    const opts = f[sep + 3].split(',').filter((o) => o !== 'rw');
    if (opt.cgroupV1 === 'ns') mounts.push(mount('/sys/fs/cgroup/' + name, fstype, 'cgroup', ro, fstype === 'cgroup' ? opts.join(',') : null));
    else mounts.push(mount('/sys/fs/cgroup/' + name, null, f[4], MS.BIND | MS.REC, null, [rec('M_REMOUNT_FLAGS', ro)]));
  }
}
if (opt.badMount) mounts.push(mount('/mnt/bad', 'nosuchfs', 'nosuchfs', 0));

const devices = opt.chroot ? [] : [
  ['/dev/null', 1, 3], ['/dev/zero', 1, 5], ['/dev/full', 1, 7], ['/dev/random', 1, 8], ['/dev/urandom', 1, 9], ['/dev/tty', 5, 0],
].map(([p, maj, min]) => rec('DEVICE', [rec('D_PATH', p), rec('D_TYPE', S_IFCHR), rec('D_MAJOR', maj), rec('D_MINOR', min), rec('D_MODE', 0o666), rec('D_UID', 0), rec('D_GID', 0), rec('D_BIND', !!opt.userns)]));
const symlinks = opt.chroot ? [] : [
  ['/proc/self/fd', '/dev/fd'], ['/proc/self/fd/0', '/dev/stdin'], ['/proc/self/fd/1', '/dev/stdout'], ['/proc/self/fd/2', '/dev/stderr'], ['pts/ptmx', '/dev/ptmx'], ['/proc/kcore', '/dev/core'],
].map(([t, l]) => rec('DEV_SYMLINK', [rec('SL_TARGET', t), rec('SL_LINK', l)]));
const masked = opt.masked ?? ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi', '/sys/devices/virtual/powercap'];
const readonly = opt.readonly ?? ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const capBits = (names) => names.reduce((m, c) => m | (1n << BigInt(c)), 0n);
const hostBnd = BigInt('0x' + /CapBnd:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
const caps = opt.caps === 'all' ? hostBnd : opt.caps === 'none' ? 0n : capBits([29, 5, 10]); // AUDIT_WRITE KILL NET_BIND_SERVICE
const [uid, gid, groups] = (opt.user ?? '0:0').split(':');
const fifo = '/tmp/lr/exec.fifo';
rmSync(fifo, { force: true });
mkdirSync(dirname(fifo), { recursive: true });
execFileSync('mkfifo', ['-m', '0622', fifo]);

const hook = (kind, spec) => {
  const [path, ...args] = spec.split(',');
  const r = [rec('H_PATH', path), rec('H_ARG', path), ...args.map((a) => rec('H_ARG', a)), rec('H_ENV', 'PATH=/usr/bin:/bin')];
  if (opt.hookTimeout) r.push(rec('H_TIMEOUT', opt.hookTimeout));
  return rec(kind, r);
};

const plan = [
  rec('MODE', 1),
  rec('LOG_LEVEL', opt.logLevel ?? 0),
  ...opt.join.map((j) => { const [t, path] = j.split(':'); nsNew &= ~C['NEW' + t.toUpperCase()]; return rec('NS_JOIN', [rec('NS_TYPE', C['NEW' + t.toUpperCase()]), rec('NS_PATH', path)]); }),
  rec('NS_NEW', nsNew),
  ...(opt.timens ? [rec('TIME_OFFSET', [rec('TO_CLOCK', 1), rec('TO_SECS', 86400), rec('TO_NSECS', 0)]), rec('TIME_OFFSET', [rec('TO_CLOCK', 7), rec('TO_SECS', 172800), rec('TO_NSECS', 0)])] : []),
  rec('USERNS_MAPS', !!opt.userns),
  rec('ROOTFS', rootfs),
  rec('ROOTFS_READONLY', !!opt.ro),
  rec('NO_PIVOT', !!opt.noPivot),
  ...(opt.rootfsProp ? [rec('ROOTFS_PROPAGATION', opt.rootfsProp.endsWith('shared') ? (1 << 20) | MS.REC : MS.SLAVE | MS.REC), rec('ROOTFS_FINAL_PROPAGATION', { rshared: (1 << 20) | MS.REC, rprivate: MS.PRIVATE | MS.REC, rslave: MS.SLAVE | MS.REC }[opt.rootfsProp])] : []),
  rec('ROOT_CHROOT', !!opt.chroot),
  ...(opt.chroot ? [] : mounts),
  ...devices,
  ...symlinks,
  ...(opt.chroot ? [] : masked.map((p) => rec('MASKED_PATH', p))),
  ...(opt.chroot ? [] : readonly.map((p) => rec('READONLY_PATH', p))),
  rec('HOSTNAME', opt.hostname ?? 'hako-test'),
  rec('DOMAINNAME', 'example.org'),
  ...opt.sysctl.map((s) => { const [k, v] = s.split('='); return rec('SYSCTL', [rec('SC_KEY', k), rec('SC_VALUE', v)]); }),
  ...cmd.map((a) => rec('ARG', a)),
  rec('ENV', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'),
  rec('ENV', 'TERM=xterm'),
  ...opt.env.map((e) => rec('ENV', e)),
  rec('CWD', opt.cwd ?? '/'),
  rec('UID', Number(uid)),
  rec('GID', Number(gid ?? 0)),
  ...(groups ? groups.split(',').map((g) => rec('ADDITIONAL_GID', Number(g))) : []),
  ...(opt.umask !== undefined ? [rec('UMASK', opt.umask)] : []),
  ...(opt.rlimit.some((s) => s.startsWith('7=')) ? [] : [rec('RLIMIT', [rec('RL_TYPE', 7), rec('RL_SOFT', 1024), rec('RL_HARD', 1024)])]),
  ...opt.rlimit.map((s) => { const [t, v] = s.split('='); const [soft, hard] = v.split(':'); return rec('RLIMIT', [rec('RL_TYPE', Number(t)), rec('RL_SOFT', BigInt(soft)), rec('RL_HARD', BigInt(hard ?? soft))]); }),
  ...(opt.oom !== undefined ? [rec('OOM_SCORE_ADJ', opt.oom)] : []),
  rec('CAP_BOUNDING', caps),
  rec('CAP_EFFECTIVE', caps),
  rec('CAP_PERMITTED', caps),
  rec('CAP_INHERITABLE', opt.ambient !== undefined ? caps : 0n),
  rec('CAP_AMBIENT', opt.ambient !== undefined ? 1n << opt.ambient : 0n),
  rec('NO_NEW_PRIVS', !opt.noNnp),
  rec('PRESERVE_FDS', opt.preserve ?? 0),
  rec('EXEC_FIFO', fifo),
  rec('NEW_KEYRING', !opt.noKeyring),
  rec('KEYRING_NAME', '_ses.test'),
  rec('SETSID', true),
  ...opt.hookCreate.map((h) => hook('HOOK_CREATE_CONTAINER', h)),
  ...opt.hookStart.map((h) => hook('HOOK_START_CONTAINER', h)),
];
if (opt.seccomp) {
  // ld [nr]; jeq mkdir -> errno; jeq mkdirat -> errno; ret allow; ret errno(EPERM)
  const ins = (code, jt, jf, k) => { const b = Buffer.alloc(8); b.writeUInt16LE(code, 0); b.writeUInt8(jt, 2); b.writeUInt8(jf, 3); b.writeUInt32LE(k >>> 0, 4); return b; };
  const prog = Buffer.concat([ins(0x20, 0, 0, 0), ins(0x15, 2, 0, 83), ins(0x15, 1, 0, 258), ins(0x06, 0, 0, 0x7fff0000), ins(0x06, 0, 0, 0x00050000 | 1)]);
  plan.push(rec('SECCOMP_BPF', prog), rec('SECCOMP_FLAGS', 0));
}
if (opt.consoleSize) plan.push(rec('CONSOLE_WIDTH', opt.consoleSize[0]), rec('CONSOLE_HEIGHT', opt.consoleSize[1]));
if (opt.exec !== undefined) {
  // Exec mode: the process alone, in the namespaces of opt.exec that are
  // not ours (joining our own user namespace is an error).
  const files = { user: C.NEWUSER, mnt: C.NEWNS, net: C.NEWNET, pid: C.NEWPID, ipc: C.NEWIPC, uts: C.NEWUTS, cgroup: C.NEWCGROUP, time: C.NEWTIME };
  let join = 0;
  for (const [name, flag] of Object.entries(files)) {
    try {
      if (readlinkSync(`/proc/${opt.exec}/ns/${name}`) !== readlinkSync(`/proc/self/ns/${name}`)) join |= flag;
    } catch {}
  }
  const keep = new Set(['LOG_LEVEL', 'ARG', 'ENV', 'CWD', 'UID', 'GID', 'ADDITIONAL_GID', 'UMASK', 'RLIMIT', 'OOM_SCORE_ADJ', 'CAP_BOUNDING', 'CAP_EFFECTIVE', 'CAP_PERMITTED', 'CAP_INHERITABLE', 'CAP_AMBIENT', 'NO_NEW_PRIVS', 'SECCOMP_BPF', 'SECCOMP_FLAGS', 'PRESERVE_FDS', 'SETSID', 'CONSOLE_WIDTH', 'CONSOLE_HEIGHT']);
  const proc = plan.filter((r) => keep.has(NAMES[r.tag]));
  plan.length = 0;
  plan.push(rec('MODE', 2), ...(join ? [rec('EXEC_NS', join)] : []), ...proc);
  if (!opt.noKeyring) plan.push(rec('NEW_KEYRING', true), rec('KEYRING_NAME', '_ses.test'));
}
if (opt.badTag) plan.push(rawRec(9999, 'u32', 1));
if (opt.badLength) plan.push(rawRec(TAGS.UID.num, 'i64', 1));

// ---- run it ----
const REAPER = `
import os, sys, socket
launcher, syncfd, report = sys.argv[1], sys.argv[2], int(sys.argv[3])
# "pidfd:PID:FD" and "connect:PATH:FD": what hako's TypeScript opens for the
# launcher (EXEC_PIDFD, CONSOLE_FD), put at the fd numbers the plan names.
extra = []
for spec in sys.argv[4:]:
    kind, what, fd = spec.split(':')
    if kind == 'pidfd':
        extra.append((os.pidfd_open(int(what)), int(fd)))
    else:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(what)
        extra.append((s.detach(), int(fd)))
pid = os.fork()
if pid == 0:
    os.close(report)
    for src, dst in extra:
        os.dup2(src, dst)
    os.execv(launcher, [launcher, syncfd])
for src, _ in extra:
    os.close(src)
_, st = os.waitpid(pid, 0)
os.write(report, ("launcher %d %d\\n" % (pid, st)).encode())
while True:
    try:
        p, st = os.wait()
    except ChildProcessError:
        break
    os.write(report, ("exit %d %d\\n" % (p, st)).encode())
`;
const launcher = opt.launcher ?? process.env.HAKO_LAUNCHER ?? join(root, 'build/Release/hako-launcher');
const preserved = Array.from({ length: opt.preserve ?? 0 }, () => openSync('/etc/hostname', 'r'));
const syncIdx = 3 + preserved.length;
// Our fds for the launcher go right after the sync socket, as InitSession puts them.
const passSpecs = [];
if (opt.exec !== undefined) passSpecs.push(['pidfd', opt.exec, 'EXEC_PIDFD']);
if (opt.console) passSpecs.push(['connect', opt.console, 'CONSOLE_FD']);
passSpecs.forEach(([, , tag], i) => plan.push(rec(tag, syncIdx + 1 + i)));
const child = spawn('python3', ['-c', REAPER, launcher, String(syncIdx), String(syncIdx + 1), ...passSpecs.map(([k, w], i) => `${k}:${w}:${syncIdx + 1 + i}`)], {
  stdio: ['inherit', 'inherit', 'inherit', ...preserved, 'pipe', 'pipe'],
});
const sync = child.stdio[syncIdx];
const report = child.stdio[syncIdx + 1];

const statuses = [];
let reportBuf = '';
const reportWaiters = [];
report.on('data', (d) => {
  reportBuf += d;
  let nl;
  while ((nl = reportBuf.indexOf('\n')) >= 0) {
    const [kind, pid, st] = reportBuf.slice(0, nl).split(' ');
    reportBuf = reportBuf.slice(nl + 1);
    statuses.push({ kind, pid: Number(pid), st: Number(st) });
    reportWaiters.splice(0).forEach((w) => w());
  }
});
const reaperDone = new Promise((r) => child.on('exit', r));
const describe = (st) => ((st & 0x7f) === 0 ? `exit ${st >> 8}` : `signal ${st & 0x7f}`);

let inBuf = Buffer.alloc(0);
const msgWaiters = [];
const msgs = [];
sync.on('data', (d) => {
  inBuf = Buffer.concat([inBuf, d]);
  while (inBuf.length >= 8) {
    const len = inBuf.readUInt32LE(4);
    if (inBuf.length < 8 + len) break;
    const [m] = decode(inBuf.subarray(0, 8 + len));
    inBuf = inBuf.subarray(8 + len);
    if (m.name === 'MSG_WARN') {
      log('WARN:', m.value.find((f) => f.name === 'WARN_TEXT')?.value);
      continue;
    }
    msgs.push(m);
    msgWaiters.splice(0).forEach((w) => w());
  }
});
let syncEnded = false;
sync.on('end', () => { syncEnded = true; msgWaiters.splice(0).forEach((w) => w()); });
async function nextMsg() {
  while (msgs.length === 0 && !syncEnded) await new Promise((r) => msgWaiters.push(r));
  return msgs.shift() ?? null;
}
const field = (m, name) => m?.value.find((f) => f.name === name)?.value;
function errorOut(m, stage) {
  console.log(`[driver] ${stage}: MSG_ERROR: ${field(m, 'ERR_TEXT')} (errno ${field(m, 'ERR_ERRNO')})`);
}

async function finish(code) {
  await reaperDone;
  for (const s of statuses) log(`${s.kind} pid ${s.pid}: ${describe(s.st)}`);
  const leaks = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(rootfs));
  log(leaks.length ? `HOST MOUNT LEAKS:\n${leaks.join('\n')}` : 'no mounts of the rootfs left on the host');
  process.exit(code);
}

sync.write(encode(rec('MSG_PLAN', plan)));
const first = await nextMsg();
if (opt.exec !== undefined) {
  // launcher: MSG_EXEC_PID; us: MSG_GO; the process: EOF once it execs, or MSG_ERROR.
  if (!first || first.name !== 'MSG_EXEC_PID') {
    if (first) errorOut(first, 'launcher'); else log('launcher: EOF');
    sync.end();
    await finish(1);
  }
  const xpid = field(first, 'INIT_PID');
  log(`exec pid ${xpid}`);
  sync.write(encode(rec('MSG_GO', [])));
  const after = await nextMsg();
  if (after) errorOut(after, 'exec'); else log('EOF after MSG_GO: the process has exec\'d');
  sync.end();
  await reaperDone;
  const st = statuses.find((s) => s.pid === xpid);
  await finish(st ? ((st.st & 0x7f) === 0 ? st.st >> 8 : 128 + (st.st & 0x7f)) : 1);
}
if (!first || first.name !== 'MSG_PID') {
  if (first) errorOut(first, 'launcher'); else log('launcher: EOF');
  sync.end();
  await finish(1);
}
const pid = field(first, 'INIT_PID');
log(`init pid ${pid}`);
if (opt.userns) {
  writeFileSync(`/proc/${pid}/uid_map`, '0 100000 65536\n');
  writeFileSync(`/proc/${pid}/gid_map`, '0 100000 65536\n');
}
if (opt.noGo) {
  log('closing the sync socket instead of sending MSG_GO');
  sync.end();
  sync.destroy();
  await finish(0);
}
const state = JSON.stringify({ ociVersion: '1.0.2', id: 'test', status: 'creating', pid, bundle: '/tmp/lr' });
const stateStart = JSON.stringify({ ociVersion: '1.0.2', id: 'test', status: 'created', pid, bundle: '/tmp/lr' });
sync.write(encode(rec('MSG_GO', [rec('STATE_JSON', state), rec('STATE_JSON_START', stateStart)])));
const second = await nextMsg();
if (!second || second.name !== 'MSG_READY') {
  if (second) errorOut(second, 'init'); else log('init: EOF without MSG_READY');
  await finish(1);
}
log('MSG_READY');
if (opt.noStart) {
  log('not starting; killing the init');
  process.kill(pid, 'SIGKILL');
  await finish(0);
}
if (opt.startDelay) await new Promise((r) => setTimeout(r, opt.startDelay * 1000));
// `hako start`: read the fifo to EOF. "0" alone means the process runs.
const got = await new Promise((resolve, reject) => {
  const chunks = [];
  createReadStream(fifo).on('data', (c) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks).toString())).on('error', reject);
});
if (got === '0') log('start: fifo says "0": the process runs');
else log(`start: FAILED: ${JSON.stringify(got)}`);
await reaperDone;
const init = statuses.find((s) => s.pid === pid);
await finish(init ? ((init.st & 0x7f) === 0 ? init.st >> 8 : 128 + (init.st & 0x7f)) : 1);
