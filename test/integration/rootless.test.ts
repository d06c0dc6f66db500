// hako run by an unprivileged user (a test user made here and removed at
// the end), with its state under $XDG_RUNTIME_DIR/hako and bundles of its
// own, as rootless users run runc: the user is root inside and itself
// outside, maps of more than its own id come from newuidmap/newgidmap and
// /etc/subuid, mounts and device binds need no host privilege, the
// container runs without a cgroup of its own unless the user was given
// one, and what cannot be done without privileges fails in one line,
// leaving nothing behind. runc 1.1.5 (one of make build's packages) is run on the same
// bundles as the same user for comparison.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmdirSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { CTTY_SH } from '../ctty.js';
import { HAKO, isRoot, processesUnder, uniqueId } from '../helpers.js';
import { TestUser } from '../rootless-user.js';

const t = suite('rootless');
const test = skippable(t, 'rootless');
const guest = process.env.HAKO_VM_GUEST === '1';
const v2 = (() => {
  try {
    return spawnSync('stat', ['-f', '-c', '%T', '/sys/fs/cgroup'], { encoding: 'utf8' }).stdout.trim() === 'cgroup2fs';
  } catch {
    return false;
  }
})();
const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));
// Where the test user's subordinate ids start: far from what useradd hands out.
const SUBID_BASE = 400000;
const SUBID_COUNT = 65536;

let user: TestUser;
let top: string;
const usable = isRoot && !!spawnSync('sh', ['-c', 'command -v setpriv useradd newuidmap'], { encoding: 'utf8' }).stdout.trim();

t.before(() => {
  if (!usable) return;
  top = mkdtempSync('/tmp/hako-rootless-');
  chmodSync(top, 0o755);
  user = TestUser.create(path.join(top, 'home'));
  user.addSubids(SUBID_BASE, SUBID_COUNT);
});
t.after(() => {
  if (!usable) return;
  user.remove();
  spawnSync('rm', ['-rf', top]);
});

/** The rootless config of `hako spec --rootless` as the user, non-interactive, running `args`. */
function rootlessConfig(args: string[], edit?: (c: any) => void): any {
  const dir = path.join(user.dir, uniqueId('spec'));
  mkdirSync(dir);
  chownSync(dir, user.uid, user.gid);
  const r = user.hako(['spec', '--rootless', '--bundle', dir]);
  assert.is(r.status, 0, r.stderr);
  const c = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  c.process.terminal = false;
  c.process.args = args;
  edit?.(c);
  return c;
}

const wideMaps = (c: any, uid: number, gid: number) => {
  c.linux.uidMappings = [
    { containerID: 0, hostID: uid, size: 1 },
    { containerID: 1, hostID: SUBID_BASE, size: SUBID_COUNT },
  ];
  c.linux.gidMappings = [
    { containerID: 0, hostID: gid, size: 1 },
    { containerID: 1, hostID: SUBID_BASE, size: SUBID_COUNT },
  ];
};

/** `hako run` of a fresh bundle as the user; its stdout. */
function run(args: string[], edit?: (c: any) => void): { status: number | null; stdout: string; stderr: string; bundle: string } {
  const bundle = user.bundle(rootlessConfig(args, edit));
  const r = user.hako(['run', '--bundle', bundle, uniqueId('rl')]);
  return { ...r, bundle };
}

