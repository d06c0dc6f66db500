// checkpoint and restore flags beyond checkpoint.test.ts, each checked by
// what the container does, as runc documents them: --file-locks,
// --tcp-established, --auto-dedup, --manage-cgroups-mode, --empty-ns,
// --ext-unix-sk. Not --shell-job: a container whose stdio is its caller's
// terminal fails the dump with or without it ("Can't lookup mount=N for
// fd=0 path=/dev/pts/M": the terminal is on the host's devpts, which is not
// among the container's mounts), under runc as under hako
// (opencontainers/runc#2111); criu would need the terminal named as
// external (tty[rdev:dev]) at dump and handed back at restore.
// Runs in the criu lane's 6.1 guest (scripts/vm/test-criu.sh
// '^checkpoint-flags\.test\.js$'); the guest is slow, so each test is one
// container and as few criu runs as what it shows needs.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { skip, skippable } from '../skip.js';
import { Env, uniqueId } from '../helpers.js';
import { COUNTER, criuHelpers, gone, needCriu, tick, until } from './criu-helpers.js';

const t = suite('checkpoint-flags');
const test = skippable(t, 'checkpoint-flags');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const { ok, runD, runCounter, restoreD, stateOf, nothingLeft, failsOneLine } = criuHelpers(() => env);

/** The counter goes on (in the container whose init is `pid`), `file` its count. */
async function goesOn(pid: number, what: string, file?: string): Promise<number> {
  const at = tick(pid, file);
  await until(what, () => tick(pid, file) > at + 2);
  return at;
}

/**
 * util-linux flock (busybox's applet is not in the bundle's busybox) with
 * the libraries it loads, copied into the bundle's rootfs at their paths.
 */
function addFlock(b: string): void {
  const bin = '/usr/bin/flock';
  if (!existsSync(bin)) skip('util-linux flock is not installed');
  const libs = spawnSync('ldd', [bin], { encoding: 'utf8' }).stdout.match(/\/\S+/g) ?? [];
  for (const f of [bin, ...libs]) {
    const to = path.join(b, 'rootfs', f);
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(realpathSync(f), to);
  }
}

test('--file-locks: a held flock fails the dump without it (the container runs on); with it the restored process holds the lock again', async () => {
  needCriu();
  const id = uniqueId('flock');
  // flock holds the lock while its command (the counter) runs; its stdio too
  // become the container's /dev/null (see COUNTER).
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', `exec </dev/null >/dev/null 2>&1; exec flock /dev/shm/lk sh -c '${COUNTER}'`]));
  addFlock(b);
  const pid = await runCounter(id, b);
  // flock -n exits 42 (-E) when the lock is held by someone else.
  const held = () => env.hako(['exec', id, 'flock', '-n', '-E', '42', '/dev/shm/lk', 'true']).status;
  assert.is(held(), 42, 'the container holds the lock');
  const images = path.join(env.dir, `${id}.img`);
  failsOneLine(['checkpoint', '--image-path', images, id], id, /file locks/i);
  assert.is(stateOf(id).status, 'running', 'the container runs on');
  await goesOn(pid, 'the counter to go on after the failed dump');

  ok(['checkpoint', '--file-locks', '--image-path', images, id]);
  assert.ok(gone(pid));
  const rpid = restoreD(id, b, images, ['--file-locks']);
  await goesOn(rpid, 'the restored counter to go on');
  assert.is(held(), 42, 'the restored container holds the lock again');
  ok(['delete', '--force', id]);
  nothingLeft(id, b);
});

// A server and a client in the container's own network namespace, over
// 127.0.0.1: the client sends a count, the server writes what it gets.
const TCP = [
  'exec </dev/null >/dev/null 2>&1',
  // The server's stdin must not end (nc -l stops at its EOF): a pipe from a sleep.
  'sleep 1000000 | nc -l -p 5000 > /dev/shm/got &',
  "until netstat -ltn | grep -q ':5000 '; do usleep 50000; done",
  'i=0; while :; do i=$((i+1)); echo $i; usleep 100000; done | nc 127.0.0.1 5000',
].join('\n');

