// Foreground run and exec pass the signals they get on to the process they
// wait for, as runc does. The handlers go in before that process runs: a
// signal that comes while it starts would otherwise kill hako (Node's
// default) and leave the process running without its supervisor. Until the
// target is known and running, signals wait in order.
import { constants } from 'node:os';
import { native } from '../native.js';

// Everything a terminal or a supervisor may send, except what is about us
// (SIGCHLD) or cannot be caught.
const FORWARD: readonly NodeJS.Signals[] = [
  'SIGTERM',
  'SIGINT',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
  'SIGCONT',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGALRM',
  'SIGPIPE',
];

export class SignalForwarder {
  private pid = 0;
  private held: number[] = [];
  private readonly handlers = new Map<NodeJS.Signals, () => void>();

  constructor() {
    for (const s of FORWARD) {
      const sig = constants.signals[s];
      const h = () => (this.pid > 0 ? this.send(sig) : this.held.push(sig));
      this.handlers.set(s, h);
      process.on(s, h);
    }
  }

  /** Someone else handles this one (the terminal proxy turns SIGWINCH into window sizes). */
  leave(s: NodeJS.Signals): void {
    const h = this.handlers.get(s);
    if (h) process.off(s, h);
    this.handlers.delete(s);
  }

  /** The process runs: deliver what was held, then forward as signals come. */
  target(pid: number): void {
    this.pid = pid;
    for (const sig of this.held.splice(0)) this.send(sig);
  }

  stop(): void {
    for (const [s, h] of this.handlers) process.off(s, h);
    this.handlers.clear();
    this.held = [];
  }

  private send(sig: number): void {
    try {
      native().kill(this.pid, sig);
    } catch {
      /* exited */
    }
  }
}