function stateOf(id: string): any {
  const r = user.hako(['state', id]);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// In the cgroup v2 guest every command costs seconds: only the delegated
// cgroup test runs there; the rest runs on the host.
const UNUSABLE = 'needs root, setpriv, useradd and newuidmap';
function needHost(): void {
  if (!usable) skip(UNUSABLE);
  if (guest) skip('runs on the host; only the delegated cgroup test runs in the cgroup v2 guest');
}

test('spec --rootless as the user maps its own uid and gid to root', () => {
  needHost();
  const c = rootlessConfig(['true']);
  assert.equal(c.linux.uidMappings, [{ containerID: 0, hostID: user.uid, size: 1 }]);
  assert.equal(c.linux.gidMappings, [{ containerID: 0, hostID: user.gid, size: 1 }]);
});

test('run: root inside, the user outside; state in $XDG_RUNTIME_DIR/hako (sticky, 0700); no cgroup of its own', () => {
  needHost();
  const r = run(['sh', '-c', 'id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; hostname; cat /proc/self/cgroup']);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^uid=0\(root\) gid=0\(root\)/);
  assert.equal(lines[1]!.trim().split(/\s+/), ['0', String(user.uid), '1']);
  assert.equal(lines[2]!.trim().split(/\s+/), ['0', String(user.gid), '1']);
  assert.is(lines[3], 'deny', 'setgroups denied before gid_map was written');
  assert.is(lines[4], 'runc');
  // The container joined no cgroup: it is where the user's hako ran, which
  // is where this test runs.
  assert.is(lines.slice(5).join('\n') + '\n', readFileSync('/proc/self/cgroup', 'utf8'));
  const st = statSync(path.join(user.xdg, 'hako'));
  assert.is(st.mode & 0o7777, 0o1700);
  assert.is(st.uid, user.uid);
});

