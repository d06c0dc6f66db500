// hako as a library in a long-running process (issue 14): the containers
// and processes it starts are reaped whichever ends first, their exit
// statuses come back, no fd is left open, calls run side by side, signals
// go by name or number, and every failure is a HakoError with its kind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { text } from 'node:stream/consumers';
import path from 'node:path';
import { Env, HAKO, REPO, uniqueId } from '../helpers.js';
import * as hako from '../../src/index.js';
import { native } from '../../src/native.js';
import { procStat } from '../../src/container/proc.js';

const t = suite('library');
let env: Env;
let ctx: hako.RuntimeContext;
t.before(() => {
  env = new Env();
  ctx = hako.context({ root: env.root });
});
t.after(() => env.cleanup());

/** How many containers the churn test runs: HAKO_LIB_CONTAINERS, 100 by default (about 10 s). */
const CHURN = Number(process.env.HAKO_LIB_CONTAINERS ?? 100);

const bundleOf = (args: string[]) =>
  env.bundle((c) => {
    c.process.args = args;
    c.process.terminal = false;
  });

function churn(mode: string): any {
  const r = spawnSync(
    process.execPath,
    [path.join(REPO, 'out/test/library-churn.js'), env.root, bundleOf(['sh', '-c', 'echo out; exit 7']), bundleOf(['sleep', '1000']), ...mode.split(' ')],
    {
      encoding: 'utf8',
      timeout: 300_000,
    },
  );
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

t(`${CHURN} containers created, started, waited for and deleted leave no zombie and no fd`, () => {
  const r = churn(`${CHURN} 4`);
  assert.equal(r.children, [], 'no child left, zombie or not');
  assert.is(r.after, r.before, 'open fds');
  assert.equal(r.left, [], 'no container left');
  const kills = ['KILL', 'SIGKILL', '9', 'sigkill'];
  const want = Array.from({ length: CHURN }, (_, i) => (i % 2 === 0 ? 'exit:7:out' : `${kills[(i >> 1) % 4]}:SIGKILL`));
  assert.equal(r.results, want, 'every exit status, by name or number');
});

t('control: without the library an exited init stays a zombie of the caller', () => {
  const r = churn('core');
  assert.is(r.children.length, 1);
  assert.match(r.children[0], / Z$/);
  assert.equal(r.after, []);
});

t('exec: output captured, stdin given, exit status', async () => {
  const id = uniqueId('lib-exec');
  await hako.run(ctx, id, { bundle: bundleOf(['sleep', '1000']), stdio: ['ignore', 'ignore', 'ignore'] });
  const p = await hako.exec(ctx, id, { args: ['sh', '-c', 'cat; echo to-err >&2; exit 3'], stdio: ['pipe', 'pipe', 'pipe'] });
  p.stdin!.end('from stdin\n');
  const [out, err, status] = await Promise.all([text(p.stdout!), text(p.stderr!), p.wait()]);
  assert.is(out, 'from stdin\n');
  assert.is(err, 'to-err\n');
  assert.equal(status, { exitCode: 3, signal: null });
  assert.equal(await p.wait(), status, 'wait() again gives the same');
  await hako.remove(ctx, id, { force: true });
});

t("the init's output through a pipe, and its exit status", async () => {
  const id = uniqueId('lib-out');
  const c = await hako.run(ctx, id, { bundle: bundleOf(['sh', '-c', 'echo hello; exit 4']), stdio: ['ignore', 'pipe', 'ignore'] });
  assert.is(c.stdin, null);
  assert.is(c.stderr, null);
  const [out, status] = await Promise.all([text(c.stdout!), hako.wait(ctx, id)]);
  assert.is(out, 'hello\n');
  assert.equal(status, { exitCode: 4, signal: null });
  assert.equal(await hako.wait(ctx, id), status, 'the status stays until delete');
  assert.is((await hako.state(ctx, id)).status, 'stopped');
  await hako.remove(ctx, id);
});

t('calls for one container queue in order; for different ones they run side by side', async () => {
  const ids = [uniqueId('lib-q'), uniqueId('lib-q')];
  const b = bundleOf(['sleep', '1000']);
  // start, kill and delete are issued before create has finished.
  const statuses = await Promise.all(
    ids.map(async (id) => {
      const steps = [hako.create(ctx, id, { bundle: b, stdio: ['ignore', 'ignore', 'ignore'] }), hako.start(ctx, id), hako.kill(ctx, id, 'KILL')];
      const waited = Promise.all(steps).then(() => hako.wait(ctx, id));
      const removed = waited.then(() => hako.remove(ctx, id));
      await removed;
      return waited;
    }),
  );
  assert.equal(statuses, [
    { exitCode: null, signal: 'SIGKILL' },
    { exitCode: null, signal: 'SIGKILL' },
  ]);
});

async function rejects(p: Promise<unknown>, kind: hako.ErrorKind, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, hako.HakoError);
    assert.is((e as hako.HakoError).kind, kind, (e as Error).message);
    assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`no ${kind} error`);
}

