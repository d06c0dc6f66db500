// Terminals for create, run and exec. With --console-socket the pty master
// goes to the caller (conmon, containerd's shim) and hako never sees it; a
// foreground `run`/`exec` with a terminal instead gets the master over a
// socket pair of its own and proxies it to the user's terminal, as runc does.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { HakoError, describe } from '../errors.js';
import { native } from '../native.js';

/**
 * isatty(3), which is tcgetattr succeeding. Not node:tty's: loading that
 * module costs every create, run and exec about 0.5 ms of CPU and 1.6 MiB
 * (bench/README.md), and create needs it only with a terminal.
 */
function isatty(fd: number): boolean {
  try {
    native().getTermios(fd);
    return true;
  } catch {
    return false;
  }
}

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

/** Whether hako has a terminal of its own: why not, or undefined when it has. */
export type HostTerminalProbe = () => string | undefined;

/**
 * runc's initHostConsole: one of stdin, stdout and stderr is a terminal, or
 * /dev/tty (the controlling terminal) opens. Else the reason, in runc's
 * words ("open /dev/tty: no such device or address").
 */
export const probeHostTerminal: HostTerminalProbe = () => {
  if (isatty(0) || isatty(1) || isatty(2)) return undefined;
  try {
    // Non-blocking: a serial line without carrier would hold the open.
    closeSync(openSync('/dev/tty', constants.O_RDWR | constants.O_NONBLOCK | constants.O_NOCTTY));
    return undefined;
  } catch (e) {
    return describe(e);
  }
};

/**
 * A foreground run or exec with process.terminal proxies the container's
 * pty to hako's own terminal: without one (a pipe, /dev/null, no
 * controlling terminal) it fails at once, before anything is made, as
 * runc's does, rather than hang with nobody to talk to.
 */
export function requireHostTerminal(terminal: boolean, detach: boolean, probe: HostTerminalProbe = probeHostTerminal): void {
  if (!terminal || detach) return;
  const why = probe();
  if (why !== undefined) {
    throw new HakoError(
      `${why}: process.terminal is true and hako has no terminal (stdin, stdout and stderr are none): run it from one, or detached with --console-socket`,
      'usage',
    );
  }
}

/** Connects to the caller's console socket now, in the host's view of paths, for the launcher to inherit. */
export function connectConsoleSocket(path: string): number {
  try {
    return native().connectUnix(path);
  } catch (e) {
    throw new HakoError(`--console-socket ${path}: ${describe(e)}`);
  }
}

/** Connects to the caller's --pidfd-socket now, for the launcher to inherit: the process sends a pidfd of itself there (addon/launcher/pidfdsend.c). */
export function connectPidfdSocket(path: string): number {
  try {
    return native().connectUnix(path);
  } catch (e) {
    throw new HakoError(`--pidfd-socket ${path}: ${describe(e)}`);
  }
}

/** Receives the pty master the container sent over our end of the pair. */
export function receiveMaster(sockFd: number): number {
  const { fd, data } = native().recvFd(sockFd);
  if (fd < 0) throw new HakoError(`terminal: no pty master came from the container (got ${JSON.stringify(data.toString())})`);
  return fd;
}

/** How long a pty may keep output coming after its process exited (a child may hold it). */
export const PTY_DRAIN_MS = 2000;

/**
 * Copies the user's stdin to the pty master and the master to our stdout;
 * puts our terminal in raw mode (the container's pty does the line
 * discipline) and passes window size changes on. stop() puts everything
 * back; call it on every path out.
 *
 * The copying is the addon's (a thread polling the three fds): the engines'
 * streams over a pty master behave differently enough (blocking reads on a
 * thread in one, writes queued behind them) to hang or hang up a terminal.
 * Nothing here touches process.stdin, so the engine never reads fd 0.
 */
export class ConsoleProxy {
  private saved: Buffer | null = null;
  private readonly done: Promise<void>;
  private readonly stopFd: number;
  private stopped = false;
  private readonly onWinch = () => this.resize();

  constructor(private readonly fd: number) {
    const n = native();
    if (isatty(0)) this.saved = n.makeRaw(0);
    if (isatty(0) || isatty(1)) {
      this.resize();
      process.on('SIGWINCH', this.onWinch);
    }
    const p = n.ptyProxy(fd, 0, 1);
    // The master is closed only once the thread has let go of it: closing
    // it under a poll could hand its number to someone else's fd.
    this.done = p.done.catch(() => {}).then(() => closeSync(fd));
    this.stopFd = p.stopFd;
  }

  /** Resolves once the container's side has closed (all output copied), or after timeoutMs. */
  async drained(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.done, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    process.off('SIGWINCH', this.onWinch);
    try {
      writeSync(this.stopFd, Buffer.from([1]));
    } catch {
      /* the proxy has ended and closed its end */
    }
    closeSync(this.stopFd);
    if (this.saved) {
      try {
        native().restoreTermios(0, this.saved);
      } catch {
        /* the terminal went away */
      }
      this.saved = null;
    }
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
}