test('create, start, state, ps, exec, list, kill, delete: the lifecycle without a cgroup', () => {
  needHost();
  const bundle = user.bundle(rootlessConfig(['sleep', '1000']));
  const id = uniqueId('life');
  const pidFile = path.join(user.dir, `${id}.pid`);
  try {
    let r = user.hako(['create', '--bundle', bundle, '--pid-file', pidFile, id]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stderr, '');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.is(stateOf(id).status, 'created');
    assert.is(stateOf(id).pid, pid);
    // Seen from the host: the init runs as the user, in a user namespace
    // that maps the user to root.
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), new RegExp(`^Uid:\\s+${user.uid}\\s+${user.uid}\\s`, 'm'));
    assert.equal(readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/), ['0', String(user.uid), '1']);
    assert.is.not(readlinkSync(`/proc/${pid}/ns/user`), readlinkSync('/proc/self/ns/user'));

    r = user.hako(['start', id]);
    assert.is(r.status, 0, r.stderr);
    assert.is(stateOf(id).status, 'running');
    r = user.hako(['ps', '--format', 'json', id]);
    assert.is(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), [pid]);
    r = user.hako(['ps', id]);
    assert.is(r.status, 0, r.stderr);
    // ps prints long user names as the uid or truncated: match the pid.
    assert.match(r.stdout, new RegExp(`^\\S+\\s+${pid}\\s.*sleep 1000`, 'm'));

    r = user.hako(['exec', id, 'sh', '-c', 'id -u; readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt; cat /proc/1/cmdline | tr "\\0" " "']);
    assert.is(r.status, 0, r.stderr);
    const [uid, pidns, mntns, cmd] = r.stdout.trim().split('\n');
    assert.is(uid, '0');
    assert.is(pidns, readlinkSync(`/proc/${pid}/ns/pid`));
    assert.is(mntns, readlinkSync(`/proc/${pid}/ns/mnt`));
    assert.is(cmd!.trim(), 'sleep 1000');
    // A second process, then kill --all: the pid namespace is the container.
    r = user.hako(['exec', '-d', id, 'sleep', '999']);
    assert.is(r.status, 0, r.stderr);
    r = user.hako(['ps', '--format', 'json', id]);
    assert.is(JSON.parse(r.stdout).length, 2);

    r = user.hako(['list']);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^${id}\\s+${pid}\\s+running\\s+${bundle}\\s+\\S+\\s+${user.name}$`, 'm'));

    r = user.hako(['pause', id]);
    assert.is(r.status, 1);
    assert.match(r.stderr, /cannot pause: the container has no cgroup of its own/);

    r = user.hako(['kill', '--all', id, 'KILL']);
    assert.is(r.status, 0, r.stderr);
    for (let i = 0; i < 2000 && stateOf(id).status !== 'stopped'; i++) spawnSync('sleep', ['0.01']);
    assert.is(stateOf(id).status, 'stopped');
    assert.equal(processesUnder(bundle), []);
    r = user.hako(['delete', id]);
    assert.is(r.status, 0, r.stderr);
    assert.is(existsSync(path.join(user.xdg, 'hako', id)), false);
  } finally {
    user.hako(['delete', '--force', id]);
  }
});

test('a created container: exec, ps and kill --all reach its waiting init (non-dumpable, in a user namespace the user owns), with its own id, a newuidmap range, a joined user namespace', () => {
  needHost();
  const ids: string[] = [];
  const created = (edit?: (c: any) => void): { id: string; pid: number; bundle: string } => {
    const bundle = user.bundle(rootlessConfig(['sleep', '1000'], edit));
    const id = uniqueId('made');
    ids.push(id);
    const r = user.hako(['create', '--bundle', bundle, id]);
    assert.is(r.status, 0, r.stderr);
    assert.is(stateOf(id).status, 'created');
    return { id, pid: stateOf(id).pid, bundle };
  };
  const reach = (c: { id: string; pid: number; bundle: string }) => {
    // Beyond stdio the waiting init holds exec.fifo and its own procfs
    // (the re-exec'd launcher's plan and executable fds are gone).
    const held = readdirSync(`/proc/${c.pid}/fd`)
      .map(Number)
      .filter((n) => n > 2);
    assert.is(held.length, 2, `fds ${held.map((n) => readlinkSync(`/proc/${c.pid}/fd/${n}`)).join(' ')}`);
    assert.ok(held.some((n) => statSync(`/proc/${c.pid}/fd/${n}`).isFIFO()));
    let r = user.hako(['exec', c.id, 'sh', '-c', 'readlink /proc/self/ns/pid; id -u']);
    assert.is(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n'), [readlinkSync(`/proc/${c.pid}/ns/pid`), '0']);
    r = user.hako(['ps', '--format', 'json', c.id]);
    assert.is(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout), [c.pid]);
    r = user.hako(['kill', '--all', c.id, 'KILL']);
    assert.is(r.status, 0, r.stderr);
    for (let i = 0; i < 2000 && stateOf(c.id).status !== 'stopped'; i++) spawnSync('sleep', ['0.01']);
    assert.is(stateOf(c.id).status, 'stopped');
    assert.equal(processesUnder(c.bundle), []);
  };
  try {
    reach(created());
    reach(created((c) => wideMaps(c, user.uid, user.gid)));
    // A second container in the first one's user namespace: the launcher
    // joins it and re-execs there. (Mapped by newgidmap: with the user's
    // own gid only, setgroups is denied in it, which create does not yet
    // take into account for a joined namespace.)
    const first = created((c) => wideMaps(c, user.uid, user.gid));
    reach(
      created((c) => {
        c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'user' ? { type: 'user', path: `/proc/${first.pid}/ns/user` } : n));
        delete c.linux.uidMappings;
        delete c.linux.gidMappings;
      }),
    );
  } finally {
    for (const id of ids) user.hako(['delete', '--force', id]);
  }
});

test("a terminal, run in the foreground: the pty master crosses the launcher's re-exec inside the user namespace", () => {
  needHost();
  const bundle = user.bundle(rootlessConfig(['sh'], (c) => (c.process.terminal = true)));
  const n = uniqueId('in');
  const input = path.join(user.dir, `${n}.txt`);
  writeFileSync(input, 'tty; echo $((6*7)); exit 3\n');
  // A file for stdin, a controlling terminal (as runc, hako needs one).
  const r = user.run(['sh', '-c', `exec ${CTTY_SH} ${HAKO} run --bundle ${bundle} ${uniqueId('tty')} < ${input}`]);
  assert.is(r.status, 3, r.stderr);
  assert.match(r.stdout, /^\/dev\/pts\/0\r?$/m);
  assert.match(r.stdout, /^42\r?$/m);
});

test('delete --force of a running container ends every process of it', () => {
  needHost();
  const bundle = user.bundle(rootlessConfig(['sh', '-c', 'sleep 1000 & exec sleep 1001']));
  const id = uniqueId('force');
  let r = user.hako(['run', '-d', '--bundle', bundle, id], { stdio: 'ignore' });
  assert.is(r.status, 0);
  r = user.hako(['delete', '--force', id]);
  assert.is(r.status, 0, r.stderr);
  assert.equal(processesUnder(bundle), []);
  assert.is(existsSync(path.join(user.xdg, 'hako', id)), false);
});

test('no cgroup and no pid namespace: delete --force says that processes the init started may be left', () => {
  needHost();
  const bundle = user.bundle(
    rootlessConfig(['sh', '-c', 'sleep 1000 & exec sleep 1001'], (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'pid');
      // A new procfs needs a pid namespace the user namespace owns: bind the host's.
      c.mounts = c.mounts.map((m: any) => (m.destination === '/proc' ? { destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] } : m));
    }),
  );
  const id = uniqueId('nopidns');
  // The init's children, read before the delete: /proc/PID/root of a
  // process in another mount namespace reads "/", so processesUnder cannot
  // find what the delete leaves.
  let left: number[] = [];
  try {
    let r = user.hako(['run', '-d', '--bundle', bundle, id], { stdio: 'ignore' });
    assert.is(r.status, 0);
    const init = stateOf(id).pid;
    for (let i = 0; i < 500 && left.length === 0; i++) {
      try {
        left = readFileSync(`/proc/${init}/task/${init}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        break;
      }
      if (left.length === 0) spawnSync('sleep', ['0.01']);
    }
    r = user.hako(['delete', '--force', id]);
    assert.is(r.status, 0, r.stderr);
    assert.match(r.stderr, /no cgroup and no pid namespace of its own: only the init is signalled, processes it started may be left/);
    assert.is(existsSync(path.join(user.xdg, 'hako', id)), false);
  } finally {
    // What hako could not reach is this test's to end.
    for (const pid of [...left, ...processesUnder(bundle)]) spawnSync('kill', ['-KILL', String(pid)]);
  }
});