t('errors are HakoErrors with a kind; bad signals are refused before anything is looked up', async () => {
  const missing = uniqueId('lib-none');
  await rejects(hako.state(ctx, missing), 'not-found', /does not exist/);
  await rejects(hako.wait(ctx, missing), 'not-found', /does not exist/);
  await rejects(hako.start(ctx, missing), 'not-found', /does not exist/);
  await rejects(hako.remove(ctx, missing), 'not-found', /does not exist/);
  await rejects(hako.kill(ctx, missing, 'BOGUS'), 'usage', /unknown signal "BOGUS"/);
  await rejects(hako.kill(ctx, missing, 65), 'usage', /unknown signal 65/);
  await rejects(hako.kill(ctx, missing, 1.5), 'usage', /unknown signal 1\.5/);
  await rejects(hako.kill(ctx, missing, 'TERM'), 'not-found', /does not exist/);
  await rejects(hako.create(ctx, 'bad/id', { bundle: bundleOf(['true']) }), 'usage', /bad\/id/);
  await rejects(hako.create(ctx, uniqueId('lib-cfg'), { bundle: env.dir }), 'config', /config\.json/);
  await rejects(hako.create(ctx, uniqueId('lib-io'), { bundle: bundleOf(['true']), stdio: ['bogus' as any] }), 'usage', /stdio\[0\]/);
  const id = uniqueId('lib-state');
  await hako.run(ctx, id, { bundle: bundleOf(['sleep', '1000']), stdio: ['ignore', 'ignore', 'ignore'] });
  await rejects(hako.start(ctx, id), 'state', /already running/);
  await rejects(hako.remove(ctx, id), 'state', /not stopped/);
  await rejects(hako.create(ctx, id, { bundle: bundleOf(['true']) }), 'exists', /exists/);
  await hako.remove(ctx, id, { force: true });
});

t("wait() for a container another process created: its exit, no status (it was that process's child)", async () => {
  const id = uniqueId('lib-cli');
  const r = spawnSync(HAKO, ['--root', env.root, 'run', '-d', '--bundle', bundleOf(['sleep', '1000']), id], { stdio: 'ignore' });
  assert.is(r.status, 0);
  const waited = hako.wait(ctx, id);
  await hako.kill(ctx, id, 9);
  assert.equal(await waited, { exitCode: null, signal: null });
  await hako.remove(ctx, id);
});

t('a subreaper gets the containers of a library user that exited first, and reaps them', async () => {
  const n = native();
  const was = n.getChildSubreaper();
  n.setChildSubreaper(true);
  try {
    const id = uniqueId('lib-orphan');
    // A program that creates and starts a container, then exits.
    const script = `import * as h from ${JSON.stringify(path.join(REPO, 'out/src/index.js'))};
      await h.run(h.context({ root: ${JSON.stringify(env.root)} }), ${JSON.stringify(id)}, { bundle: ${JSON.stringify(bundleOf(['sleep', '1000']))}, stdio: ['ignore', 'ignore', 'ignore'] });`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const { pid } = await hako.state(ctx, id);
    assert.is(procStat(pid)?.ppid, process.pid, 'reparented to us');
    await hako.kill(ctx, id, 'KILL');
    assert.equal(await hako.wait(ctx, id), { exitCode: null, signal: 'SIGKILL' });
    await hako.remove(ctx, id);
    assert.is(procStat(pid), null, 'reaped');
  } finally {
    n.setChildSubreaper(was);
  }
});

t.run();
