// The launcher, the init and hako each wait on the others; each wait must
// end when the other side dies. strace kills a process at an exact point of
// the protocol (its Nth sendto), so every case is deterministic:
//
// - `inject=sendto:error=EAGAIN:signal=SIGPIPE:when=1`: every tracee's first
//   sendto fails with EAGAIN (not performed) and gets SIGPIPE. hako's first
//   is the plan: it ignores SIGPIPE (a handler) and writes again. The
//   launcher's first is the pid report (MSG_PID / MSG_EXEC_PID): SIGPIPE
//   kills it (default action) after it cloned the process, before it said
//   which one. That process is hako's child (CLONE_PARENT) and holds the
//   launcher's end of the socket, so no end of file comes by itself.
// - `inject=sendto:error=EAGAIN:signal=KILL:when=2`: hako's second sendto is
//   MSG_GO: hako dies while the init (or the exec'd process) waits for it.
// - `inject=rename:error=EIO:signal=KILL:when=2`: hako's second rename is the
//   state.json that records the init's pid: hako dies after MSG_READY, before
//   the record, while the init waits for MSG_COMMIT.
//
// strace -f follows every process hako, the launcher and the init make, and
// exits only once all of them have: its exit is the proof that nothing is
// left blocked. A test-only switch in hako or the launcher would have done
// the same with less machinery, but would be one more thing in the release
// binary that makes it die on request.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Env, HAKO, uniqueId } from '../helpers.js';
import { cgroupsNamed, hakoIsBun, haveStrace, mountsNaming, processesOf, runCaptured } from '../leftovers.js';

const t = suite('launcher-death');
const test = skippable(t, 'launcher-death');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const KILL_LAUNCHER = 'inject=sendto:error=EAGAIN:signal=SIGPIPE:when=1';
const KILL_HAKO_AT_GO = 'inject=sendto:error=EAGAIN:signal=KILL:when=2';
const KILL_HAKO_AT_RECORD = 'inject=rename:error=EIO:signal=KILL:when=2';

function hakoUnderStrace(inject: string, args: string[]) {
  const traced = /^inject=(\w+):/.exec(inject)![1]!;
  const r = runCaptured(['strace', '-f', '-qq', '-o', '/dev/null', '-e', `trace=${traced}`, '-e', inject, HAKO, '--root', env.root, ...args], env.dir, 60_000);
  assert.is(r.timedOut, false, `strace (so some process it follows) still ran after 60 s; stderr: ${r.stderr}`);
  return r;
}

function preconditions(): void {
  assert.ok(haveStrace(), 'strace is missing: `make deps` installs it (APT_PACKAGES)');
  // Node's libuv writes the socket with write(2), not sendto: the counts
  // above are the Bun executable's.
  if (!hakoIsBun()) skip("bin/hako is a Node script; these cases count the Bun build's sendto calls");
}

function assertNothingLeft(id: string, bundle: string): void {
  assert.is(existsSync(path.join(env.root, id)), false, 'no state directory');
  assert.equal(cgroupsNamed(id), [], 'no cgroup');
  assert.equal(mountsNaming(bundle), [], 'no mount');
  assert.equal(processesOf(bundle), [], 'no process');
}

test('create: the launcher dies after the clone, before it reports the pid', () => {
  preconditions();
  const b = env.bundle((c) => (c.process.args = ['sleep', '100']));
  const id = uniqueId('ld');
  const r = hakoUnderStrace(KILL_LAUNCHER, ['create', '--bundle', b, id]);
  assert.is(r.status, 1, r.stderr);
  assert.is(r.stderr, `hako: container "${id}": the launcher was killed by SIGPIPE before it had started the container\n`);
  assertNothingLeft(id, b);
  // The id is free again.
  assert.is(env.hako(['create', '--bundle', b, id]).status, 0);
  assert.is(env.hako(['delete', '--force', id]).status, 0);
  assertNothingLeft(id, b);
});

