// Hostile input from users: refused in one clear line that says where,
// with nothing left behind (state, cgroup, mount, process, temporary file)
// and the id free for the next try.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Env, uniqueId } from '../helpers.js';
import { cgroupsNamed, mountsNaming, processesOf, tempFilesUnder } from '../leftovers.js';

const t = suite('input-faults');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

function assertNothingLeft(id: string, bundle: string): void {
  assert.is(existsSync(path.join(env.root, id)), false, 'no state directory');
  assert.equal(cgroupsNamed(id), [], 'no cgroup');
  assert.equal(mountsNaming(bundle), [], 'no mount');
  assert.equal(processesOf(bundle), [], 'no process');
  assert.equal(tempFilesUnder(env.dir), [], 'no temporary file');
}

/** create fails with exactly `line` (after "hako: "), leaves nothing, and the id then works. */
function refusedThenUsable(bundle: string, id: string, line: string | RegExp, extra: string[] = []): void {
  const r = env.hako(['create', ...extra, '--bundle', bundle, id]);
  assert.is(r.status, 1, r.stderr);
  if (typeof line === 'string') assert.is(r.stderr, `hako: container "${id}": ${line}\n`);
  else assert.match(r.stderr, line);
  assert.is(r.stderr.split('\n').length, 2, 'one line');
  assertNothingLeft(id, bundle);
}

function usable(id: string): void {
  const good = env.bundle();
  assert.is(env.hako(['create', '--bundle', good, id]).status, 0);
  assert.is(env.hako(['delete', '--force', id]).status, 0);
  assertNothingLeft(id, good);
}

t('config.json with invalid UTF-8: refused at its byte offset', () => {
  const b = env.bundle();
  const text = readFileSync(path.join(b, 'config.json'));
  const at = text.indexOf('"true"') + 2;
  const bad = Buffer.concat([text.subarray(0, at), Buffer.from([0xff]), text.subarray(at)]);
  writeFileSync(path.join(b, 'config.json'), bad);
  const id = uniqueId('in');
  refusedThenUsable(b, id, `config.json: not valid UTF-8 at byte offset ${at} (0xff)`);
  usable(id);
});

t('config.json with a lone surrogate escape: refused at its JSON path', () => {
  const b = env.bundle();
  const file = path.join(b, 'config.json');
  writeFileSync(file, readFileSync(file, 'utf8').replace('"true"', '"tr\\udc80ue"'));
  const id = uniqueId('in');
  refusedThenUsable(b, id, 'config.json: /process/args/0: the string holds an unpaired surrogate escape (\\udc80), which is no character');
});

t('config.json nested 10^5 deep: refused, no stack overflow text', () => {
  const b = env.bundle();
  const file = path.join(b, 'config.json');
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, '{"x-deep":' + '['.repeat(100_000) + ']'.repeat(100_000) + ',' + text.slice(text.indexOf('{') + 1));
  const id = uniqueId('in');
  refusedThenUsable(b, id, 'config.json: nested deeper than 1000 levels at line 1, column 1010');
});

t('--pid-file naming an existing directory: refused, no temporary file beside it', () => {
  const b = env.bundle((c) => (c.process.args = ['sleep', '10']));
  const dir = path.join(env.dir, 'pid-dir');
  mkdirSync(dir);
  const id = uniqueId('in');
  refusedThenUsable(b, id, `pid file ${dir}: is a directory`, ['--pid-file', dir]);
  assert.equal(readdirSync(dir), []);
  assert.equal(
    readdirSync(env.dir).filter((n) => n.startsWith('.pid-dir')),
    [],
    'no .pid-dir.PID.tmp',
  );
  usable(id);
});

t('--preserve-fds naming fds that are not open: said so, nothing left', () => {
  const b = env.bundle();
  const id = uniqueId('in');
  // env.hako passes only fds 0-2.
  // (The first few may be the engine's own: the first missing one is named.)
  refusedThenUsable(
    b,
    id,
    new RegExp(`^hako: container "${id}": fd \\d+ is to be passed to the container \\(--preserve-fds 40, or LISTEN_FDS\\), but it is not open\n$`),
    ['--preserve-fds', '40'],
  );
  usable(id);
});

t('exec --process and update -r with invalid UTF-8: refused at the byte offset', () => {
  const b = env.bundle((c) => (c.process.args = ['sleep', '100']));
  const id = uniqueId('in');
  assert.is(env.hako(['run', '-d', '--bundle', b, id]).status, 0);
  try {
    const proc = path.join(env.dir, 'process.json');
    writeFileSync(proc, Buffer.concat([Buffer.from('{"args":["a'), Buffer.from([0xc3, 0x28]), Buffer.from('"],"cwd":"/"}')]));
    const r = env.hako(['exec', '--process', proc, id]);
    assert.is(r.status, 255);
    assert.is(r.stderr, 'hako: exec failed: process.json: not valid UTF-8 at byte offset 11 (0xc3)\n');
    const res = path.join(env.dir, 'resources.json');
    writeFileSync(res, Buffer.concat([Buffer.from('{"pids":{"limit":'), Buffer.from([0xa0]), Buffer.from('}}')]));
    const u = env.hako(['update', '-r', res, id]);
    assert.is(u.status, 1);
    assert.is(u.stderr, `hako: ${res}: not valid UTF-8 at byte offset 17 (0xa0)\n`);
    const ps = env.hako(['ps', '--format', 'json', id]);
    assert.is(JSON.parse(ps.stdout).length, 1, 'no exec process left');
  } finally {
    assert.is(env.hako(['delete', '--force', id]).status, 0);
  }
  assertNothingLeft(id, b);
});

t.run();
