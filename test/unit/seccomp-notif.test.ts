// The agent's bindings (seccompNotifRecv, seccompNotifRespond,
// seccompNotifIdValid) on a real listener, without root: the Python loader
// loads a notify filter in a child and sends us its listener, and we answer
// the child's mkdir calls. Skipped where python3 or x86_64 is missing.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';

const test = skippable(uvuTest, 'seccomp-notif');

import { isNativeError, native } from '../../src/native.js';
import { compileSeccomp } from '../../src/seccomp/compile.js';
import { AUDIT_ARCH_X86_64 } from '../../src/seccomp/consts.js';
import { takeFd } from '../fd-receiver.js';
import { LOADER } from './seccomp-loader.js';

const n = native();
const python = spawnSync('python3', ['-c', 'import ctypes, socket; socket.send_fds'], { encoding: 'utf8' }).status === 0 ? 'python3' : null;
const enabled = python !== null && process.arch === 'x64';
const dir = mkdtempSync(join(tmpdir(), 'hako-notif-'));
uvuTest.after(() => rmSync(dir, { recursive: true, force: true }));

const NR_MKDIR = 83;
const NR_MKDIRAT = 258;

/**
 * A child under a filter notifying mkdir/mkdirat that reads a line, then
 * tries `mkdirs` directories, printing "made" or "errno N" for each; and the
 * listener it sent us.
 */
async function notifiedChild(mkdirs: number) {
  const c = compileSeccomp({
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath: '/unused',
    syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
  });
  const file = join(dir, `p${Math.random().toString(36).slice(2)}.bpf`);
  writeFileSync(file, c.bpf);
  const sock = join(dir, `s${Math.random().toString(36).slice(2)}.sock`);
  const server = createServer({ pauseOnConnect: true });
  server.listen(sock);
  await once(server, 'listening');
  const target = join(dir, `d${Math.random().toString(36).slice(2)}-`);
  const script = [
    'import os, sys',
    'sys.stdin.readline()',
    `for i in range(${mkdirs}):`,
    '    try:',
    '        os.mkdir(sys.argv[1] + str(i)); print("made", flush=True)',
    '    except OSError as e:',
    '        print("errno", e.errno, flush=True)',
  ].join('\n');
  const child = spawn(python!, ['-c', LOADER, file, String(c.flags), python!, '-c', script, target], {
    env: { ...process.env, HAKO_LISTENER_SOCK: sock },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const [conn] = (await once(server, 'connection')) as [Socket];
  const { fd } = await takeFd(conn);
  conn.destroy();
  server.close();
  const exited = once(child, 'close');
  return {
    fd,
    pid: child.pid!,
    target,
    go: () => child.stdin!.end('go\n'),
    done: async () => {
      const [code] = (await exited) as [number | null];
      return { code, out, err };
    },
  };
}

test('recv: the pending call; respond: an errno, then CONTINUE; id validity; hangup once the process is gone', async () => {
  if (!enabled) skip('needs python3 on x86_64');
  const c = await notifiedChild(2);
  try {
    // Nothing yet: the child waits for its line.
    assert.is(n.seccompNotifRecv(c.fd, 50), null);
    c.go();
    const first = n.seccompNotifRecv(c.fd, 20_000);
    assert.ok(first, 'a notification');
    assert.ok([NR_MKDIR, NR_MKDIRAT].includes(first!.nr), `mkdir, not ${first!.nr}`);
    assert.is(first!.arch, AUDIT_ARCH_X86_64);
    assert.is(first!.pid, c.pid);
    assert.is(first!.args.length, 6);
    assert.is(typeof first!.id, 'bigint');
    assert.ok(n.seccompNotifIdValid(c.fd, first!.id));
    n.seccompNotifRespond(c.fd, first!.id, { error: 13 });
    assert.not.ok(n.seccompNotifIdValid(c.fd, first!.id), 'answered');

    const second = n.seccompNotifRecv(c.fd, 20_000)!;
    assert.ok(second.id !== first!.id);
    n.seccompNotifRespond(c.fd, second.id, { continue: true });
    const r = await c.done();
    assert.is(r.code, 0, r.err);
    assert.is(r.out, 'errno 13\nmade\n');
    assert.not.ok(existsSync(c.target + '0'));
    assert.ok(existsSync(c.target + '1'), 'CONTINUE ran the real mkdir');

    assert.throws(
      () => n.seccompNotifRecv(c.fd, 5_000),
      (e: unknown) => isNativeError(e, 'ESRCH'),
    );
    assert.throws(
      () => n.seccompNotifRespond(c.fd, second.id, { error: 1 }),
      (e: unknown) => isNativeError(e, 'ENOENT'),
    );
  } finally {
    closeSync(c.fd);
  }
});

test('respond: a return value instead of running the call', async () => {
  if (!enabled) skip('needs python3 on x86_64');
  const c = await notifiedChild(1);
  try {
    c.go();
    const call = n.seccompNotifRecv(c.fd, 20_000)!;
    // mkdir "succeeds" without a directory being made.
    n.seccompNotifRespond(c.fd, call.id, { val: 0n });
    const r = await c.done();
    assert.is(r.out, 'made\n', r.err);
    assert.not.ok(existsSync(c.target + '0'));
  } finally {
    closeSync(c.fd);
  }
});

test('argument checks', () => {
  const t = (f: () => unknown, re: RegExp) => assert.throws(f, (e: Error) => e instanceof TypeError && re.test(e.message));
  t(() => n.seccompNotifRespond(0, 1 as unknown as bigint, {}), /'id' must be a bigint/);
  t(() => n.seccompNotifRespond(0, 1n, { error: -1 }), /errno from 0 to 4095/);
  t(() => n.seccompNotifRespond(0, 1n, { error: 1.5 }), /errno from 0 to 4095/);
  t(() => n.seccompNotifRespond(0, 1n, { error: 1, continue: true }), /continue excludes error and val/);
  t(() => n.seccompNotifRespond(0, 1n, { val: 1 as unknown as bigint }), /val must be a bigint/);
  t(() => n.seccompNotifIdValid(0, -1n), /64 unsigned bits/);
  // Not a listener: the kernel's own answers.
  const fd = n.openPath('/dev/null', n.constants.O_RDONLY | n.constants.O_CLOEXEC);
  try {
    assert.throws(
      () => n.seccompNotifIdValid(fd, 1n),
      (e: unknown) => isNativeError(e, 'ENOTTY') || isNativeError(e, 'EINVAL'),
    );
  } finally {
    n.close(fd);
  }
  assert.throws(
    () => n.seccompNotifRecv(fd, 0),
    (e: unknown) => isNativeError(e, 'EBADF'),
  );
});

uvuTest.run();
