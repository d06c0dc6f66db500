// The addon against the real kernel; everything here works without root.
//
// Children we reap ourselves must not be children libuv spawned (libuv would
// race us to waitpid them), so those are grandchildren re-parented to this
// process with the subreaper flag: the same situation as a container init
// cloned with CLONE_PARENT.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { addonPath, isNativeError, launcherPath, native, type NativeError } from '../../src/native.js';

const dir = fs.mkdtempSync(join(tmpdir(), 'hako-native-'));
const n = native();
const C = n.constants;

test.after(() => {
  n.setChildSubreaper(false);
  fs.rmSync(dir, { recursive: true, force: true });
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

function assertErrno(err: unknown, code: string, syscall: string): asserts err is NativeError {
  assert.ok(isNativeError(err, code), `expected ${code}, got ${String(err)}`);
  assert.is(err.syscall, syscall);
  assert.is(err.errno, (osConstants.errno as Record<string, number>)[code]);
  assert.ok(err.message.startsWith(`${code}: `), err.message);
  assert.ok(err.message.includes(`, ${syscall}`), err.message);
}

// A grandchild running `cmd` that has become our own child: its shell parent
// has exited and been reaped, so it was re-parented to us. `cmd` starts only
// once the shell is gone, so a quick one cannot be reaped by the shell.
function adoptedChild(cmd: string): number {
  assert.ok(n.getChildSubreaper(), 'subreaper must be on');
  const waitShell = 'while kill -0 $shell 2>/dev/null; do sleep 0.01; done';
  const script = `shell=$$; (${waitShell}; ${cmd}) </dev/null >/dev/null 2>&1 & echo $!`;
  const out = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
  assert.is(out.status, 0);
  return Number(out.stdout.trim());
}

// A node child that can load the addon too (CommonJS, via -e).
function nodeChild(script: string, stdio: Array<'pipe' | 'ignore' | 'inherit' | number>): ChildProcess {
  return spawn(process.execPath, ['-e', `const n = require(${JSON.stringify(addonPath())});\n${script}`], { stdio });
}

test('flock: exclusive across two open file descriptions', () => {
  const file = join(dir, 'lock1');
  fs.writeFileSync(file, '');
  const a = fs.openSync(file, 'r');
  const b = fs.openSync(file, 'r');
  try {
    assert.is(n.flock(a, 'ex', true), true);
    assert.is(n.flock(b, 'ex', true), false);
    assert.is(n.flock(b, 'sh', true), false);
    n.flock(a, 'un');
    assert.is(n.flock(b, 'sh', true), true);
    assert.is(n.flock(a, 'sh', true), true, 'shared locks coexist');
    assert.is(n.flock(a, 'ex', true), false, 'no upgrade while another holds it shared');
  } finally {
    fs.closeSync(a);
    fs.closeSync(b);
  }
});

test('flock: exclusive across processes, released when the holder exits', async () => {
  const file = join(dir, 'lock2');
  fs.writeFileSync(file, '');
  const child = nodeChild(
    `const fd = require('fs').openSync(${JSON.stringify(file)}, 'r');
     n.flock(fd, 'ex');
     process.stdout.write('locked\\n');
     process.stdin.once('data', () => process.exit(0));`,
    ['pipe', 'pipe', 'inherit'],
  );
  const exited = once(child, 'exit');
  // A child that dies early must fail the test, not leave it waiting.
  const first = await Promise.race([once(child.stdout!, 'data'), exited]);
  assert.is(String(first[0]), 'locked\n');
  const fd = fs.openSync(file, 'r');
  try {
    assert.is(n.flock(fd, 'ex', true), false);
    child.stdin!.write('go\n');
    await exited;
    assert.is(n.flock(fd, 'ex', true), true);
  } finally {
    fs.closeSync(fd);
  }
});

test('flock: bad op is a TypeError, bad fd an EBADF', () => {
  assert.instance(
    thrown(() => n.flock(0, 'xx' as 'ex')),
    TypeError,
  );
  assert.instance(
    thrown(() => n.flock(1.5, 'ex')),
    TypeError,
  );
  assertErrno(
    thrown(() => n.flock(987654, 'ex', true)),
    'EBADF',
    'flock',
  );
});

test('mkfifo creates a FIFO; a second time is EEXIST with the path', () => {
  const fifo = join(dir, 'fifo');
  n.mkfifo(fifo, 0o600);
  const st = fs.lstatSync(fifo);
  assert.ok(st.isFIFO());
  assert.is(st.mode & 0o777, 0o600);
  const err = thrown(() => n.mkfifo(fifo, 0o600));
  assertErrno(err, 'EEXIST', 'mkfifo');
  assert.is(err.path, fifo);
  assert.ok(err.message.endsWith(`'${fifo}'`), err.message);
});

test('openPath: O_PATH fd, ENOENT carries code and path', () => {
  const fd = n.openPath(dir, C.O_PATH | C.O_DIRECTORY | C.O_CLOEXEC);
  assert.ok(fs.fstatSync(fd).isDirectory());
  n.close(fd);
  const missing = join(dir, 'missing');
  const err = thrown(() => n.openPath(missing, C.O_RDONLY | C.O_CLOEXEC));
  assertErrno(err, 'ENOENT', 'open');
  assert.is(err.message, `ENOENT: no such file or directory, open '${missing}'`);
  assert.is(err.path, missing);
  fs.symlinkSync(dir, join(dir, 'link'));
  assertErrno(
    thrown(() => n.openPath(join(dir, 'link'), C.O_RDONLY | C.O_NOFOLLOW)),
    'ELOOP',
    'open',
  );
});

test('openPath creates with the given mode; close reports EBADF', () => {
  const file = join(dir, 'created');
  const fd = n.openPath(file, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_CLOEXEC, 0o640);
  fs.writeSync(fd, 'x');
  n.close(fd);
  assert.is(fs.statSync(file).mode & 0o777, 0o640 & ~process.umask());
  assertErrno(
    thrown(() => n.close(fd)),
    'EBADF',
    'close',
  );
});

test('fsyncDir: fine on a directory, ENOTDIR on a file', () => {
  n.fsyncDir(dir);
  const file = join(dir, 'plain');
  fs.writeFileSync(file, '');
  const err = thrown(() => n.fsyncDir(file));
  assertErrno(err, 'ENOTDIR', 'open');
  assert.is(err.path, file);
});

test('pidfd: SIGTERM through a pidfd ends a spawned sleep', async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const pidfd = n.pidfdOpen(child.pid!);
  try {
    n.pidfdSendSignal(pidfd, osConstants.signals.SIGTERM);
    const [code, signal] = await exited;
    assert.is(code, null);
    assert.is(signal, 'SIGTERM');
    // The process is gone (reaped by libuv); the pidfd still names it.
    assertErrno(
      thrown(() => n.pidfdSendSignal(pidfd, 0)),
      'ESRCH',
      'pidfd_send_signal',
    );
  } finally {
    n.close(pidfd);
  }
});

test('subreaper on and off', () => {
  n.setChildSubreaper(true);
  assert.is(n.getChildSubreaper(), true);
  n.setChildSubreaper(false);
  assert.is(n.getChildSubreaper(), false);
});

test('waitpid sees signal 15 on an adopted child sent SIGTERM by pidfd', () => {
  n.setChildSubreaper(true);
  const pid = adoptedChild('exec sleep 30');
  assert.is(n.waitpid(pid, true), null, 'still running');
  const pidfd = n.pidfdOpen(pid);
  n.pidfdSendSignal(pidfd, osConstants.signals.SIGTERM);
  n.close(pidfd);
  assert.equal(n.waitpid(pid, false), { exitCode: null, signal: 15, pid });
  n.setChildSubreaper(false);
});

test('waitpid reports the exit code; ECHILD for a process not ours', () => {
  n.setChildSubreaper(true);
  const pid = adoptedChild('exit 7');
  assert.equal(n.waitpid(pid), { exitCode: 7, signal: null, pid });
  n.setChildSubreaper(false);
  const err = thrown(() => n.waitpid(pid));
  assertErrno(err, 'ECHILD', 'waitpid');
  assert.is(err.message, 'ECHILD: no child processes, waitpid');
  assertErrno(
    thrown(() => n.waitpid(process.pid, true)),
    'ECHILD',
    'waitpid',
  );
});

test('waitpidAsync waits off the JS thread', async () => {
  n.setChildSubreaper(true);
  const pid = adoptedChild('sleep 0.3; exit 3');
  let ticks = 0;
  const timer = setInterval(() => ticks++, 20);
  try {
    const result = await n.waitpidAsync(pid);
    assert.equal(result, { exitCode: 3, signal: null, pid });
    assert.ok(ticks >= 5, `event loop kept running (${ticks} ticks)`);
  } finally {
    clearInterval(timer);
    n.setChildSubreaper(false);
  }
});

test('waitpidAsync sees a kill and rejects with ECHILD', async () => {
  n.setChildSubreaper(true);
  const pid = adoptedChild('exec sleep 30');
  const waiting = n.waitpidAsync(pid);
  n.kill(pid, osConstants.signals.SIGKILL);
  assert.equal(await waiting, { exitCode: null, signal: 9, pid });
  n.setChildSubreaper(false);
  let err: unknown;
  await n.waitpidAsync(pid).catch((e: unknown) => (err = e));
  assertErrno(err, 'ECHILD', 'waitpid');
});

test('kill: signal 0 probes; ESRCH for no such process', () => {
  n.kill(process.pid, 0);
  assertErrno(
    thrown(() => n.kill(0x3ffffff0, 0)),
    'ESRCH',
    'kill',
  );
});

function fdFlags(fd: number): number {
  const line = fs
    .readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('flags:'));
  return parseInt(line!.split(/\s+/)[1]!, 8);
}

