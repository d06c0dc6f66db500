// create → created → start → running → stopped → delete, observed through
// `state`, `list` and the processes themselves.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Env, HAKO, uniqueId } from '../helpers.js';

const t = suite('lifecycle');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(f: () => boolean, ms = 5000): Promise<void> {
  for (let i = 0; i < ms / 10; i++) {
    if (f()) return;
    await sleep(10);
  }
  throw new Error('timed out waiting');
}

t('create, state, start, kill, delete', async () => {
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('life');
  const pidFile = path.join(env.dir, `${id}.pid`);
  const c = env.hako(['create', '--bundle', b, '--pid-file', pidFile, id]);
  assert.is(c.stderr, '');
  assert.is(c.status, 0);
  const pidText = readFileSync(pidFile, 'utf8');
  assert.match(pidText, /^\d+$/, 'pid file: decimal, no newline');
  const s1 = JSON.parse(env.hako(['state', id]).stdout);
  assert.is(s1.status, 'created');
  assert.is(s1.pid, Number(pidText));
  assert.is(s1.id, id);
  assert.is(s1.bundle, b);
  assert.is(s1.ociVersion, '1.3.0');
  assert.match(s1.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  assert.equal(s1.annotations, { 'org.hako.example': 'busybox demo' });
  // Between create and start the init is the small launcher, not Node.
  const comm = readFileSync(`/proc/${s1.pid}/comm`, 'utf8').trim();
  assert.not.match(comm, /node|bun/);
  assert.is(existsSync(`/proc/${s1.pid}`), true);

  const st = env.hako(['start', id]);
  assert.is(st.stderr, '');
  assert.is(st.status, 0);
  const s2 = JSON.parse(env.hako(['state', id]).stdout);
  assert.is(s2.status, 'running');
  assert.is(readFileSync(`/proc/${s2.pid}/comm`, 'utf8').trim(), 'sleep');

  const again = env.hako(['start', id]);
  assert.is(again.status, 1);
  assert.match(again.stderr, /already running/);

  const del = env.hako(['delete', id]);
  assert.is(del.status, 1);
  assert.match(del.stderr, /not stopped: running/);

  assert.is(env.hako(['kill', id, 'KILL']).status, 0);
  await until(() => JSON.parse(env.hako(['state', id]).stdout).status === 'stopped');
  const s3 = JSON.parse(env.hako(['state', id]).stdout);
  assert.is(s3.pid, 0);
  const k = env.hako(['kill', id, 'TERM']);
  assert.is(k.status, 1);
  assert.match(k.stderr, /not running/);

  const st2 = env.hako(['start', id]);
  assert.is(st2.status, 1);
  assert.match(st2.stderr, /stopped/);

  assert.is(env.hako(['delete', id]).status, 0);
  const gone = env.hako(['state', id]);
  assert.is(gone.status, 1);
  assert.match(gone.stderr, /does not exist/);
  assert.is(existsSync(path.join(env.root, id)), false);
});

t('delete --force of a missing container exits 0; plain delete and kill exit 1', () => {
  assert.is(env.hako(['delete', '--force', 'nope']).status, 0);
  const d = env.hako(['delete', 'nope']);
  assert.is(d.status, 1);
  assert.match(d.stderr, /does not exist/);
  assert.is(env.hako(['kill', 'nope']).status, 1);
});

t('delete --force stops a running container and a created one', async () => {
  for (const startIt of [true, false]) {
    const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('force');
    assert.is(env.hako(['create', '--bundle', b, id]).status, 0);
    if (startIt) assert.is(env.hako(['start', id]).status, 0);
    const pid = JSON.parse(env.hako(['state', id]).stdout).pid;
    const created = env.hako(['delete', id]);
    assert.is(created.status, 1, 'a plain delete refuses a container that is not stopped');
    const d = env.hako(['delete', '--force', id]);
    assert.is(d.stderr, '');
    assert.is(d.status, 0);
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    assert.ok(stat === '' || / Z /.test(stat), 'the init is dead');
  }
});

t('list: table, json, quiet', () => {
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('list');
  assert.is(env.hako(['create', '--bundle', b, id]).status, 0);
  const js = JSON.parse(env.hako(['list', '--format', 'json']).stdout);
  const me = js.find((s: any) => s.id === id);
  assert.is(me.status, 'created');
  assert.match(env.hako(['list']).stdout, new RegExp(`^ID\\s+PID\\s+STATUS\\s+BUNDLE\\s+CREATED\\s+OWNER\\n[\\s\\S]*${id}\\s+\\d+\\s+created`));
  assert.ok(env.hako(['list', '-q']).stdout.split('\n').includes(id));
  assert.is(env.hako(['delete', '--force', id]).status, 0);
});

t('run: exit status, signal status, --detach, --keep', async () => {
  assert.is(env.sh('exit 3').status, 3);
  // Not the init of a pid namespace: that one is immune to its own kill -9.
  assert.is(env.sh('kill -9 $$', (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'pid'))).status, 137);
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('det');
  const r = env.hako(['run', '-d', '--bundle', b, id]);
  assert.is(r.status, 0);
  assert.is(JSON.parse(env.hako(['state', id]).stdout).status, 'running');
  assert.is(env.hako(['delete', '-f', id]).status, 0);
  const kb = env.bundle((c) => (c.process.args = ['true']));
  const kid = uniqueId('keep');
  assert.is(env.hako(['run', '--keep', '--bundle', kb, kid]).status, 0);
  assert.is(JSON.parse(env.hako(['state', kid]).stdout).status, 'stopped');
  assert.is(env.hako(['delete', kid]).status, 0);
});