test("newuidmap/newgidmap: the user's /etc/subuid range maps uids 1..65536; setgroups allowed; additional gids", () => {
  needHost();
  const edit = (c: any) => {
    wideMaps(c, user.uid, user.gid);
    c.process.user = { uid: 1000, gid: 1000, additionalGids: [5] };
  };
  const bundle = user.bundle(rootlessConfig(['sh', '-c', 'id; cat /proc/self/uid_map /proc/self/setgroups; exec sleep 1000'], edit));
  const id = uniqueId('wide');
  const log = path.join(user.dir, `${id}.log`);
  try {
    const fd = spawnSync('sh', ['-c', `: > ${log}; chown ${user.uid} ${log}`]);
    assert.is(fd.status, 0);
    const r = user.run(['sh', '-c', `exec ${HAKO} run -d --bundle ${bundle} ${id} >${log} 2>&1 </dev/null`]);
    assert.is(r.status, 0, readFileSync(log, 'utf8'));
    const pid = stateOf(id).pid;
    // uid 1000 inside is the range's 1000th id outside.
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), new RegExp(`^Uid:\\s+${SUBID_BASE + 999}\\s`, 'm'));
    for (let i = 0; i < 2000 && !readFileSync(log, 'utf8').includes('allow'); i++) spawnSync('sleep', ['0.01']);
    const out = readFileSync(log, 'utf8').trim().split('\n');
    assert.match(out[0]!, /^uid=1000 gid=1000 groups=5/);
    assert.equal(out[1]!.trim().split(/\s+/), ['0', String(user.uid), '1']);
    assert.equal(out[2]!.trim().split(/\s+/), ['1', String(SUBID_BASE), String(SUBID_COUNT)]);
    assert.is(out[3], 'allow');
    // exec as another mapped user joins the same user namespace.
    const e = user.hako(['exec', '-u', '33:33', id, 'id', '-u']);
    assert.is(e.status, 0, e.stderr);
    assert.is(e.stdout, '33\n');
  } finally {
    user.hako(['delete', '--force', id]);
  }
});

