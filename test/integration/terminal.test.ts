// Terminals: the pty master over a console socket (what conmon and
// containerd's shim receive), for run -d and exec -t; hako's own proxy for
// foreground run and exec; the refusals runc makes. A small receiver here
// plays the caller: it listens, takes the master, talks to a shell with it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { writeSync } from 'node:fs';
import path from 'node:path';
import tty from 'node:tty';
import { WITH_CTTY } from '../ctty.js';
import { FdReceiver } from '../fd-receiver.js';
import { Env, HAKO, uniqueId } from '../helpers.js';

const t = suite('terminal');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Talks to whatever runs on the pty's other side. */
class Pty {
  private out = '';
  private readonly stream: tty.ReadStream;
  private closed = false;

  constructor(private readonly fd: number) {
    this.stream = new tty.ReadStream(fd);
    this.stream.on('data', (d: Buffer) => (this.out += d.toString('utf8')));
    // EIO once the last slave is closed.
    this.stream.on('error', () => (this.closed = true));
    this.stream.on('close', () => (this.closed = true));
  }

  write(s: string): void {
    writeSync(this.fd, s);
  }

  /** Waits until the output so far matches re; returns the output. */
  async expect(re: RegExp, ms = 10_000): Promise<string> {
    for (let i = 0; i < ms / 20; i++) {
      if (re.test(this.out)) return this.out;
      if (this.closed) break;
      await sleep(20);
    }
    throw new Error(`pty output does not match ${re}: ${JSON.stringify(this.out)}`);
  }

  async ended(ms = 10_000): Promise<void> {
    for (let i = 0; i < ms / 20 && !this.closed; i++) await sleep(20);
    if (!this.closed) throw new Error('pty still open');
  }

  close(): void {
    this.stream.destroy();
  }
}

function shellBundle(edit?: (c: any) => void): string {
  return env.bundle((c) => {
    c.process.terminal = true;
    c.process.args = ['sh'];
    c.process.env.push('PS1=$ ');
    edit?.(c);
  });
}

t('run -d with a console socket: the shell gets a pty of its own devpts, with consoleSize', async () => {
  const rx = await new FdReceiver(env.dir, 'console').listen();
  const b = shellBundle((c) => (c.process.consoleSize = { height: 31, width: 97 }));
  const id = uniqueId('tty');
  try {
    const r = env.hako(['run', '-d', '--console-socket', rx.path, '--bundle', b, id], { stdio: 'ignore' });
    assert.is(r.status, 0);
    const { fd, name } = await rx.got;
    assert.is(name, '/dev/ptmx', "the message is runc's: the name and the fd");
    assert.ok(fd >= 0);
    const pty = new Pty(fd);
    try {
      pty.write('tty; echo $((6*7)); stty size; stat -c "%t:%T" /dev/console; tty -s < /dev/console && echo console-ok\n');
      const out = await pty.expect(/console-ok/);
      assert.match(out, /^\/dev\/pts\/0\r?$/m, 'its own devpts: the first pty there');
      assert.match(out, /^42\r?$/m);
      assert.match(out, /^31 97\r?$/m);
      assert.match(out, /^88:0\r?$/m, '/dev/console is the pty (136:0)');
      // A controlling terminal: job control works, and /dev/tty opens.
      pty.write('echo ctty > /dev/tty && echo ctty-ok\n');
      await pty.expect(/ctty-ok/);
      pty.write('exit\n');
      await pty.ended();
    } finally {
      pty.close();
    }
    for (let i = 0; i < 200 && JSON.parse(env.hako(['state', id]).stdout).status !== 'stopped'; i++) await sleep(10);
    assert.is(JSON.parse(env.hako(['state', id]).stdout).status, 'stopped', 'the shell exited with its pty');
  } finally {
    rx.close();
    env.hako(['delete', '--force', id]);
  }
});

t('create + start with a console socket, as conmon does', async () => {
  const rx = await new FdReceiver(env.dir, 'console').listen();
  const b = shellBundle((c) => (c.process.user = { uid: 1000, gid: 1000 }));
  const id = uniqueId('tty');
  try {
    assert.is(env.hako(['create', '--console-socket', rx.path, '--bundle', b, id], { stdio: 'ignore' }).status, 0);
    // The master arrives during create: the caller can attach before start.
    const { fd } = await rx.got;
    const pty = new Pty(fd);
    try {
      assert.is(env.hako(['start', id]).status, 0);
      pty.write('id -u; stat -c "%u %g %a" $(tty)\n');
      // The container user owns its terminal (gid 5 from devpts' gid=5).
      const out = await pty.expect(/^1000 5 620\r?$/m);
      assert.match(out, /^1000\r?$/m);
      pty.write('exit\n');
      await pty.ended();
    } finally {
      pty.close();
    }
  } finally {
    rx.close();
    env.hako(['delete', '--force', id]);
  }
});

