// Terminals for create, run and exec. With --console-socket the pty master
// goes to the caller (conmon, containerd's shim) and hako never sees it; a
// foreground `run`/`exec` with a terminal instead gets the master over a
// socket pair of its own and proxies it to the user's terminal, as runc does.
import { write } from 'node:fs';
import tty from 'node:tty';
import { HakoError, describe } from '../errors.js';
import { native } from '../native.js';

/**
 * runc's checkTerminal: a detached process with a terminal needs someone to
 * hand the master to, and a console socket makes sense only for that.
 * create is always detached; run and exec are unless they stay in the
 * foreground.
 */
export function checkTerminal(terminal: boolean, detach: boolean, consoleSocket: string | undefined): void {
  if (detach && terminal && !consoleSocket) throw new HakoError('cannot allocate tty if hako will detach without setting console socket', 'usage');
  if ((!detach || !terminal) && consoleSocket) throw new HakoError('cannot use console socket if hako will not detach or allocate tty', 'usage');
}

/** Connects to the caller's console socket now, in the host's view of paths, for the launcher to inherit. */
export function connectConsoleSocket(path: string): number {
  try {
    return native().connectUnix(path);
  } catch (e) {
    throw new HakoError(`--console-socket ${path}: ${describe(e)}`);
  }
}

/** Receives the pty master the container sent over our end of the pair. */
export function receiveMaster(sockFd: number): number {
  const { fd, data } = native().recvFd(sockFd);
  if (fd < 0) throw new HakoError(`terminal: no pty master came from the container (got ${JSON.stringify(data.toString())})`);
  return fd;
}

const EAGAIN_RETRY_MS = 5;

/** How long a pty may keep output coming after its process exited (a child may hold it). */
export const PTY_DRAIN_MS = 2000;

/**
 * Copies the user's stdin to the pty master and the master to our stdout;
 * puts our terminal in raw mode (the container's pty does the line
 * discipline) and passes window size changes on. stop() puts everything
 * back; call it on every path out.
 */
export class ConsoleProxy {
  private saved: Buffer | null = null;
  private readonly master: tty.ReadStream;
  private readonly eof: Promise<void>;
  private pending: Buffer[] = [];
  private writing = false;
  private stopped = false;
  private readonly onWinch = () => this.resize();
  private readonly onInput = (d: Buffer) => this.send(d);

  constructor(private readonly fd: number) {
    const n = native();
    if (process.stdin.isTTY) this.saved = n.makeRaw(0);
    if (process.stdin.isTTY || process.stdout.isTTY) {
      this.resize();
      process.on('SIGWINCH', this.onWinch);
    }
    // A libuv tty handle reads the master without blocking a thread. When the
    // last slave fd closes, reads fail with EIO: that is the end of output.
    this.master = new tty.ReadStream(fd);
    this.eof = new Promise((resolve) => {
      this.master.on('data', (d: Buffer) => process.stdout.write(d));
      this.master.on('error', () => resolve());
      this.master.on('end', () => resolve());
      this.master.on('close', () => resolve());
    });
    process.stdin.on('data', this.onInput);
  }

  /** Resolves once the container's side has closed (all output copied), or after timeoutMs. */
  async drained(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.eof, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    process.off('SIGWINCH', this.onWinch);
    process.stdin.off('data', this.onInput);
    // Our stdin must not keep the event loop (and so hako) alive.
    process.stdin.pause();
    if (!process.stdin.isTTY) process.stdin.destroy();
    if (this.saved) {
      try {
        native().restoreTermios(0, this.saved);
      } catch {
        /* the terminal went away */
      }
      this.saved = null;
    }
    this.master.destroy();
  }

  private resize(): void {
    const n = native();
    for (const fd of [1, 0]) {
      try {
        const ws = n.getWinsize(fd);
        if (ws.rows && ws.cols) n.setWinsize(this.fd, ws.rows, ws.cols);
        return;
      } catch {
        /* not a terminal: try the other one */
      }
    }
  }

  // The master is non-blocking (libuv made it so): a full pty answers
  // EAGAIN, and the rest is written once the container has read some.
  private send(d: Buffer): void {
    this.pending.push(d);
    if (!this.writing) this.flush();
  }

  private flush(): void {
    const d = this.pending[0];
    if (!d || this.stopped) {
      this.writing = false;
      return;
    }
    this.writing = true;
    write(this.fd, d, (err, n) => {
      if (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          setTimeout(() => this.flush(), EAGAIN_RETRY_MS);
          return;
        }
        // The container's side is gone: drop the input.
        this.pending = [];
        this.writing = false;
        return;
      }
      if (n < d.length) this.pending[0] = d.subarray(n);
      else this.pending.shift();
      this.flush();
    });
  }
}