test("mounts: tmpfs, binds of the user's own directory (rw and ro), sysfs bound; host device nodes bound, their permissions kept", () => {
  needHost();
  const share = path.join(user.dir, uniqueId('share'));
  mkdirSync(share);
  writeFileSync(path.join(share, 'in'), 'from the host\n');
  spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, share]);
  const fuse = existsSync('/dev/fuse') && (statSync('/dev/fuse').mode & 0o006) === 0;
  const script = [
    'grep -E " /(mnt/[a-z]+|dev/null|dev/tty|sys) " /proc/self/mountinfo | cut -d" " -f5,6,9',
    'cat /mnt/rw/in; echo made inside >/mnt/rw/out',
    'echo x >/mnt/t/f && cat /mnt/t/f',
    'touch /mnt/ro/nope 2>&1 | sed "s/.*: //"',
    'echo discard >/dev/null && head -c 4 /dev/zero | wc -c',
    ...(fuse ? ['stat -c "%t:%T" /dev/fuse', 'cat /dev/fuse 2>&1 | sed "s/.*: //"'] : []),
  ].join('; ');
  const r = run(['sh', '-c', script], (c) => {
    c.mounts.push(
      { destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] },
      { destination: '/mnt/rw', type: 'bind', source: share, options: ['rbind'] },
      { destination: '/mnt/ro', type: 'bind', source: share, options: ['rbind', 'ro'] },
    );
    if (fuse) c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }];
  });
  assert.is(r.status, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, /^\/mnt\/t rw,nosuid,relatime tmpfs$/m);
  assert.match(out, /^\/mnt\/rw rw,\S* \S+$/m);
  assert.match(out, /^\/mnt\/ro ro,\S* \S+$/m);
  assert.match(out, /^\/dev\/null \S+ \S+$/m, '/dev/null is a bind of the host node');
  assert.match(out, /^\/sys ro,\S* sysfs$/m, 'the host /sys, bound read-only (no network namespace)');
  assert.match(out, /^from the host$/m);
  assert.match(out, /^x$/m);
  assert.match(out, /^Read-only file system$/m);
  assert.match(out, /^4$/m);
  if (fuse) {
    assert.match(out, /^a:e5$/m, '/dev/fuse is the host node');
    assert.match(out, /^Permission denied$/m, 'a bound node keeps the host permissions');
  }
  // Written by root of the container: owned by the user on the host.
  assert.is(readFileSync(path.join(share, 'out'), 'utf8'), 'made inside\n');
  assert.is(statSync(path.join(share, 'out')).uid, user.uid);
  assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(r.bundle), 'no mount left on the host');
});

test('a bind of a mount whose flags the user namespace cannot clear: they are kept, as runc keeps them; another atime mode is refused', () => {
  needHost();
  // Root mounts it with flags; in the user's namespaces they are locked (MNT_LOCK_*).
  const dir = path.join(user.dir, uniqueId('locked'));
  mkdirSync(dir);
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'nosuid,nodev,noexec,relatime,size=64k,mode=0755', 'hako-locked', dir], { encoding: 'utf8' });
  assert.is(m.status, 0, m.stderr);
  try {
    const r = run(['sh', '-c', 'grep " /mnt/l " /proc/self/mountinfo | cut -d" " -f6'], (c) => {
      c.mounts.push({ destination: '/mnt/l', type: 'bind', source: dir, options: ['rbind', 'ro'] });
    });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), 'ro,nosuid,nodev,noexec,relatime');
    const bad = run(['true'], (c) => {
      c.mounts.push({ destination: '/mnt/l', type: 'bind', source: dir, options: ['rbind', 'ro', 'strictatime'] });
    });
    assert.is(bad.status, 1);
    assert.match(bad.stderr, /remount \/mnt\/l with its options \(the atime flags are locked\): operation not permitted/);
  } finally {
    spawnSync('umount', [dir]);
  }
});

test('network, ipc and cgroup namespaces of its own: sysfs, namespaced sysctls, the cgroup hierarchies mounted', () => {
  needHost();
  const r = run(
    [
      'sh',
      '-c',
      'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni; grep -c " /sys/fs/cgroup" /proc/self/mountinfo; grep " /sys " /proc/self/mountinfo | cut -d" " -f9',
    ],
    (c) => {
      c.linux.namespaces.push({ type: 'network' }, { type: 'cgroup' });
      c.mounts = c.mounts.map((m: any) =>
        m.destination === '/sys' ? { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] } : m,
      );
      c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmni': '1000' };
    },
  );
  assert.is(r.status, 0, r.stderr);
  const [fwd, shm, cg, sys] = r.stdout.trim().split('\n');
  assert.is(fwd, '1');
  assert.is(shm, '1000');
  assert.ok(Number(cg) >= 1, 'cgroup mounts');
  assert.is(sys, 'sysfs');
});