test('sendFd/recvFd over a socketpair in one process', () => {
  const [a, b] = n.socketpair();
  const file = join(dir, 'passed');
  fs.writeFileSync(file, 'content');
  const fd = fs.openSync(file, 'r');
  try {
    assert.ok(fdFlags(a) & C.O_CLOEXEC, 'socketpair ends are close-on-exec');
    n.sendFd(a, fd, Buffer.from('hello'));
    const got = n.recvFd(b);
    assert.is(got.data.toString(), 'hello');
    assert.is.not(got.fd, fd);
    assert.ok(got.fd >= 0);
    assert.is(fs.fstatSync(got.fd).ino, fs.fstatSync(fd).ino);
    assert.ok(fdFlags(got.fd) & C.O_CLOEXEC, 'received fd is close-on-exec');
    n.close(got.fd);

    fs.writeSync(a, 'plain');
    assert.equal({ ...n.recvFd(b) }, { fd: -1, data: Buffer.from('plain') });
    assert.instance(
      thrown(() => n.sendFd(a, fd, Buffer.alloc(0))),
      TypeError,
    );
    n.close(a);
    const eof = n.recvFd(b);
    assert.is(eof.fd, -1);
    assert.is(eof.data.length, 0);
  } finally {
    fs.closeSync(fd);
    n.close(b);
  }
});

