// --pidfd-socket (runc 1.2) on create, run and exec: the caller's unix
// socket receives a pidfd of the container's init (or of the exec'd
// process), one SCM_RIGHTS message named as runc names it ("standard",
// "setns"). A receiver here plays the caller: it checks that what came is
// a pidfd of exactly that process (fdinfo "Pid:") and signals through it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { native } from '../../src/native.js';
import { FdReceiver } from '../fd-receiver.js';
import { Env, uniqueId } from '../helpers.js';

const t = suite('pidfd-socket');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

/** The pid a pidfd refers to, as the kernel reports it in our pid namespace; NaN when the fd is no pidfd. */
function pidOfPidfd(fd: number): number {
  const info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  const m = /^Pid:\s*(-?\d+)$/m.exec(info);
  return m ? Number(m[1]) : NaN;
}

const SIGKILL = 9;
const state = (id: string) => JSON.parse(env.hako(['state', id]).stdout) as { pid: number; status: string };

t('create --pidfd-socket: a pidfd of the init, named "standard"; a signal through it reaches the init', async () => {
  const rx = await new FdReceiver(env.dir, 'pidfd').listen();
  const b = env.bundle((c) => (c.process.args = ['sleep', '600']));
  const id = uniqueId('pidfd');
  try {
    const r = env.hako(['create', '--pidfd-socket', rx.path, '--bundle', b, id]);
    assert.is(r.status, 0, r.stderr);
    const { fd, name } = await rx.got;
    try {
      assert.is(name, 'standard');
      const pid = state(id).pid;
      assert.is(pidOfPidfd(fd), pid);
      native().pidfdSendSignal(fd, SIGKILL);
      // The pidfd turns readable when the process exits.
      assert.is(native().poll(fd, native().constants.POLLIN, 10_000) > 0, true);
    } finally {
      native().close(fd);
    }
    assert.is(state(id).status, 'stopped');
  } finally {
    rx.close();
    env.hako(['delete', '--force', id]);
  }
});

t('run -d --pidfd-socket: the same, and the container runs', async () => {
  const rx = await new FdReceiver(env.dir, 'pidfd').listen();
  const b = env.bundle((c) => (c.process.args = ['sleep', '600']));
  const id = uniqueId('pidfd');
  try {
    const r = env.hako(['run', '-d', '--pidfd-socket', rx.path, '--bundle', b, id]);
    assert.is(r.status, 0, r.stderr);
    const { fd, name } = await rx.got;
    try {
      assert.is(name, 'standard');
      const st = state(id);
      assert.is(st.status, 'running');
      assert.is(pidOfPidfd(fd), st.pid);
    } finally {
      native().close(fd);
    }
  } finally {
    rx.close();
    env.hako(['delete', '--force', id]);
  }
});

t('exec --pidfd-socket: a pidfd of the exec\'d process, named "setns"', async () => {
  const rx = await new FdReceiver(env.dir, 'pidfd').listen();
  const b = env.bundle((c) => (c.process.args = ['sleep', '600']));
  const id = uniqueId('pidfd');
  const pidFile = path.join(env.dir, `${id}.pid`);
  try {
    assert.is(env.hako(['run', '-d', '--bundle', b, id]).status, 0);
    const r = env.hako(['exec', '-d', '--pid-file', pidFile, '--pidfd-socket', rx.path, id, 'sleep', '500']);
    assert.is(r.status, 0, r.stderr);
    const { fd, name } = await rx.got;
    try {
      assert.is(name, 'setns');
      const pid = Number(readFileSync(pidFile, 'utf8'));
      assert.is(pidOfPidfd(fd), pid);
      assert.is.not(pid, state(id).pid);
      native().pidfdSendSignal(fd, SIGKILL);
      assert.is(native().poll(fd, native().constants.POLLIN, 10_000) > 0, true);
      // The init is untouched.
      assert.is(state(id).status, 'running');
    } finally {
      native().close(fd);
    }
  } finally {
    rx.close();
    env.hako(['delete', '--force', id]);
  }
});

t('--pidfd-socket nobody listens on: create fails naming it, and leaves nothing', () => {
  const b = env.bundle((c) => (c.process.args = ['sleep', '600']));
  const id = uniqueId('pidfd');
  const sock = path.join(env.dir, 'nobody-listens.sock');
  const r = env.hako(['create', '--pidfd-socket', sock, '--bundle', b, id]);
  assert.is.not(r.status, 0);
  assert.match(r.stderr, /--pidfd-socket .*nobody-listens\.sock/);
  assert.is(env.hako(['state', id]).status, 1);
});

t.run();
