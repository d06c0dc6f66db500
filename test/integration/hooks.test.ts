// Hooks: each kind runs at its point in the lifecycle, in order, with the
// container state on stdin; failures fail the operation (poststop warns).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Env, uniqueId } from '../helpers.js';

const t = suite('hooks');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

t('every hook kind, in order, with the state on stdin', () => {
  const logDir = path.join(env.dir, uniqueId('hooklog'));
  mkdirSync(logDir);
  const log = path.join(logDir, 'log');
  // Runtime-namespace hooks append "<kind> <state json>" to the log; the two
  // that run in the container write through a bind mount of logDir.
  const hook = (kind: string, file = log) => ({ path: '/bin/sh', args: ['sh', '-c', `printf '%s ' ${kind} >> ${file}; cat >> ${file}; echo >> ${file}`] });
  const b = env.bundle((c) => {
    c.process.args = ['sh', '-c', 'echo main >> /hooklog/log'];
    c.mounts.push({ destination: '/hooklog', source: logDir, options: ['rbind'] });
    c.hooks = {
      prestart: [hook('prestart')],
      createRuntime: [hook('createRuntime')],
      createContainer: [hook('createContainer')],
      startContainer: [hook('startContainer', '/hooklog/log')],
      poststart: [hook('poststart')],
      poststop: [hook('poststop'), hook('poststop2')],
    };
  });
  const id = uniqueId('hooks');
  assert.is(env.hako(['create', '--bundle', b, id]).status, 0);
  const afterCreate = readFileSync(log, 'utf8');
  assert.equal(
    afterCreate
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ')[0]),
    ['prestart', 'createRuntime', 'createContainer'],
  );
  const pid = JSON.parse(env.hako(['state', id]).stdout).pid;
  for (const line of afterCreate.split('\n').filter(Boolean)) {
    const st = JSON.parse(line.slice(line.indexOf(' ') + 1));
    assert.is(st.id, id);
    // Runtime-namespace hooks see the host pid; createContainer runs in the
    // container's pid namespace and sees its own view (1), as with runc.
    assert.is(st.pid, line.startsWith('createContainer') ? 1 : pid);
    assert.is(st.status, 'creating');
    assert.is(st.bundle, b);
  }
  assert.is(env.hako(['start', id]).status, 0);
  for (let i = 0; i < 500 && JSON.parse(env.hako(['state', id]).stdout).status !== 'stopped'; i++)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  assert.is(env.hako(['delete', id]).status, 0);
  const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const kinds = lines.map((l) => l.split(' ')[0]);
  assert.equal(kinds.slice(0, 4), ['prestart', 'createRuntime', 'createContainer', 'startContainer']);
  assert.ok(kinds.indexOf('poststart') > 3);
  assert.equal(kinds.slice(-2), ['poststop', 'poststop2']);
  const ss = JSON.parse(lines[3]!.slice(lines[3]!.indexOf(' ') + 1));
  assert.is(ss.status, 'created');
  const ps = JSON.parse(lines[kinds.indexOf('poststart')]!.slice(lines[kinds.indexOf('poststart')]!.indexOf(' ') + 1));
  assert.is(ps.status, 'running');
  const stop = JSON.parse(lines.at(-1)!.slice(lines.at(-1)!.indexOf(' ') + 1));
  assert.is(stop.status, 'stopped');
});

t('hook args, env and timeout', () => {
  const out = path.join(env.dir, uniqueId('hookenv'));
  const b = env.bundle((c) => {
    c.hooks = {
      createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo "$0 $1 $X" > ${out}`, 'zero', 'one'], env: ['X=from-env'] }],
    };
  });
  const r = env.hako(['run', '--bundle', b, uniqueId('henv')]);
  assert.is(r.status, 0, r.stderr);
  assert.is(readFileSync(out, 'utf8'), 'zero one from-env\n');
  const slow = env.bundle((c) => (c.hooks = { prestart: [{ path: '/bin/sleep', args: ['sleep', '10'], timeout: 1 }] }));
  const id = uniqueId('slow');
  const s = env.hako(['create', '--bundle', slow, id]);
  assert.is(s.status, 1);
  assert.match(s.stderr, /prestart hook #0 \(\/bin\/sleep\): timed out after 1s/);
  assert.is(existsSync(path.join(env.root, id)), false);
});

t('a failing poststop hook warns and delete still succeeds', () => {
  const b = env.bundle((c) => (c.hooks = { poststop: [{ path: '/bin/false' }] }));
  const id = uniqueId('pstop');
  assert.is(env.hako(['run', '--keep', '--bundle', b, id]).status, 0);
  const d = env.hako(['delete', id]);
  assert.is(d.status, 0);
  assert.match(d.stderr, /poststop hook #0 \(\/bin\/false\): exit status 1/);
  assert.is(existsSync(path.join(env.root, id)), false);
});

t('a failing startContainer hook fails start', () => {
  const script = path.join(env.dir, uniqueId('fail.sh'));
  writeFileSync(script, '#!/bin/sh\nexit 4\n');
  chmodSync(script, 0o755);
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '100'];
    c.hooks = { startContainer: [{ path: '/bin/false' }] };
  });
  const id = uniqueId('sfail');
  assert.is(env.hako(['create', '--bundle', b, id]).status, 0);
  const s = env.hako(['start', id]);
  assert.is(s.status, 1);
  assert.match(s.stderr, /startContainer hook/);
  assert.is(env.hako(['delete', '--force', id]).status, 0);
});

t.run();