test('a time namespace under the user namespace: offsets seen by the init and by exec', () => {
  needHost();
  const bundle = user.bundle(
    rootlessConfig(['sleep', '1000'], (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 } };
    }),
  );
  const id = uniqueId('time');
  try {
    let r = user.hako(['run', '-d', '--bundle', bundle, id], { stdio: 'ignore' });
    assert.is(r.status, 0);
    r = user.hako(['exec', id, 'cut', '-d', ' ', '-f1', '/proc/uptime']);
    assert.is(r.status, 0, r.stderr);
    assert.ok(Number(r.stdout) > 86400 * 365, r.stdout);
    const pid = stateOf(id).pid;
    assert.is.not(readlinkSync(`/proc/${pid}/ns/time`), readlinkSync('/proc/self/ns/time'));
  } finally {
    user.hako(['delete', '--force', id]);
  }
});

/** create as the user fails with one line naming the container and `message`, and leaves nothing behind. */
function cleanFailure(edit: (c: any) => void, message: RegExp, opts: { envExtra?: Record<string, string | undefined>; args?: string[] } = {}): string {
  const bundle = user.bundle(rootlessConfig(['true'], edit));
  const id = uniqueId('fail');
  const pidFile = path.join(user.dir, `${id}.pid`);
  const r = user.hako([...(opts.args ?? []), 'create', '--bundle', bundle, '--pid-file', pidFile, id], { envExtra: opts.envExtra });
  assert.is(r.status, 1, `exit status (stderr: ${r.stderr})`);
  assert.match(r.stderr, message);
  assert.is(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`container "${id}"`));
  assert.is(existsSync(path.join(user.xdg, 'hako', id)), false, 'no state directory');
  assert.is(existsSync(pidFile), false, 'no pid file');
  assert.equal(processesUnder(bundle), [], 'no process');
  assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(bundle), 'no mount');
  return bundle;
}

test('failures: what needs privileges fails in one line and leaves nothing behind', () => {
  needHost();
  cleanFailure(
    (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'user')),
    /\/linux\/namespaces: hako runs as uid \d+ \(rootless\), so the container needs a user namespace/,
  );
  cleanFailure(
    (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'mount')),
    /\/linux\/namespaces: a rootless container needs a mount namespace of its own/,
  );
  if (!v2)
    cleanFailure(
      (c) => (c.linux.resources = { memory: { limit: 64 << 20 } }),
      /\/linux\/resources\/memory: cannot be applied: hako runs rootless and may not write \/sys\/fs\/cgroup\//,
    );
  cleanFailure((c) => (c.linux.cgroupsPath = '/hako-rootless-nope'), /\/linux\/cgroupsPath: cannot be used: hako runs rootless/);
  cleanFailure((c) => (c.process.user.additionalGids = [5]), /\/process\/user\/additionalGids: cannot be set: .*setgroups\(2\) is denied/);
  cleanFailure(
    (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 1 << 30, soft: 1 << 30 }]),
    /setrlimit RLIMIT_NOFILE .* above the current hard limit \d+, which only a privileged runtime may raise/,
  );
  const oom = Number(readFileSync('/proc/self/oom_score_adj', 'utf8'));
  if (oom > -1000)
    cleanFailure(
      (c) => (c.process.oomScoreAdj = oom - 1),
      new RegExp(`set oom_score_adj to ${oom - 1}: below the current ${oom}, which only a privileged runtime may lower`),
    );
  cleanFailure(
    (c) => c.mounts.push({ destination: '/m', type: 'bind', source: '/tmp', options: ['rbind', 'idmap'] }),
    /\/mounts\/\d+\/options\/1: idmapped mounts are not supported for rootless containers/,
  );
  cleanFailure((c) => c.mounts.push({ destination: '/m', type: 'tmpfs', source: 'tmpfs', options: ['uid=1000'] }), /uid=1000: uid 1000 is not mapped/);
  // A range outside the user's /etc/subuid entry: newuidmap's own reason.
  cleanFailure(
    (c) =>
      (c.linux.uidMappings = [
        { containerID: 0, hostID: user.uid, size: 1 },
        { containerID: 1, hostID: SUBID_BASE + SUBID_COUNT, size: 10 },
      ]),
    /\/linux\/uidMappings: newuidmap \d+ 0 \d+ 1 1 \d+ 10 failed: newuidmap: uid range .* not allowed/,
  );
  // No helper at all: what to install.
  cleanFailure((c) => wideMaps(c, user.uid, user.gid), /\/linux\/uidMappings: mapping more than hako's own uid needs newuidmap \(Debian package uidmap\)/, {
    envExtra: { PATH: '/nonexistent' },
  });
  // Something the kernel refuses inside: a bind of a host path the user may not reach.
  const hidden = path.join(top, 'private', 'dir');
  mkdirSync(hidden, { recursive: true });
  chmodSync(path.dirname(hidden), 0o700);
  cleanFailure(
    (c) => c.mounts.push({ destination: '/m', type: 'bind', source: hidden, options: ['rbind'] }),
    new RegExp(`mount ${hidden} onto /m: .*[Pp]ermission denied`),
  );
});