t('run forwards signals to the container', async () => {
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done']));
  const child = spawn(HAKO, ['--root', env.root, 'run', '--bundle', b, uniqueId('sig')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let outText = '';
  child.stdout.on('data', (d) => (outText += d));
  await until(() => outText.includes('ready'));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  assert.is(code, 7);
  assert.match(outText, /got-term/);
});

t('two concurrent creates of one id: exactly one wins', async () => {
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('race');
  const go = () =>
    new Promise<number | null>((r) => {
      const c = spawn(HAKO, ['--root', env.root, 'create', '--bundle', b, id], { stdio: 'ignore' });
      c.on('exit', (code) => r(code));
    });
  const codes = await Promise.all([go(), go(), go()]);
  assert.is(codes.filter((c) => c === 0).length, 1, `exit codes ${codes}`);
  assert.is(env.hako(['delete', '--force', id]).status, 0);
});

t('kill by name, SIG name and number', async () => {
  for (const sig of ['KILL', 'SIGKILL', '9']) {
    const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('kill');
    assert.is(env.hako(['run', '-d', '--bundle', b, id]).status, 0);
    assert.is(env.hako(['kill', id, sig]).status, 0);
    await until(() => JSON.parse(env.hako(['state', id]).stdout).status === 'stopped');
    assert.is(env.hako(['delete', id]).status, 0);
  }
  const bad = env.hako(['kill', 'x', 'NOPE']);
  assert.is(bad.status, 1);
});

t('kill --all reaches every process of the container', async () => {
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', 'sleep 1000 & sleep 1000 & wait']));
  const id = uniqueId('all');
  assert.is(env.hako(['run', '-d', '--bundle', b, id]).status, 0);
  const pid = JSON.parse(env.hako(['state', id]).stdout).pid;
  const ns = readlinkSync(`/proc/${pid}/ns/pid`);
  const members = () =>
    readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .filter((n) => {
        try {
          return readlinkSync(`/proc/${n}/ns/pid`) === ns && !/ Z /.test(readFileSync(`/proc/${n}/stat`, 'utf8'));
        } catch {
          return false;
        }
      });
  await until(() => members().length === 3);
  assert.is(env.hako(['kill', '--all', id, 'KILL']).status, 0);
  await until(() => members().length === 0);
  await until(() => JSON.parse(env.hako(['state', id]).stdout).status === 'stopped');
  assert.is(env.hako(['delete', id]).status, 0);
});

t.run();