t('exec -t with a console socket, detached', async () => {
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('xtty');
  assert.is(env.hako(['run', '-d', '--bundle', b, id], { stdio: 'ignore' }).status, 0);
  const rx = await new FdReceiver(env.dir, 'console').listen();
  try {
    const pidFile = path.join(env.dir, `${id}.pid`);
    const r = env.hako(['exec', '-t', '-d', '--console-socket', rx.path, '--pid-file', pidFile, id, 'sh']);
    assert.is(r.status, 0, r.stderr);
    const { fd, name } = await rx.got;
    assert.is(name, '/dev/ptmx');
    const pty = new Pty(fd);
    try {
      pty.write('tty; echo $((6*7)); ps -o pid,tty,comm | grep " sh"\n');
      const out = await pty.expect(/^42\r?$/m);
      assert.match(out, /^\/dev\/pts\/\d+\r?$/m);
      pty.write('exit\n');
      await pty.ended();
    } finally {
      pty.close();
    }
  } finally {
    rx.close();
    env.hako(['delete', '--force', id]);
  }
});

t('a terminal without a console socket: create and run -d refuse, nothing is left', () => {
  const b = shellBundle();
  for (const args of [['create'], ['run', '-d']]) {
    const id = uniqueId('notty');
    const r = env.hako([...args, '--bundle', b, id]);
    assert.is(r.status, 1);
    assert.match(r.stderr, /cannot allocate tty if hako will detach without setting console socket/);
    assert.is(env.hako(['state', id]).status, 1, 'no container');
  }
  const plain = env.bundle();
  const r = env.hako(['create', '--console-socket', path.join(env.dir, 'x.sock'), '--bundle', plain, uniqueId('notty')]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /cannot use console socket if hako will not detach or allocate tty/);
  const gone = env.hako(['create', '--console-socket', path.join(env.dir, 'nobody-listens.sock'), '--bundle', b, uniqueId('notty')]);
  assert.is(gone.status, 1);
  assert.match(gone.stderr, /console-socket .*nobody-listens\.sock/);
  assert.is(env.hako(['list', '--format', 'json']).stdout.trim(), 'null');
});

/** Runs hako with its stdin a pipe and its stdout collected. */
async function foreground(args: string[], input: string): Promise<{ code: number | null; out: string; err: string }> {
  // Pipes for stdio, and a controlling terminal (WITH_CTTY), as runc needs.
  const child = spawn(WITH_CTTY[0]!, [...WITH_CTTY.slice(1), HAKO, '--root', env.root, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  child.stdin.write(input);
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, out, err };
}

t('foreground run with a terminal proxies our stdio to the pty', async () => {
  const b = shellBundle((c) => (c.process.consoleSize = { height: 24, width: 80 }));
  const r = await foreground(['run', '--bundle', b, uniqueId('fg')], 'tty; stty size; echo $((6*7)); exit 5\n');
  assert.is(r.code, 5, r.err);
  assert.match(r.out, /^\/dev\/pts\/0\r?$/m);
  assert.match(r.out, /^24 80\r?$/m);
  assert.match(r.out, /^42\r?$/m);
});

t('foreground exec -t proxies too', async () => {
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('fgx');
  assert.is(env.hako(['run', '-d', '--bundle', b, id], { stdio: 'ignore' }).status, 0);
  try {
    const r = await foreground(['exec', '-t', id, 'sh'], 'tty; echo $((6*7)); exit 3\n');
    assert.is(r.code, 3, r.err);
    assert.match(r.out, /^\/dev\/pts\/\d+\r?$/m);
    assert.match(r.out, /^42\r?$/m);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

// A user at a terminal: hako's stdin is a pty slave (python's pty module
// plays the terminal emulator). Raw mode while it runs, restored after; the
// window size follows the user's terminal, including a change (SIGWINCH).
const TERMINAL_USER = String.raw`
import os, pty, sys, time, fcntl, termios, struct, select, signal
hako, root, bundle, cid = sys.argv[1:5]
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 25, 77, 0, 0))
before = termios.tcgetattr(slave)
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2): os.dup2(slave, fd)
    os.execv(hako, [hako, '--root', root, 'run', '--bundle', bundle, cid])
out = b''
def read_until(pat, secs=10):
    global out
    end = time.time() + secs
    while pat not in out and time.time() < end:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try: out += os.read(master, 4096)
            except OSError: break
    return pat in out
read_until(b'$ ')
raw = termios.tcgetattr(slave)
print('raw' if not (raw[3] & termios.ICANON) and not (raw[3] & termios.ECHO) else 'cooked', flush=True)
os.write(master, b'stty size; echo first-$((1+1))\n')
read_until(b'first-2\r\n')
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
os.kill(pid, signal.SIGWINCH)
time.sleep(0.3)
os.write(master, b'stty size; exit 4\n')
_, st = os.waitpid(pid, 0)
read_until(b'never', 0.3)
print('status', os.waitstatus_to_exitcode(st))
print('restored' if termios.tcgetattr(slave) == before else 'not-restored')
sys.stdout.write(out.decode('utf8', 'replace'))
`;

t('at a terminal: raw mode, window size and SIGWINCH, terminal restored', () => {
  const b = shellBundle();
  const r = spawnSync('python3', ['-c', TERMINAL_USER, HAKO, env.root, b, uniqueId('user')], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const [mode, status, restored] = r.stdout.split('\n');
  assert.is(mode, 'raw', 'our terminal is raw while the container owns the line discipline');
  assert.is(status, 'status 4');
  assert.is(restored, 'restored');
  assert.match(r.stdout, /^25 77\r?$/m, 'the size of the user terminal');
  assert.match(r.stdout, /^40 120\r?$/m, 'and its new size after SIGWINCH');
});

t.run();
