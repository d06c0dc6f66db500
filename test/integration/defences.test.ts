// Defences and smaller process features: the sealed launcher copy
// (CVE-2019-5736), socket activation fds, personality, the session keyring,
// and the library API used directly.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readlinkSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Env, HAKO, REPO, uniqueId } from '../helpers.js';

const t = suite('defences');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

t('the waiting init runs from a sealed memfd, not the launcher file', () => {
  const b = env.bundle((c) => (c.process.args = ['sleep', '100']));
  const id = uniqueId('memfd');
  assert.is(env.hako(['create', '--bundle', b, id]).status, 0);
  const pid = JSON.parse(env.hako(['state', id]).stdout).pid;
  assert.match(readlinkSync(`/proc/${pid}/exe`), /^\/memfd:hako-launcher/);
  // Small: the waiting init is a static C program, not an engine.
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  assert.ok(rss < 4096, `init RSS ${rss} kB`);
  assert.is(env.hako(['delete', '--force', id]).status, 0);
});

t('a .env or bunfig.toml in the working directory changes nothing (Bun would read them at start)', () => {
  // The shim runs hako in the bundle directory: a file there must not set
  // hako's environment (HAKO_ADDON picks the native code it loads) or
  // preload a script into it.
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', 'echo ran']));
  writeFileSync(path.join(b, '.env'), `HAKO_ADDON=${path.join(b, 'evil.node')}\nHAKO_LAUNCHER=${path.join(b, 'evil')}\n`);
  writeFileSync(path.join(b, 'bunfig.toml'), 'preload = ["./evil.js"]\n');
  writeFileSync(path.join(b, 'evil.js'), 'console.log("preloaded");\n');
  const r = env.hako(['run', uniqueId('dotenv')], { cwd: b });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'ran\n');
});

t('LISTEN_FDS: socket-activation fds pass through with LISTEN_FDS/LISTEN_PID', () => {
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', 'echo "$LISTEN_FDS $LISTEN_PID"; echo to-fd3 >&3']));
  const r = spawnSync(HAKO, ['--root', env.root, 'run', '--bundle', b, uniqueId('listen')], {
    env: { ...process.env, LISTEN_FDS: '1', LISTEN_PID: String(process.pid) },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  assert.is(r.status, 0, String(r.stderr));
  assert.is(String(r.stdout), '1 1\n');
  assert.is(String(r.output[3]), 'to-fd3\n');
});

t('personality LINUX32', () => {
  const r = env.sh('uname -m', (c) => (c.linux.personality = { domain: 'LINUX32' }));
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^i[3-6]86\n$/);
});

t('a new session keyring named after the container, unless --no-new-keyring', () => {
  const id = uniqueId('keys');
  // runc's default config masks /proc/keys: unmask it to look.
  const unmask = (c: any) => (c.linux.maskedPaths = c.linux.maskedPaths.filter((p: string) => p !== '/proc/keys'));
  const b = env.bundle((c) => {
    c.process.args = ['sh', '-c', 'grep -c "_ses\\.' + id + ':" /proc/keys || true'];
    unmask(c);
  });
  const r = env.hako(['run', '--bundle', b, id]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), '1');
  const b2 = env.bundle((c) => {
    c.process.args = ['sh', '-c', 'grep -c "_ses\\.' + id + '2:" /proc/keys || true'];
    unmask(c);
  });
  const r2 = env.hako(['run', '--no-new-keyring', '--bundle', b2, `${id}2`]);
  assert.is(r2.stdout.trim(), '0');
});

t('the library API: create, start, state, kill, delete without the CLI', async () => {
  const hako = await import(path.join(REPO, 'out/src/index.js'));
  const ctx = hako.context({ root: env.root });
  const b = env.bundle((c) => (c.process.args = ['sleep', '100']));
  const id = uniqueId('lib');
  const created = await hako.create(ctx, id, { bundle: b });
  assert.ok(created.pid > 0);
  assert.is((await hako.state(ctx, id)).status, 'created');
  await hako.start(ctx, id);
  assert.is((await hako.state(ctx, id)).status, 'running');
  assert.ok((await hako.list(ctx)).some((s: any) => s.id === id));
  await hako.kill(ctx, id, 9);
  await hako.delete(ctx, id, { force: true });
  await hako.state(ctx, id).then(
    () => assert.unreachable(),
    (e: any) => assert.match(e.message, /does not exist/),
  );
  try {
    await hako.create(ctx, 'bad/id', { bundle: b });
    assert.unreachable();
  } catch (e: any) {
    assert.instance(e, hako.HakoError);
  }
});

t.run();