test('--tcp-established: an established connection fails the dump without it (the container runs on); with it the connection carries data after restore', async () => {
  needCriu();
  const id = uniqueId('tcp');
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', TCP]));
  const got = '/dev/shm/got';
  const pid = await runD(id, b, (p) => tick(p, got) >= 3);
  const images = path.join(env.dir, `${id}.img`);
  failsOneLine(['checkpoint', '--image-path', images, id], id, /tcp/i);
  assert.is(stateOf(id).status, 'running', 'the container runs on');
  await goesOn(pid, 'data to go on flowing after the failed dump', got);

  ok(['checkpoint', '--tcp-established', '--image-path', images, id]);
  assert.ok(gone(pid));
  const before = tick(pid, got);
  const rpid = restoreD(id, b, images, ['--tcp-established']);
  const first = await goesOn(rpid, 'data over the restored connection', got);
  assert.ok(first >= before, `the server's count goes on from where it was (${first} >= ${before})`);
  ok(['delete', '--force', id]);
  nothingLeft(id, b);
});

/** The disk blocks of a directory's pages images. */
function pageBlocks(dir: string): number {
  return readdirSync(dir)
    .filter((f) => /^pages-\d+\.img$/.test(f))
    .reduce((n, f) => n + statSync(path.join(dir, f)).blocks, 0);
}

test("--auto-dedup: the dump on top of a pre-dump punches the parent's pages it replaces (without it they stay); the image restores", async () => {
  needCriu();
  const id = uniqueId('dedup');
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', COUNTER]));
  const pid = await runCounter(id, b);
  /** A pre-dump, the counter going on (its pages change), then a dump on top with `extra`: the parent's blocks before and after. */
  const round = async (name: string, extra: string[]): Promise<[number, number, string]> => {
    const parent = path.join(env.dir, `${id}.${name}.pre`);
    const images = path.join(env.dir, `${id}.${name}.img`);
    ok(['checkpoint', '--pre-dump', '--image-path', parent, id]);
    const before = pageBlocks(parent);
    await goesOn(pid, 'the counter to go on after the pre-dump');
    ok(['checkpoint', ...extra, '--parent-path', `../${path.basename(parent)}`, '--image-path', images, id]);
    return [before, pageBlocks(parent), images];
  };
  const [plainBefore, plainAfter] = await round('plain', ['--leave-running']);
  assert.ok(plainBefore > 0, 'the pre-dump wrote pages');
  assert.is(plainAfter, plainBefore, "without --auto-dedup the parent's pages stay");
  const [before, after, images] = await round('dedup', ['--auto-dedup']);
  assert.ok(after < before, `--auto-dedup punched the parent's replaced pages (${after} < ${before} blocks)`);
  assert.ok(gone(pid));
  const rpid = restoreD(id, b, images);
  await goesOn(rpid, 'the restored counter to go on');
  ok(['delete', '--force', id]);
  nothingLeft(id, b);
});

// strict restores every property and refuses cgroups that exist: the
// container's cgroup does (made with the config's resources and criu put in
// it, as runc does), so a strict restore fails, as it does under runc.
test('--manage-cgroups-mode: full and ignore (soft: checkpoint.test.ts) dump and restore into the container cgroup; strict dumps, its restore refuses the existing cgroup; a bad mode is one line that changes nothing', async () => {
  needCriu();
  const id = uniqueId('cgmode');
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', COUNTER]));
  await runCounter(id, b);
  const bad = path.join(env.dir, `${id}.bad`);
  failsOneLine(['checkpoint', '--manage-cgroups-mode', 'hard', '--image-path', bad, id], id, /--manage-cgroups-mode: invalid mode "hard"/);
  assert.not.ok(existsSync(bad), 'no image directory');
  assert.is(stateOf(id).status, 'running');
  for (const mode of ['full', 'ignore', 'strict']) {
    const images = path.join(env.dir, `${id}.${mode}`);
    ok(['checkpoint', '--leave-running', '--manage-cgroups-mode', mode, '--image-path', images, id]);
    const copy = uniqueId(mode);
    if (mode === 'strict') {
      failsOneLine(['restore', '-d', '--manage-cgroups-mode', mode, '--image-path', images, '--bundle', b, copy], copy, /Abort restore of existing cgroups/);
    } else {
      const rpid = restoreD(copy, b, images, ['--manage-cgroups-mode', mode]);
      await goesOn(rpid, `the copy restored with ${mode} to count`);
      assert.match(readFileSync(`/proc/${rpid}/cgroup`, 'utf8'), new RegExp(`^0::/${copy}$`, 'm'), `${mode}: the copy is in its own cgroup`);
      ok(['delete', '--force', copy]);
    }
    nothingLeft(copy, b);
  }
  const copy = uniqueId('bad');
  failsOneLine(['restore', '-d', '--manage-cgroups-mode', 'hard', '--image-path', path.join(env.dir, `${id}.full`), '--bundle', b, copy], copy, /invalid mode/);
  nothingLeft(copy, b);
  ok(['delete', '--force', id]);
  nothingLeft(id, b);
});

