// The preamble every operation on an existing container shares
// (src/container/access.ts): "does not exist", refusals by status, and the
// lock held exactly while the operation runs, sync or async.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ownCgroup, withContainer } from '../../src/container/access.js';
import { HakoError } from '../../src/errors.js';
import { procStat } from '../../src/container/proc.js';
import { FIFO_FILE, Lock, Store, type ContainerRecord } from '../../src/container/store.js';

const root = mkdtempSync(path.join(tmpdir(), 'hako-access-'));
const ctx = { root };

/** A container whose "init" is this process: running, or created with exec.fifo, or stopped (pid 0). */
function make(id: string, status: 'running' | 'created' | 'stopped'): string {
  const dir = path.join(root, id);
  mkdirSync(dir);
  const rec: ContainerRecord = {
    ociVersion: '1.3.0',
    id,
    pid: status === 'stopped' ? 0 : process.pid,
    initStartTime: status === 'stopped' ? '' : procStat(process.pid)!.startTime,
    bundle: '/b',
    rootfs: '/b/rootfs',
    created: '2025-01-01T00:00:00.000000000Z',
    owner: '',
    newNamespaces: 0,
  };
  new Store(root).write(rec);
  if (status === 'created') writeFileSync(path.join(dir, FIFO_FILE), '');
  return dir;
}

/** Whether someone holds the container's lock (a probe through an fd of our own). */
function locked(dir: string): boolean {
  const probe = Lock.tryTake(dir);
  probe?.release();
  return probe === null;
}

const refusal = (e: unknown, message: string, kind: string) => e instanceof HakoError && e.message === message && e.kind === kind;

test.after(() => rmSync(root, { recursive: true, force: true }));

test("a container that does not exist: the clients' words, with and without the lock", () => {
  for (const lock of [true, false]) {
    assert.throws(
      () => withContainer(ctx, 'nope', { lock }, () => 1),
      (e: unknown) => refusal(e, 'container "nope" does not exist', 'not-found'),
    );
  }
});

test('the record, its directory and status reach the operation; its result comes back', () => {
  const dir = make('run1', 'running');
  const got = withContainer(ctx, 'run1', { lock: false }, (c) => [c.id, c.rec.pid, c.dir, c.status, c.prefix('x')]);
  assert.equal(got, ['run1', process.pid, dir, 'running', 'container "run1": x']);
  make('made1', 'created');
  make('gone1', 'stopped');
  assert.is(
    withContainer(ctx, 'made1', { lock: false }, (c) => c.status),
    'created',
  );
  assert.is(
    withContainer(ctx, 'gone1', { lock: false }, (c) => c.status),
    'stopped',
  );
});

test('a status not allowed is refused with the given words, kind state, before the operation runs', () => {
  make('gone2', 'stopped');
  let ran = false;
  const refuse = (s: string, prefix: (m: string) => string) => prefix(`not ${s}`);
  assert.throws(
    () => withContainer(ctx, 'gone2', { lock: true, allow: ['running'], refuse }, () => (ran = true)),
    (e: unknown) => refusal(e, 'container "gone2": not stopped', 'state'),
  );
  assert.not.ok(ran);
  assert.is(
    withContainer(ctx, 'gone2', { lock: true, allow: ['stopped'], refuse }, () => 'ok'),
    'ok',
  );
});

test('the lock is held while a sync operation runs and released after, even when it throws', () => {
  const dir = make('lock1', 'running');
  assert.ok(withContainer(ctx, 'lock1', { lock: true }, () => locked(dir)));
  assert.not.ok(locked(dir));
  assert.throws(
    () =>
      withContainer(ctx, 'lock1', { lock: true }, () => {
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.not.ok(locked(dir));
  assert.not.ok(withContainer(ctx, 'lock1', { lock: false }, () => locked(dir)));
});

test('an async operation keeps the lock until its promise settles, resolved or rejected', async () => {
  const dir = make('lock2', 'running');
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const done = withContainer(ctx, 'lock2', { lock: true }, async () => {
    await gate;
    return locked(dir);
  });
  assert.ok(locked(dir));
  release();
  assert.ok(await done);
  assert.not.ok(locked(dir));
  try {
    await withContainer(ctx, 'lock2', { lock: true }, async () => {
      await Promise.resolve();
      throw new Error('late');
    });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'late');
  }
  assert.not.ok(locked(dir));
});

test('unlock releases early; the release at the end is then harmless', () => {
  const dir = make('lock3', 'running');
  const during = withContainer(ctx, 'lock3', { lock: true }, (c) => {
    c.unlock();
    c.unlock();
    return locked(dir);
  });
  assert.not.ok(during);
  assert.not.ok(locked(dir));
});

test('ownCgroup refuses a container without a cgroup of its own', () => {
  make('nocg', 'running');
  assert.throws(
    () => withContainer(ctx, 'nocg', { lock: false }, (c) => ownCgroup(c, 'no cgroup here')),
    (e: unknown) => refusal(e, 'container "nocg": no cgroup here', 'state'),
  );
});

test.run();
