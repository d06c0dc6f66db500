// checkpoint and restore through criu (src/checkpoint/). criu 3.17 works on
// the VM lane's 6.1 kernel, not on the development hosts' newer one:
// scripts/vm/test-criu.sh runs this file in the guest (HAKO_TEST_CRIU=1:
// a criu that cannot work there fails the tests instead of skipping them).
// On a host where criu cannot work, the commands must say so in one line
// and change nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, fstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { skip, skippable } from '../skip.js';
import { FdReceiver } from '../fd-receiver.js';
import { Env, HAKO, uniqueId } from '../helpers.js';
import { COUNTER, criuHelpers, criuWorks, gone, needCriu, tick, until } from './criu-helpers.js';

const t = suite('checkpoint');
const test = skippable(t, 'checkpoint');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => {
  // A pipeline a failed test left: its processes would keep node, and so the
  // guest, running after the last test.
  for (const p of Piped.open) if (p.child.exitCode === null && p.child.signalCode === null) process.kill(-p.child.pid!, 'SIGKILL');
  env.cleanup();
});

const { ok, runCounter, restoreD, stateOf, nothingLeft } = criuHelpers(() => env);

function counterBundle(): string {
  return env.bundle((c) => (c.process.args = ['sh', '-c', COUNTER]));
}

test('a counter checkpointed and restored keeps counting from where it was; prestart and createRuntime hooks run at restore', async () => {
  needCriu();
  const id = uniqueId('ckpt');
  // Each hook writes the state it is given (at create, then again at restore).
  const hookOut = (kind: string) => path.join(env.dir, `${id}.${kind}.json`);
  const hook = (kind: string) => [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${hookOut(kind)}`] }];
  const b = env.bundle((c) => {
    c.process.args = ['sh', '-c', COUNTER];
    c.hooks = { prestart: hook('prestart'), createRuntime: hook('createRuntime') };
  });
  const pid = await runCounter(id, b);
  const images = path.join(env.dir, `${id}.img`);
  const before = tick(pid);
  ok(['checkpoint', '--image-path', images, id]);
  // runc's behaviour: without --leave-running the container is gone.
  assert.ok(gone(pid), 'the checkpointed init is gone');
  assert.match(env.hako(['state', id]).stderr, 'does not exist');
  assert.ok(existsSync(path.join(images, 'descriptors.json')), 'descriptors.json');

  const rpid = restoreD(id, b, images);
  const st = stateOf(id);
  assert.is(st.status, 'running');
  assert.is(st.pid, rpid);
  for (const kind of ['prestart', 'createRuntime']) {
    const s = JSON.parse(readFileSync(hookOut(kind), 'utf8'));
    assert.is(s.id, id, `${kind} hook: the container`);
    assert.is(s.pid, rpid, `${kind} hook ran at restore, with the restored init's pid`);
  }
  const first = tick(rpid);
  assert.ok(first >= before, `the restored counter starts where it stopped (${first} >= ${before}), not from 0`);
  await until('the restored counter to go on', () => tick(rpid) > first + 2);
  // The restored tasks are in the container's cgroup.
  assert.match(readFileSync(`/proc/${rpid}/cgroup`, 'utf8'), new RegExp(`/${id}$`, 'm'));
  ok(['delete', '--force', id]);
  nothingLeft(id, b);
});

test('--leave-running keeps the container; its image restores under a new id beside it', async () => {
  needCriu();
  const id = uniqueId('ckpt');
  const b = counterBundle();
  const pid = await runCounter(id, b);
  const images = path.join(env.dir, `${id}.img`);
  const work = path.join(env.dir, `${id}.work`);
  ok(['checkpoint', '--leave-running', '--work-path', work, '--file-locks', '--manage-cgroups-mode', 'soft', '--image-path', images, id]);
  assert.ok(existsSync(path.join(work, 'dump.log')), "criu's log went to --work-path");
  assert.is(stateOf(id).status, 'running');
  const after = tick(pid);
  await until('the original to go on counting', () => tick(pid) > after + 2);

  const copy = uniqueId('copy');
  const rpid = restoreD(copy, b, images, ['--work-path', work, '--file-locks', '--manage-cgroups-mode', 'soft']);
  assert.ok(existsSync(path.join(work, 'restore.log')), "criu's restore log went to --work-path");
  assert.ok(rpid !== pid, 'a process of its own');
  assert.is(stateOf(copy).status, 'running');
  const first = tick(rpid);
  await until('the copy to count', () => tick(rpid) > first + 2);
  assert.match(readFileSync(`/proc/${rpid}/cgroup`, 'utf8'), new RegExp(`/${copy}$`, 'm'), 'the copy is in its own cgroup');
  ok(['delete', '--force', copy]);
  ok(['delete', '--force', id]);
  nothingLeft(copy, b);
});