test('--empty-ns network: the restored container gets a new network namespace, without what was set up in the old one, lo up; a namespace runc does not know is one line', async () => {
  needCriu();
  const id = uniqueId('emptyns');
  // The container adds an address to its lo: the dump must not carry it over.
  const b = env.bundle((c) => {
    c.process.args = ['sh', '-c', `ip addr add 10.9.8.7/32 dev lo && ${COUNTER}`];
    for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_NET_ADMIN');
  });
  const pid = await runCounter(id, b);
  const lo = () => ok(['exec', id, 'ip', 'addr', 'show', 'lo']);
  assert.match(lo(), /10\.9\.8\.7/);
  const images = path.join(env.dir, `${id}.img`);
  failsOneLine(['checkpoint', '--empty-ns', 'nonsense', '--image-path', images, id], id, /--empty-ns: namespace "nonsense" is not supported/);
  assert.not.ok(existsSync(images), 'no image directory');
  ok(['checkpoint', '--empty-ns', 'network', '--image-path', images, id]);
  assert.ok(gone(pid));
  const rpid = restoreD(id, b, images);
  await goesOn(rpid, 'the restored counter to go on');
  const now = lo();
  assert.not.match(now, /10\.9\.8\.7/, 'the old namespace is not restored');
  assert.match(now, /inet 127\.0\.0\.1\/8/, 'lo is up, with its address');
  assert.match(now, /<LOOPBACK,UP/, 'lo is up');
  ok(['delete', '--force', id]);
  nothingLeft(id, b);
});

// A datagram server outside the container (python: node has no unix
// datagram sockets) writing what it gets to a file, one line each.
const DGRAM_SERVER = [
  'import socket, sys',
  's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
  's.bind(sys.argv[1])',
  "f = open(sys.argv[2], 'ab', 0)",
  "print('ready', flush=True)",
  'while True:',
  "    f.write(s.recv(4096).rstrip(b'\\0\\n') + b'\\n')",
].join('\n');

/** The number at the end of a file's last line, or 0. */
function lastCount(file: string): number {
  try {
    return Number(/(\d+)\s*$/.exec(readFileSync(file, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

// syslog's way (busybox logger keeps its /dev/log socket connected): the
// socket's peer is the server's, outside the dump. criu reconnects it by
// the server's name at restore, so the name is the same path inside (a
// bind mount of its directory) and /dev/log links to it. The container is
// in the host's network namespace: criu finds a socket's peer among the
// sockets of the dumped network namespace (sock_diag), so a server in
// another one is a peer it cannot find ("Unix socket N without peer M"),
// with --ext-unix-sk or without.
test('--ext-unix-sk: a socket connected to a server outside fails the dump without it (the container runs on); with it the restored socket reaches the server', async () => {
  needCriu();
  if (!existsSync('/usr/bin/python3')) skip('python3 is not installed (the datagram server)');
  const id = uniqueId('extsk');
  const dir = path.join(env.dir, `${id}.sock`);
  mkdirSync(dir);
  const sock = path.join(dir, 'log');
  const got = path.join(env.dir, `${id}.got`);
  const server = spawn('python3', ['-c', DGRAM_SERVER, sock, got], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(server, 'exit');
  try {
    await once(server.stdout, 'data');
    const b = env.bundle((c) => {
      c.mounts.push({ destination: dir, source: dir, type: 'bind', options: ['rbind'] });
      c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
      c.process.args = [
        'sh',
        '-c',
        `exec </dev/null >/dev/null 2>&1; ln -s ${sock} /dev/log; i=0; while :; do i=$((i+1)); echo $i; usleep 100000; done | logger -t ext`,
      ];
    });
    const pid = await runD(id, b, () => lastCount(got) >= 3);
    const flows = async (what: string) => {
      const at = lastCount(got);
      await until(what, () => lastCount(got) > at + 2);
      return at;
    };
    const images = path.join(env.dir, `${id}.img`);
    failsOneLine(['checkpoint', '--image-path', images, id], id, /ext-unix-sk/);
    assert.is(stateOf(id).status, 'running', 'the container runs on');
    await flows('messages to go on after the failed dump');
    ok(['checkpoint', '--ext-unix-sk', '--image-path', images, id]);
    assert.ok(gone(pid));
    const before = lastCount(got);
    restoreD(id, b, images, ['--ext-unix-sk']);
    const first = await flows('messages from the restored container');
    assert.ok(first >= before, `the count goes on from where it was (${first} >= ${before})`);
    ok(['delete', '--force', id]);
    nothingLeft(id, b);
  } finally {
    server.kill();
    await exited;
  }
});

t.run();
