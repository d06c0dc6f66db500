// `events`: `--stats` prints one JSON line in runc's shape; the stream
// prints stats every interval and an oom event when the OOM killer strikes,
// and ends (status 0) when the container stops. Short intervals: this runs
// in the slow v2 VM lane too.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Env, HAKO, uniqueId } from '../helpers.js';

const t = suite('events');
const test = skippable(t, 'events');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const MiB = 1024 * 1024;
const guest = process.env.HAKO_VM_GUEST === '1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function start(script: string, resources: object = {}): { id: string; pid: number } {
  const id = uniqueId('ev');
  const b = env.bundle((c) => {
    c.process.args = ['sh', '-c', script];
    c.linux.resources = { ...c.linux.resources, ...resources };
  });
  // The pid from --pid-file: a `state` call costs seconds in the VM lane.
  const r = env.hako(['run', '-d', '--pid-file', `${b}.pid`, '--bundle', b, id]);
  assert.is(r.status, 0, r.stderr);
  return { id, pid: Number(readFileSync(`${b}.pid`, 'utf8')) };
}

/** `hako events` in the background, its stdout split into parsed lines. */
function stream(args: string[]) {
  const child = spawn(HAKO, ['--root', env.root, 'events', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: any[] = [];
  let buf = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      events.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d));
  // 'close': every event line has been read, not only the process gone.
  const exited = once(child, 'close') as Promise<[number | null, string | null]>;
  return {
    events,
    stderr: () => err,
    async until(what: string, cond: () => boolean, ms = 30_000) {
      const end = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > end) {
          child.kill('SIGKILL');
          assert.unreachable(`timed out waiting for ${what}; got ${JSON.stringify(events.map((e) => e.type))}, stderr ${err}`);
        }
        await sleep(50);
      }
    },
    async exit(ms = 30_000): Promise<number | null> {
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      const [code, signal] = await exited;
      clearTimeout(timer);
      assert.is(signal, null, 'events ended by itself');
      return code;
    },
  };
}

test("--stats: one JSON line, runc's shape, the container's limits and usage", () => {
  const { id } = start('sleep 1000', { memory: { limit: 64 * MiB }, pids: { limit: 50 } });
  const r = env.hako(['events', '--stats', id]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  assert.ok(r.stdout.endsWith('\n') && r.stdout.indexOf('\n') === r.stdout.length - 1, 'exactly one line');
  const e = JSON.parse(r.stdout);
  assert.equal(Object.keys(e), ['type', 'id', 'data']);
  assert.is(e.type, 'stats');
  assert.is(e.id, id);
  for (const k of ['cpu', 'memory', 'pids', 'blkio']) assert.type(e.data[k], 'object', `data.${k}`);
  assert.is(e.data.pids.limit, 50);
  assert.ok(e.data.pids.current >= 1, 'pids.current counts the init');
  assert.is(e.data.memory.usage.limit, 64 * MiB);
  assert.ok(e.data.memory.usage.usage > 0, 'memory is in use');
  assert.type(e.data.cpu.usage.total, 'number');
  assert.is(env.hako(['delete', '--force', id]).status, 0);
});

test('the stream: stats every interval until the container stops, then status 0', async () => {
  const { id } = start('sleep 1000');
  const s = stream(['--interval', '200ms', id]);
  await s.until('two stats events', () => s.events.length >= 2);
  assert.is(env.hako(['kill', id, 'KILL']).status, 0);
  assert.is(await s.exit(), 0, s.stderr());
  assert.ok(s.events.every((e) => e.type === 'stats' && e.id === id && typeof e.data === 'object'));
  assert.is(s.stderr(), '');
  assert.is(env.hako(['delete', id]).status, 0);
});

test('an OOM kill is an oom event', async () => {
  // tail of /dev/zero (no newline, ever) grows until the OOM killer takes
  // it; the container waits for the go-ahead so the stream sees it happen.
  const { id, pid } = start('while [ ! -e /dev/shm/go ]; do usleep 20000; done; tail /dev/zero; sleep 1', { memory: { limit: 16 * MiB, swap: 16 * MiB } });
  const s = stream(['--interval', '300ms', id]);
  await s.until('a stats event', () => s.events.length >= 1);
  writeFileSync(`/proc/${pid}/root/dev/shm/go`, '');
  assert.is(await s.exit(60_000), 0, s.stderr());
  const ooms = s.events.filter((e) => e.type === 'oom');
  assert.ok(ooms.length >= 1, `an oom event among ${JSON.stringify(s.events.map((e) => e.type))}`);
  assert.equal(ooms[0], { type: 'oom', id });
  assert.is(env.hako(['delete', id]).status, 0);
});

// Not about the cgroup layout: the v2 VM lane, where every command costs
// seconds, leaves this to the host.
test("errors: runc's words for a stopped container and a bad interval", async () => {
  if (guest) skip('runs on the host only: the guest leaves it to the host');
  const { id, pid } = start('true');
  for (let i = 0; i < 400 && existsSync(`/proc/${pid}/status`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')); i++) await sleep(50);
  let r = env.hako(['events', '--stats', id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, `container with id ${id} is not running`);
  r = env.hako(['events', id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, `container with id ${id} is not running`);
  r = env.hako(['events', '--interval', '0s', id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, 'duration interval must be greater than 0');
  r = env.hako(['events', '--stats', 'no-such-container']);
  assert.is(r.status, 1);
  assert.match(r.stderr, 'does not exist');
  assert.is(env.hako(['delete', id]).status, 0);
});

t.run();