test('run: the same, through run', () => {
  preconditions();
  const b = env.bundle();
  const id = uniqueId('ld');
  const r = hakoUnderStrace(KILL_LAUNCHER, ['run', '--bundle', b, id]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /^hako: container "[^"]+": the launcher was killed by SIGPIPE before it had started the container\n$/);
  assertNothingLeft(id, b);
});

test('exec: the exec launcher dies after the clone, before it reports the pid', () => {
  preconditions();
  const b = env.bundle((c) => (c.process.args = ['sleep', '100']));
  const id = uniqueId('ld');
  assert.is(env.hako(['run', '-d', '--bundle', b, id]).status, 0);
  try {
    const r = hakoUnderStrace(KILL_LAUNCHER, ['exec', id, 'sleep', '50']);
    assert.is(r.status, 255, r.stderr);
    assert.is(r.stderr, `hako: exec failed: container "${id}": the launcher was killed by SIGPIPE before it had started the process\n`);
    // Only the init is left in the container, and it still serves.
    const ps = env.hako(['ps', '--format', 'json', id]);
    assert.is(JSON.parse(ps.stdout).length, 1, ps.stdout);
    assert.is(env.hako(['exec', id, 'true']).status, 0);
  } finally {
    assert.is(env.hako(['delete', '--force', id]).status, 0);
  }
  assertNothingLeft(id, b);
});

test('exec: hako dies while the process waits for MSG_GO; the process ends', () => {
  preconditions();
  const b = env.bundle((c) => (c.process.args = ['sleep', '100']));
  const id = uniqueId('ld');
  assert.is(env.hako(['run', '-d', '--bundle', b, id]).status, 0);
  try {
    const r = hakoUnderStrace(KILL_HAKO_AT_GO, ['exec', id, 'sleep', '50']);
    // strace dies of the signal that killed hako.
    assert.is(r.signal, 'SIGKILL', r.stderr);
    const ps = env.hako(['ps', '--format', 'json', id]);
    assert.is(JSON.parse(ps.stdout).length, 1, ps.stdout);
  } finally {
    assert.is(env.hako(['delete', '--force', id]).status, 0);
  }
  assertNothingLeft(id, b);
});

test('create: hako dies while the init waits for MSG_GO; the init ends', () => {
  preconditions();
  const b = env.bundle((c) => (c.process.args = ['sleep', '100']));
  const id = uniqueId('ld');
  const r = hakoUnderStrace(KILL_HAKO_AT_GO, ['create', '--bundle', b, id]);
  assert.is(r.signal, 'SIGKILL', r.stderr);
  // strace has returned: the init has exited. What hako recorded before it
  // died (a "creating" record, the cgroup) is delete's to clean up.
  assert.equal(processesOf(b), [], 'no process');
  const d = env.hako(['delete', '--force', id]);
  assert.is(d.status, 0, d.stderr);
  assertNothingLeft(id, b);
  assert.is(env.hako(['create', '--bundle', b, id]).status, 0);
  assert.is(env.hako(['delete', '--force', id]).status, 0);
});

test('create: hako dies after MSG_READY, before it records the init; the init does not wait on exec.fifo for ever', () => {
  preconditions();
  const b = env.bundle((c) => (c.process.args = ['sleep', '100']));
  const id = uniqueId('ld');
  const r = hakoUnderStrace(KILL_HAKO_AT_RECORD, ['create', '--bundle', b, id]);
  assert.is(r.signal, 'SIGKILL', r.stderr);
  assert.equal(processesOf(b), [], 'no process');
  const d = env.hako(['delete', '--force', id]);
  assert.is(d.status, 0, d.stderr);
  assertNothingLeft(id, b);
  assert.is(env.hako(['create', '--bundle', b, id]).status, 0);
  assert.is(env.hako(['delete', '--force', id]).status, 0);
});

t.run();
