// A terminal for a client command: `ctr run -t` and `docker run -it` want a
// tty on their stdin and mirror its size to the container. Python's pty
// module (python3 is in the build packages) plays the terminal emulator:
// a pty of a known size, the command as its session leader with the slave
// as stdio and controlling terminal, and a short dialogue (wait for a
// pattern, type a line). `script -qc` would do the typing blind and copy
// the size of its own stdin, which under CI is no terminal at all.
import { spawnSync } from 'node:child_process';

export interface PtyStep {
  /** Wait until the output since the previous match matches this (a Python regex). */
  expect?: string;
  /** Then type this. */
  send?: string;
}

export interface PtyOptions {
  rows?: number;
  cols?: number;
  /** Seconds for the whole dialogue and the command's exit. */
  timeout?: number;
  env?: NodeJS.ProcessEnv;
}

export interface PtyResult {
  /** Exit status of the command (128+n for a signal), or null when it had to be killed. */
  status: number | null;
  /** Everything the command wrote to the terminal, as a terminal shows it (\r\n line ends). */
  output: string;
  /** The first step whose pattern never came, if any. */
  stuck?: string;
}

const PTY_DRIVER = `
import json, os, pty, re, select, signal, struct, sys, time, fcntl, termios
req = json.loads(sys.argv[1])
master, slave = pty.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', req['rows'], req['cols'], 0, 0))
pid = os.fork()
if pid == 0:
    os.close(master)
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2): os.dup2(slave, fd)
    if slave > 2: os.close(slave)
    os.execvp(req['argv'][0], req['argv'])
os.close(slave)
deadline = time.time() + req['timeout']
out = b''
mark = 0
eof = False
def pump(until):
    global out, eof
    while not eof and time.time() < until:
        r, _, _ = select.select([master], [], [], 0.05)
        if not r: return
        try: d = os.read(master, 65536)
        except OSError: d = b''
        if not d: eof = True
        out += d
stuck = None
for step in req['steps']:
    if 'expect' in step:
        pat = re.compile(step['expect'].encode())
        while True:
            m = pat.search(out, mark)
            if m: mark = m.end(); break
            if eof or time.time() >= deadline: stuck = step['expect']; break
            pump(deadline)
            if not eof: time.sleep(0.02)
        if stuck is not None: break
    if 'send' in step:
        os.write(master, step['send'].encode())
status = None
while True:
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        status = os.waitstatus_to_exitcode(st)
        if status < 0: status = 128 - status
        break
    if time.time() >= deadline:
        os.kill(pid, signal.SIGKILL); os.waitpid(pid, 0); break
    pump(min(deadline, time.time() + 0.1))
# What is still in the pty after the exit.
pump(time.time() + 1)
print(json.dumps({'status': status, 'output': out.decode('utf8', 'replace'), 'stuck': stuck}))
`;

/** Runs argv on a new pty, going through the steps; returns when it exits (or is killed at the timeout). */
export function runInPty(argv: string[], steps: PtyStep[], opts: PtyOptions = {}): PtyResult {
  const timeout = opts.timeout ?? 120;
  const req = { argv, steps, rows: opts.rows ?? 24, cols: opts.cols ?? 80, timeout };
  const r = spawnSync('python3', ['-c', PTY_DRIVER, JSON.stringify(req)], {
    encoding: 'utf8',
    timeout: (timeout + 30) * 1000,
    env: opts.env ?? process.env,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`pty driver for ${argv.join(' ')} failed (${r.status}): ${r.stderr.trim()}`);
  const res = JSON.parse(r.stdout) as { status: number | null; output: string; stuck: string | null };
  return { status: res.status, output: res.output, ...(res.stuck !== null ? { stuck: res.stuck } : {}) };
}
