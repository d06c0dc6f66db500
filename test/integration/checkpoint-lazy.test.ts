// checkpoint --lazy-pages and restore --lazy-pages, in the order runc's
// own integration test runs them: the dump stays running as a page server
// (--page-server) once criu has written everything but the memory, saying
// so with one \0 on --status-fd; `criu lazy-pages` connects to it; the
// restore (under a new id: the checkpointed container is only gone once
// its last page was sent) takes its memory from that daemon through
// userfaultfd. Both background processes end by themselves once every
// page went across. Runs in the criu lane's 6.1 guest
// (scripts/vm/test-criu.sh '^checkpoint-lazy\.test\.js$').
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { skip, skippable } from '../skip.js';
import { Env, HAKO, uniqueId } from '../helpers.js';
import { COUNTER, criuHelpers, gone, needCriu, tick, until } from './criu-helpers.js';

const t = suite('checkpoint-lazy');
const test = skippable(t, 'checkpoint-lazy');
let env: Env;
const started: ChildProcess[] = [];
t.before(() => {
  env = new Env();
});
t.after(() => {
  // What a failed test left running would keep node, and so the guest, up.
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  env.cleanup();
});

const { ok, runCounter, stateOf, nothingLeft, failsOneLine } = criuHelpers(() => env);

/** A TCP port free on 127.0.0.1 now (the kernel's pick, released again). */
async function freePort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const addr = s.address();
  s.close();
  await once(s, 'close');
  if (!addr || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

/** A background process whose output goes to files in env.dir (read with `output`). */
function background(cmd: string, args: string[], name: string, extra: 'pipe'[] = []): { child: ChildProcess; output: () => string; exit: Promise<unknown[]> } {
  const file = path.join(env.dir, `${name}.out`);
  const fd = openSync(file, 'w');
  try {
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd, ...extra] });
    started.push(child);
    return { child, output: () => readFileSync(file, 'utf8'), exit: once(child, 'exit') };
  } finally {
    closeSync(fd);
  }
}

/** The first byte `r` gives, or undefined at its end. */
async function firstByte(r: Readable): Promise<number | undefined> {
  for await (const chunk of r) return (chunk as Buffer)[0];
  return undefined;
}

/** The last "Error" lines of a criu log, for a failure's message. */
function criuErrors(log: string): string {
  if (!existsSync(log)) return `(no ${path.basename(log)})`;
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => /Error|\bfail/i.test(l))
    .slice(-5)
    .join(' | ');
}

test('--lazy-pages: the dump serves the pages to criu lazy-pages, the restored counter goes on from where it was, both end by themselves', async () => {
  needCriu();
  const uffd = spawnSync('criu', ['check', '--feature', 'uffd-noncoop'], { encoding: 'utf8' });
  if (uffd.status !== 0) skip(`criu check --feature uffd-noncoop: ${(uffd.stdout + uffd.stderr).trim().split('\n').pop()}`);
  const id = uniqueId('lazy');
  const rid = uniqueId('lazyr');
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', COUNTER]));
  const pid = await runCounter(id, b);
  const images = path.join(env.dir, `${id}.img`);
  const port = await freePort();

  // The status fd is the child's fd 3 (a socket of node's): one \0 comes when criu is ready.
  const ckpt = background(
    HAKO,
    ['--root', env.root, 'checkpoint', '--lazy-pages', '--page-server', `127.0.0.1:${port}`, '--status-fd', '3', '--image-path', images, id],
    'checkpoint',
    ['pipe'],
  );
  const status = ckpt.child.stdio[3] as Readable;
  // Not a timed assertion: a bound on a wait that would otherwise hold the guest up until its own timeout.
  let timer: NodeJS.Timeout | undefined;
  const ready = await Promise.race([
    firstByte(status),
    ckpt.exit.then(() => 'exited' as const),
    new Promise((res) => (timer = setTimeout(() => res('no byte in 120 s'), 120_000))),
  ]);
  clearTimeout(timer);
  status.destroy();
  assert.is(ready, 0, `\\0 on --status-fd (checkpoint: ${ckpt.output().trim()}; dump.log: ${criuErrors(path.join(images, 'dump.log'))})`);
  assert.ok(existsSync(path.join(images, 'inventory.img')), 'inventory.img written before the pages');
  // The dumped tasks wait (frozen) for their pages to be taken.
  assert.not.ok(gone(pid), 'the checkpointed init waits for its pages to go');
  const before = tick(pid);

  const lazy = background(
    'criu',
    ['lazy-pages', '--page-server', '--address', '127.0.0.1', '--port', String(port), '-D', images, '-v4', '-o', 'lazy-pages.log'],
    'lazy-pages',
  );
  const r = env.hako(['restore', '-d', '--lazy-pages', '--pid-file', path.join(env.dir, `${rid}.pid`), '--image-path', images, '--bundle', b, rid]);
  assert.is(
    r.status,
    0,
    `restore --lazy-pages: ${r.stderr} (restore.log: ${criuErrors(path.join(images, 'restore.log'))}; lazy-pages: ${lazy.output().trim()})`,
  );
  const rpid = Number(readFileSync(path.join(env.dir, `${rid}.pid`), 'utf8'));
  assert.is(stateOf(rid).status, 'running');

  // Its count goes on from the dumped one: the shell's counter, in its
  // memory, came through the lazy-pages daemon.
  const at = tick(rpid);
  assert.ok(at >= before, `restored at ${at}, dumped at ${before}`);
  await until('the restored counter to go on', () => tick(rpid) > at + 2);

  const [code] = await ckpt.exit;
  assert.is(code, 0, `checkpoint exits 0 once the pages went (${ckpt.output().trim()}; dump.log: ${criuErrors(path.join(images, 'dump.log'))})`);
  const [lcode] = await lazy.exit;
  assert.is(lcode, 0, `criu lazy-pages exits 0 (${lazy.output().trim()}; lazy-pages.log: ${criuErrors(path.join(images, 'lazy-pages.log'))})`);
  assert.ok(gone(pid), 'the checkpointed init is gone');
  assert.match(env.hako(['state', id]).stderr, 'does not exist');
  await until('the restored counter to go on after the last page', () => tick(rpid) > at + 5);

  ok(['delete', '--force', rid]);
  nothingLeft(id, b);
  nothingLeft(rid, b);
});

// Checked before criu runs, so this runs where criu cannot work too.
test('--lazy-pages with a --status-fd that is not open: one line naming it, no image directory, the container runs on', async () => {
  const id = uniqueId('lazyfd');
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', COUNTER]));
  const pid = await runCounter(id, b);
  const images = path.join(env.dir, `${id}.img`);
  failsOneLine(['checkpoint', '--lazy-pages', '--status-fd', '99', '--image-path', images, id], id, /--status-fd 99: not an open file descriptor/);
  assert.not.ok(existsSync(images), 'no image directory');
  assert.is(stateOf(id).status, 'running');
  const at = tick(pid);
  await until('the counter to go on', () => tick(pid) > at + 2);
  ok(['delete', '--force', id]);
  nothingLeft(id, b);
});

t.run();