test("recvFd gets a child process's fd, like a console socket", async () => {
  const [a, b] = n.socketpair();
  const file = join(dir, 'from-child');
  const child = nodeChild(
    `const fd = require('fs').openSync(${JSON.stringify(file)}, 'w');
     n.sendFd(3, fd, Buffer.from('/dev/ptmx'));`,
    ['ignore', 'inherit', 'inherit', b],
  );
  n.close(b);
  const exited = once(child, 'exit');
  const got = n.recvFd(a);
  n.close(a);
  assert.is(got.data.toString(), '/dev/ptmx');
  fs.writeSync(got.fd, 'written by the parent');
  n.close(got.fd);
  const [code] = await exited;
  assert.is(code, 0);
  assert.is(fs.readFileSync(file, 'utf8'), 'written by the parent');
});

test('sendFd to a closed peer is EPIPE, not SIGPIPE', () => {
  const [a, b] = n.socketpair();
  n.close(b);
  assertErrno(
    thrown(() => n.sendFd(a, 0, Buffer.from('x'))),
    'EPIPE',
    'sendmsg',
  );
  n.close(a);
});

test('terminal: window size and raw mode on a pty', () => {
  const fd = n.openPath('/dev/ptmx', C.O_RDWR | C.O_NOCTTY | C.O_CLOEXEC);
  try {
    n.setWinsize(fd, 40, 120);
    assert.equal(n.getWinsize(fd), { rows: 40, cols: 120 });
    const before = n.getTermios(fd);
    const saved = n.makeRaw(fd);
    assert.ok(saved.equals(before));
    assert.not.ok(n.getTermios(fd).equals(before), 'raw mode changed the settings');
    n.restoreTermios(fd, saved);
    assert.ok(n.getTermios(fd).equals(before));
    assert.instance(
      thrown(() => n.restoreTermios(fd, Buffer.alloc(3))),
      TypeError,
    );
  } finally {
    n.close(fd);
  }
  const file = fs.openSync(join(dir, 'plain'), 'w');
  try {
    assertErrno(
      thrown(() => n.getWinsize(file)),
      'ENOTTY',
      'ioctl',
    );
    assertErrno(
      thrown(() => n.makeRaw(file)),
      'ENOTTY',
      'tcgetattr',
    );
  } finally {
    fs.closeSync(file);
  }
});