test('a pre-dump, then a dump on top of it (--parent-path), restores', async () => {
  needCriu();
  const id = uniqueId('ckpt');
  const b = counterBundle();
  const pid = await runCounter(id, b);
  const parent = path.join(env.dir, `${id}.pre`);
  const images = path.join(env.dir, `${id}.img`);
  ok(['checkpoint', '--pre-dump', '--image-path', parent, id]);
  assert.is(stateOf(id).status, 'running', 'a pre-dump leaves the container running');
  assert.ok(
    readdirSync(parent).some((f) => f.startsWith('pages-')),
    'the pre-dump wrote memory pages',
  );
  ok(['checkpoint', '--parent-path', `../${path.basename(parent)}`, '--image-path', images, id]);
  assert.ok(gone(pid));
  assert.ok(existsSync(path.join(images, 'parent')), 'criu linked the parent images');
  const rpid = restoreD(id, b, images);
  const first = tick(rpid);
  await until('the restored counter to go on', () => tick(rpid) > first + 2);
  ok(['delete', '--force', id]);
  nothingLeft(id, b);
});

// A Kubernetes pod's containers join the pause container's namespaces by
// path: the network one is external to the dump and handed back to criu as
// an fd at restore; ipc and uts are joined by criu (join_ns), as runc does.
test("a container in another's network, ipc and uts namespaces (a pod) is restored into them", async () => {
  needCriu();
  const pause = uniqueId('pause');
  const pb = env.bundle((c) => (c.process.args = ['sleep', '100000']));
  const ppidFile = path.join(env.dir, `${pause}.pid`);
  ok(['run', '-d', '--pid-file', ppidFile, '--bundle', pb, pause]);
  const ppid = Number(readFileSync(ppidFile, 'utf8'));
  const ns = (pid: number, n: string) => readlinkSync(`/proc/${pid}/ns/${n}`);
  const id = uniqueId('member');
  const b = env.bundle((c) => {
    c.process.args = ['sh', '-c', COUNTER];
    delete c.hostname;
    c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) =>
      ['network', 'ipc', 'uts'].includes(n.type) ? { type: n.type, path: `/proc/${ppid}/ns/${n.type === 'network' ? 'net' : n.type}` } : n,
    );
  });
  const pid = await runCounter(id, b);
  for (const n of ['net', 'ipc', 'uts']) assert.is(ns(pid, n), ns(ppid, n), `the member is in the pause container's ${n} namespace`);
  const images = path.join(env.dir, `${id}.img`);
  ok(['checkpoint', '--image-path', images, id]);
  const rpid = restoreD(id, b, images);
  for (const n of ['net', 'ipc', 'uts']) assert.is(ns(rpid, n), ns(ppid, n), `restored into the pause container's ${n} namespace`);
  assert.is.not(ns(rpid, 'pid'), ns(ppid, 'pid'), 'its own pid namespace');
  const first = tick(rpid);
  await until('the restored counter to go on', () => tick(rpid) > first + 2);
  ok(['delete', '--force', id]);
  ok(['delete', '--force', pause]);
  nothingLeft(id, b);
});

test('a restore that fails (no image, a damaged image) says why in one line and leaves nothing', async () => {
  needCriu();
  const b = counterBundle();
  const missing = path.join(env.dir, 'no-such-image');
  const damaged = path.join(env.dir, 'damaged-image');
  mkdirSync(damaged);
  writeFileSync(path.join(damaged, 'descriptors.json'), '["/dev/null","/dev/null","/dev/null"]');
  writeFileSync(path.join(damaged, 'inventory.img'), 'not an image');
  for (const [images, why] of [
    [missing, /checkpoint image .*no-such-image.*descriptors\.json/],
    [damaged, /criu failed \(RESTORE\)/],
  ] as const) {
    const id = uniqueId('bad');
    const pidFile = path.join(env.dir, `${id}.pid`);
    const r = env.hako(['restore', '-d', '--pid-file', pidFile, '--image-path', images, '--bundle', b, id]);
    assert.is(r.status, 1, r.stderr);
    assert.is(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`container "${id}"`));
    assert.match(r.stderr, why);
    assert.not.ok(existsSync(pidFile), 'no pid file');
    nothingLeft(id, b);
  }
});