test('the state root: XDG_RUNTIME_DIR unset is an error saying what to do; --root is honoured', () => {
  needHost();
  const bundle = user.bundle(rootlessConfig(['true']));
  const r = user.hako(['run', '--bundle', bundle, uniqueId('noxdg')], { envExtra: { XDG_RUNTIME_DIR: undefined } });
  assert.is(r.status, 1);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /cannot create state directory \/run\/hako\/.*: use a state root the user owns \(--root, or XDG_RUNTIME_DIR/);
  const own = path.join(user.dir, 'state');
  const ok = user.hako(['--root', own, 'run', '--bundle', bundle, uniqueId('root')]);
  assert.is(ok.status, 0, ok.stderr);
  assert.ok(existsSync(own));
});

test('runc 1.1.5 rootless on the same bundles: the same view inside, the same refusals', () => {
  needHost();
  if (!RUNC) skip('runc is not installed');
  const cases: Array<{ name: string; edit?: (c: any) => void; ok: boolean }> = [
    { name: 'own ids', ok: true },
    { name: 'newuidmap', edit: (c) => wideMaps(c, user.uid, user.gid), ok: true },
    { name: 'mounts', edit: (c) => c.mounts.push({ destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }), ok: true },
    { name: 'no user namespace', edit: (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'user')), ok: false },
    ...(v2 ? [] : [{ name: 'memory limit', edit: (c: any) => (c.linux.resources = { memory: { limit: 64 << 20 } }), ok: false }]),
    { name: 'additional gids', edit: (c) => (c.process.user.additionalGids = [5]), ok: false },
    { name: 'rlimit above the hard limit', edit: (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 1 << 30, soft: 1 << 30 }]), ok: false },
    { name: 'oom_score_adj lowered', edit: (c) => (c.process.oomScoreAdj = -1000), ok: false },
  ];
  const script = 'id; cat /proc/self/uid_map /proc/self/gid_map; grep -c " /dev/" /proc/self/mountinfo; ls /dev; hostname';
  for (const k of cases) {
    const bundle = user.bundle(rootlessConfig(['sh', '-c', script], k.edit));
    const h = user.hako(['run', '--bundle', bundle, uniqueId('cmp')]);
    const rr = user.run([RUNC, '--root', path.join(user.xdg, 'runc'), 'run', '--bundle', bundle, uniqueId('cmp')]);
    assert.is(h.status === 0, k.ok, `hako, ${k.name}: ${h.stderr}`);
    assert.is(rr.status === 0, k.ok, `runc, ${k.name}: ${rr.stderr}`);
    // One difference, on purpose: where setgroups(2) is allowed (a
    // newgidmap map) hako drops the caller's supplementary groups, as crun
    // does; runc 1.1 never calls setgroups when rootless and keeps them.
    const same = (o: string) => o.replace(/ groups=\S*/, '');
    if (k.ok) assert.is(same(h.stdout), same(rr.stdout), `${k.name}: what the container sees`);
  }
});