test('poll: 0 on timeout, POLLIN once there is data, POLLHUP once the peer is gone', () => {
  const [a, b] = n.socketpair();
  try {
    assert.is(n.poll(a, C.POLLIN, 0), 0);
    fs.writeSync(b, 'x');
    assert.ok(n.poll(a, C.POLLIN, 1000) & C.POLLIN);
    n.close(b);
    assert.ok(n.poll(a, C.POLLIN, 1000) & C.POLLHUP);
  } finally {
    n.close(a);
  }
  assert.ok(n.poll(a, C.POLLIN, 0) & C.POLLNVAL, 'a closed fd');
});

test('setNonblock: a read with nothing there fails with EAGAIN instead of waiting', () => {
  const [a, b] = n.socketpair();
  try {
    n.setNonblock(a);
    assert.is((thrown(() => fs.readSync(a, Buffer.alloc(1))) as NodeJS.ErrnoException).code, 'EAGAIN');
  } finally {
    n.close(a);
    n.close(b);
  }
});

// A socket pair stands in for the pty master: the proxy only reads, writes
// and polls it.
test('ptyProxy copies both ways and ends once the master hangs up and its output is out', async () => {
  const [master, container] = n.socketpair();
  const [inR, inW] = n.socketpair();
  const [outR, outW] = n.socketpair();
  const p = n.ptyProxy(master, inR, outW);
  fs.writeSync(inW, 'typed');
  assert.ok(n.poll(container, C.POLLIN, 5000) & C.POLLIN);
  const got = Buffer.alloc(16);
  assert.is(got.toString('utf8', 0, fs.readSync(container, got)), 'typed');
  fs.writeSync(container, 'printed');
  n.close(container);
  await p.done;
  n.close(outW);
  assert.is(fs.readFileSync(outR, 'utf8'), 'printed');
  for (const fd of [master, inR, inW, outR, p.stopFd]) n.close(fd);
});

test('ptyProxy stops when told, with the master still open', async () => {
  const [master, container] = n.socketpair();
  const p = n.ptyProxy(master, -1, -1);
  fs.writeSync(p.stopFd, Buffer.from([1]));
  await p.done;
  for (const fd of [master, container, p.stopFd]) n.close(fd);
});

test("getrlimit matches the shell's ulimit", () => {
  const nofile = n.getrlimit(C.RLIMIT_NOFILE);
  assert.is(typeof nofile.soft, 'bigint');
  assert.ok(nofile.soft <= nofile.hard);
  const sh = (flag: string): string => spawnSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).stdout.trim();
  const asShell = (v: bigint): string => (v === C.RLIM_INFINITY ? 'unlimited' : String(v));
  assert.is(asShell(nofile.soft), sh('-Sn'));
  assert.is(asShell(nofile.hard), sh('-Hn'));
  assertErrno(
    thrown(() => n.getrlimit(9999)),
    'EINVAL',
    'getrlimit',
  );
});

test('libseccomp is linked', () => {
  assert.match(n.seccompVersion(), /^\d+\.\d+\.\d+$/);
  assert.type(n.seccompAvailable(), 'boolean');
});

test('constants come from the headers and are frozen', () => {
  assert.is(C.O_RDONLY, 0);
  assert.is(C.O_DIRECTORY, fs.constants.O_DIRECTORY);
  assert.is(C.O_NOFOLLOW, fs.constants.O_NOFOLLOW);
  assert.ok(C.O_PATH > 0);
  assert.is(C.RLIM_INFINITY, 2n ** 64n - 1n);
  assert.ok(Object.isFrozen(C));
});

test('paths resolve to absolute files; overrides win', () => {
  assert.ok(isAbsolute(addonPath()));
  assert.ok(fs.existsSync(addonPath()));
  const saved = process.env.HAKO_LAUNCHER;
  try {
    process.env.HAKO_LAUNCHER = 'somewhere/hako-launcher';
    assert.is(launcherPath(), join(process.cwd(), 'somewhere/hako-launcher'));
  } finally {
    if (saved === undefined) delete process.env.HAKO_LAUNCHER;
    else process.env.HAKO_LAUNCHER = saved;
  }
});

test('importing the module does not load the addon; native() does', () => {
  const moduleUrl = new URL('../../src/native.js', import.meta.url).href;
  const script = `
    const { native } = await import(${JSON.stringify(moduleUrl)});
    const { readFileSync } = await import('node:fs');
    const mapped = () => readFileSync('/proc/self/maps', 'utf8').includes('hako_addon.node');
    const before = mapped();
    native().kill(process.pid, 0);
    console.log(JSON.stringify([before, mapped()]));`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(out.stderr, '');
  assert.equal(JSON.parse(out.stdout), [false, true]);
});

test.run();