// What podman (conmon) and containerd's shim give a container: pipes. The
// image records them (descriptors.json) and restore hands the restoring
// hako's own stdio to criu in their place (inherit_fd), so the restored
// process talks through the new caller's pipes.
const ECHO = 'while read l; do [ "$l" = quit ] && exit 7; echo "got $l"; done';

/**
 * bin/hako with pipes for its stdio, as a supervisor runs it. Real pipes:
 * node's own stdio "pipes" are socket pairs, so two cats stand between the
 * test and hako. hako's stderr joins its stdout, then "hako exited N" is
 * written there when it exits (the container keeps the pipes open).
 */
class Piped {
  static readonly open = new Set<Piped>();
  readonly child: ChildProcessWithoutNullStreams;
  out = '';

  constructor(args: string[]) {
    const cmd = 'r=$1; shift; cat | { "$0" --root "$r" "$@" 2>&1; echo "hako exited $?"; } | cat';
    // Its own process group, so that t.after can end all of it.
    this.child = spawn('sh', ['-c', cmd, HAKO, env.root, ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    Piped.open.add(this);
    this.child.stdout.on('data', (d: Buffer) => (this.out += d.toString()));
  }

  async expect(want: string): Promise<void> {
    await until(`${JSON.stringify(want)} (got ${JSON.stringify(this.out)})`, () => this.out.includes(want));
  }

  /**
   * Ends the stdin the test writes and waits for the pipeline to end: its
   * first cat reads that stdin until EOF, and a child still running would
   * keep node, and so the guest, from ending after the last test.
   */
  async close(): Promise<void> {
    this.child.stdin.end();
    if (this.child.exitCode === null && this.child.signalCode === null) await once(this.child, 'exit');
  }

  /** Writes a line to the container's stdin and waits for its answer. */
  async ask(line: string, want: string): Promise<void> {
    this.child.stdin.write(line + '\n');
    await this.expect(want);
  }
}

test("stdio pipes: the restored process talks through the restoring caller's pipes; a foreground restore waits and exits with it", async () => {
  needCriu();
  const id = uniqueId('pipes');
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', ECHO]));
  const run = new Piped(['run', '-d', '--bundle', b, id]);
  await run.expect('hako exited 0');
  await run.ask('one', 'got one');
  const images = path.join(env.dir, `${id}.img`);
  ok(['checkpoint', '--image-path', images, id]);
  assert.match(readFileSync(path.join(images, 'descriptors.json'), 'utf8'), /pipe:\[\d+\]/);
  await run.close();

  // Detached: hako exits, the restored shell answers on the new pipes.
  const r = new Piped(['restore', '-d', '--image-path', images, '--bundle', b, id]);
  await r.expect('hako exited 0');
  await r.ask('two', 'got two');
  ok(['checkpoint', '--image-path', images, id]);
  await r.close();

  // In the foreground hako waits for the restored init and exits with its status.
  const fg = new Piped(['restore', '--image-path', images, '--bundle', b, id]);
  await fg.ask('three', 'got three');
  fg.child.stdin.write('quit\n');
  await fg.expect('hako exited 7');
  await fg.close();
  assert.match(env.hako(['state', id]).stderr, 'does not exist', 'and deletes the container');
  nothingLeft(id, b);
});

test('a container with a terminal: restore sends the new pty master to --console-socket', async () => {
  needCriu();
  const id = uniqueId('tty');
  const b = env.bundle((c) => {
    c.process.terminal = true;
    c.process.args = ['sh', '-c', COUNTER.replace('exec </dev/null >/dev/null 2>&1; ', '')];
  });
  const first = await new FdReceiver(env.dir, 'console').listen();
  const pidFile = path.join(env.dir, `${id}.pid`);
  ok(['run', '-d', '--console-socket', first.path, '--pid-file', pidFile, '--bundle', b, id]);
  const m1 = (await first.got).fd;
  first.close();
  const pid = Number(readFileSync(pidFile, 'utf8'));
  await until('the counter', () => tick(pid) >= 5);
  const images = path.join(env.dir, `${id}.img`);
  ok(['checkpoint', '--image-path', images, id]);
  closeSync(m1);

  const second = await new FdReceiver(env.dir, 'console').listen();
  const rpid = restoreD(id, b, images, ['--console-socket', second.path]);
  const m2 = (await second.got).fd;
  second.close();
  assert.ok(fstatSync(m2).isCharacterDevice(), 'a pty master came');
  const at = tick(rpid);
  await until('the restored counter to go on', () => tick(rpid) > at + 2);
  assert.match(readlinkSync(`/proc/${rpid}/fd/0`), /^\/dev\/pts\/\d+$/, "the restored shell's stdin is a terminal again");
  ok(['delete', '--force', id]);
  closeSync(m2);
  nothingLeft(id, b);
});

test("podman's probe: checkpoint --help succeeds, and features lists checkpoint, where criu works", () => {
  needCriu();
  for (const cmd of ['checkpoint', 'restore']) assert.match(ok([cmd, '--help']), /--image-path value/);
  assert.is(JSON.parse(ok(['features'])).annotations['org.hako.checkpoint.enabled'], 'true');
});

// podman with hako as its runtime (cgroupfs manager, as in the guest): it
// checks criu's version itself, asks `hako checkpoint --help`, runs `hako
// checkpoint` and, through conmon, `hako restore` with conmon's pipes.
test('podman container checkpoint and restore with hako as the runtime', async () => {
  needCriu();
  if (!['/usr/bin/podman', '/usr/bin/conmon'].every((p) => existsSync(p))) skip('podman and conmon are not installed (make test-clients installs them)');
  const { IMAGE, Podman } = await import('../clients/podman-env.js');
  const pm = new Podman();
  try {
    pm.importImage();
    const name = `hako-ckpt-${process.pid}`;
    pm.ok(['run', '-d', '--name', name, IMAGE, 'sh', '-c', COUNTER]);
    const pidOf = () => Number(pm.ok(['inspect', '--format', '{{.State.Pid}}', name]).stdout.trim());
    const pid = pidOf();
    await until('the counter', () => tick(pid) >= 5);
    pm.ok(['container', 'checkpoint', name]);
    assert.ok(gone(pid), 'checkpointed: the process is gone');
    assert.match(pm.ok(['inspect', '--format', '{{.State.Status}}', name]).stdout, /exited/);
    pm.ok(['container', 'restore', name]);
    const rpid = pidOf();
    assert.match(pm.ok(['inspect', '--format', '{{.State.Status}}', name]).stdout, /running/);
    const first = tick(rpid);
    assert.ok(first >= 5, `the restored counter goes on from where it was (${first})`);
    await until('the restored counter to go on', () => tick(rpid) > first + 2);
    pm.ok(['rm', '--force', '--time', '0', name]);
    assert.equal(pm.leftovers(), []);
  } finally {
    pm.cleanup();
  }
});

test('where criu cannot work, checkpoint and restore say so in one line and change nothing', async () => {
  if (criuWorks() === true) skip('criu works here');
  const id = uniqueId('ckpt');
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  ok(['run', '-d', '--bundle', b, id]);
  const images = path.join(env.dir, `${id}.img`);
  const r = env.hako(['checkpoint', '--image-path', images, id]);
  assert.is(r.status, 1);
  assert.is(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.match(r.stderr, /criu/);
  assert.is(stateOf(id).status, 'running', 'the container runs on');
  writeFileSync(path.join(images, 'descriptors.json'), '[]');
  const copy = uniqueId('copy');
  const r2 = env.hako(['restore', '-d', '--image-path', images, '--bundle', b, copy]);
  assert.is(r2.status, 1);
  assert.is(r2.stderr.trim().split('\n').length, 1, `one line: ${r2.stderr}`);
  assert.match(r2.stderr, /criu/);
  assert.not.ok(existsSync(path.join(env.root, copy)), 'no state directory');
  assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), /criu-root/, 'no criu-root mount');
  ok(['delete', '--force', id]);
  // podman's probe is answered no, and features does not list checkpoint.
  const probe = env.hako(['checkpoint', '--help']);
  assert.is(probe.status, 1);
  assert.match(probe.stderr, /^hako: checkpoint is not supported here: /);
  assert.is(JSON.parse(ok(['features'])).annotations['org.hako.checkpoint.enabled'], undefined);
});

t.run();