test('a delegated cgroup v2 subtree: limits applied, update, stats, pause, kill --all, removed at delete', () => {
  if (!usable) skip(UNUSABLE);
  if (!v2) skip('needs a pure cgroup v2 host (make test-v2 runs this in the guest)');
  // What systemd's Delegate=yes gives a user: a subtree it owns, with the
  // controllers enabled above it, and the user's shell inside it.
  const deleg = `/sys/fs/cgroup/hako-rootless-${process.pid}`;
  const shell = path.join(deleg, 'shell');
  mkdirSync(deleg);
  mkdirSync(shell);
  try {
    writeFileSync('/sys/fs/cgroup/cgroup.subtree_control', '+memory +pids');
    for (const d of [deleg, shell]) {
      for (const f of ['', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) chownSync(path.join(d, f), user.uid, user.gid);
    }
    const bundle = user.bundle(
      rootlessConfig(['sleep', '1000'], (c) => {
        c.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 20 } };
      }),
    );
    const id = uniqueId('deleg');
    // Root puts the shell in the subtree, then becomes the user (moving a
    // process needs write access to the common ancestor's cgroup.procs).
    const prefix = ['sh', '-c', `echo $$ > ${shell}/cgroup.procs && exec "$@"`, 'sh'];
    try {
      let r = user.hako(['run', '-d', '--bundle', bundle, id], { prefix, stdio: 'ignore' });
      assert.is(r.status, 0);
      const pid = stateOf(id).pid;
      const cg = path.join(deleg, id);
      assert.is(readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim(), `0::${cg.slice('/sys/fs/cgroup'.length)}`);
      assert.is(readFileSync(path.join(cg, 'memory.max'), 'utf8').trim(), String(64 << 20));
      assert.is(readFileSync(path.join(cg, 'pids.max'), 'utf8').trim(), '20');
      // Seen from inside: the cgroup mount shows the container's own cgroup.
      r = user.hako(['exec', id, 'cat', '/sys/fs/cgroup/pids.max'], { prefix });
      assert.is(r.stdout.trim(), '20', r.stderr);
      // From outside the subtree the user may not move a process in (the
      // common ancestor's cgroup.procs is root's): exec goes on, as runc's,
      // and says the process runs outside the container's limits.
      r = user.hako(['exec', id, 'true']);
      assert.is(r.status, 0, r.stderr);
      assert.match(r.stderr, /could not join the container's cgroup .* runs outside its limits/);
      r = user.hako(['update', '--pids-limit', '30', id], { prefix });
      assert.is(r.status, 0, r.stderr);
      assert.is(readFileSync(path.join(cg, 'pids.max'), 'utf8').trim(), '30');
      r = user.hako(['events', '--stats', id], { prefix });
      assert.is(r.status, 0, r.stderr);
      assert.is(JSON.parse(r.stdout).data.pids.limit, 30);
      r = user.hako(['pause', id], { prefix });
      assert.is(r.status, 0, r.stderr);
      assert.is(stateOf(id).status, 'paused');
      r = user.hako(['resume', id], { prefix });
      assert.is(r.status, 0, r.stderr);
      r = user.hako(['kill', '--all', id, 'KILL'], { prefix });
      assert.is(r.status, 0, r.stderr);
      for (let i = 0; i < 3000 && stateOf(id).status !== 'stopped'; i++) spawnSync('sleep', ['0.01']);
      r = user.hako(['delete', id], { prefix });
      assert.is(r.status, 0, r.stderr);
      assert.is(existsSync(cg), false, 'the cgroup is gone with the container');
    } finally {
      user.hako(['delete', '--force', id], { prefix });
    }
  } finally {
    for (const d of [shell, deleg]) {
      try {
        rmdirSync(d);
      } catch {
        /* reported by the assertions above */
      }
    }
  }
});

t.run();
