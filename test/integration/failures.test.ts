// A failed create says what is wrong in one line, exits 1, and leaves
// nothing behind: no state directory, no process, no mount, no pid file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Env, uniqueId } from '../helpers.js';

const t = suite('failures');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

/** Processes whose root directory is inside `dir`. */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const root = readlinkSync(`/proc/${n}/root`);
      if (root.startsWith(dir)) pids.push(Number(n));
    } catch {
      /* gone or not ours to see */
    }
  }
  return pids;
}

function expectCleanFailure(edit: (c: any) => void, message: RegExp, prepare?: (bundle: string) => void): void {
  const b = env.bundle(edit);
  prepare?.(b);
  const id = uniqueId('fail');
  const pidFile = path.join(env.dir, `${id}.pid`);
  const r = env.hako(['create', '--bundle', b, '--pid-file', pidFile, id]);
  assert.is(r.status, 1, `exit status (stderr: ${r.stderr})`);
  assert.match(r.stderr, message);
  assert.is(r.stderr.trim().split('\n').length, 1, 'one line');
  assert.match(r.stderr, new RegExp(`container "${id}"`));
  assert.is(existsSync(path.join(env.root, id)), false, 'no state directory');
  assert.is(existsSync(pidFile), false, 'no pid file');
  assert.equal(processesUnder(b), [], 'no process');
  assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(b), 'no mount');
}

t('invalid config.json names the JSON path', () => {
  expectCleanFailure((c) => (c.process.args = []), /config\.json: \/process\/args: must NOT have fewer than 1 items/);
  expectCleanFailure((c) => (c.linux.namespaces = [{ type: 'bogus' }]), /config\.json: \/linux\/namespaces\/0\/type/);
  expectCleanFailure((c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: -1, hard: 5 }]), /config\.json: \/process\/rlimits\/0\/soft/);
});

t('missing rootfs', () => {
  expectCleanFailure(() => {}, /\/root\/path: .*no such directory/, (b) => rmSync(path.join(b, 'rootfs'), { recursive: true }));
});

t('missing binary, like runc words it', () => {
  expectCleanFailure((c) => (c.process.args = ['/nonexistent']), /exec: "\/nonexistent": stat \/nonexistent: no such file or directory/);
  expectCleanFailure((c) => (c.process.args = ['no-such-program']), /exec: "no-such-program": executable file not found in \$PATH/);
});

t('failing hooks', () => {
  expectCleanFailure((c) => (c.hooks = { prestart: [{ path: '/bin/false' }] }), /prestart hook #0 \(\/bin\/false\): exit status 1/);
  expectCleanFailure((c) => (c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo oops >&2; exit 2'] }] }), /createRuntime hook #0 \(\/bin\/sh\): exit status 2, stderr: oops/);
  expectCleanFailure((c) => (c.hooks = { createContainer: [{ path: '/bin/false' }] }), /createContainer hook/);
  expectCleanFailure((c) => (c.hooks = { prestart: [{ path: '/no/such/hook' }] }), /prestart hook #0 \(\/no\/such\/hook\)/);
});

t('a mount that cannot be made', () => {
  expectCleanFailure((c) => c.mounts.push({ destination: '/x', type: 'nosuchfs', source: 'none' }), /mount.*\/x/);
  expectCleanFailure((c) => c.mounts.push({ destination: '/x', source: '/no/such/source', options: ['bind'] }), /\/no\/such\/source/);
});

t('bad id, existing id', () => {
  const b = env.bundle();
  const r = env.hako(['create', '--bundle', b, 'bad/id']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /invalid container ID format/);
  const id = uniqueId('dup');
  assert.is(env.hako(['create', '--bundle', b, id]).status, 0);
  const again = env.hako(['create', '--bundle', b, id]);
  assert.is(again.status, 1);
  assert.match(again.stderr, /already exists/);
  assert.is(env.hako(['delete', '--force', id]).status, 0);
});

t('--log-format json writes runc-style error lines', () => {
  const b = env.bundle((c) => (c.process.args = []));
  const log = path.join(env.dir, uniqueId('log.json'));
  const r = env.hako(['--log', log, '--log-format', 'json', 'create', '--bundle', b, uniqueId('log')]);
  assert.is(r.status, 1);
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  const last = JSON.parse(lines.at(-1)!);
  assert.is(last.level, 'error');
  assert.match(last.msg, /\/process\/args/);
  assert.match(last.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.match(r.stderr, /\/process\/args/);
});

t.run();
