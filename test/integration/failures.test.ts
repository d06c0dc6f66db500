// A failed create says what is wrong in one line, exits 1, and leaves
// nothing behind: no state directory, no process, no mount, no pid file.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Env, expectCleanFailure as cleanFailure, uniqueId } from '../helpers.js';

const t = suite('failures');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const expectCleanFailure = (edit: (c: any) => void, message: RegExp, prepare?: (bundle: string) => void) => cleanFailure(env, edit, message, prepare);

t('invalid config.json names the JSON path', () => {
  expectCleanFailure((c) => (c.process.args = []), /config\.json: \/process\/args: must NOT have fewer than 1 items/);
  expectCleanFailure((c) => (c.linux.namespaces = [{ type: 'bogus' }]), /config\.json: \/linux\/namespaces\/0\/type/);
  expectCleanFailure((c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: -1, hard: 5 }]), /config\.json: \/process\/rlimits\/0\/soft/);
});

t('missing rootfs', () => {
  expectCleanFailure(
    () => {},
    /\/root\/path: .*no such directory/,
    (b) => rmSync(path.join(b, 'rootfs'), { recursive: true }),
  );
});

t('missing binary, like runc words it', () => {
  expectCleanFailure((c) => (c.process.args = ['/nonexistent']), /exec: "\/nonexistent": stat \/nonexistent: no such file or directory/);
  expectCleanFailure((c) => (c.process.args = ['no-such-program']), /exec: "no-such-program": executable file not found in \$PATH/);
});

t('failing hooks', () => {
  expectCleanFailure((c) => (c.hooks = { prestart: [{ path: '/bin/false' }] }), /prestart hook #0 \(\/bin\/false\): exit status 1/);
  expectCleanFailure(
    (c) => (c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo oops >&2; exit 2'] }] }),
    /createRuntime hook #0 \(\/bin\/sh\): exit status 2, stderr: oops/,
  );
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
