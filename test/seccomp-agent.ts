// A seccomp agent for the tests, living in the test process: it listens
// where linux.seccomp.listenerPath points, takes each listener with its
// container process state (one recvmsg, as runc's example agent reads it),
// and answers notifications as the listener's metadata says:
//   "errno=N"   the notified syscall fails with errno N
//   "continue"  the notified syscall runs (SECCOMP_USER_NOTIF_FLAG_CONTINUE)
// It polls its listeners from a timer, so that the test stays free to run
// hako asynchronously: a synchronous spawn would block the agent, and with
// it any container waiting on a notified syscall.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';

import { isNativeError, native } from '../src/native.js';
import { takeFd } from './fd-receiver.js';
import { HAKO, type Env, type Result } from './helpers.js';

export interface Received {
  /** The JSON that came with the fd (runtime-spec's ContainerProcessState). */
  state: any;
  /** readlink of the fd: "anon_inode:seccomp notify" for a listener. */
  fdKind: string;
}

export interface Seen {
  nr: number;
  pid: number;
  /** The metadata of the listener it came on. */
  metadata?: string;
  answer: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TestAgent {
  readonly received: Received[] = [];
  readonly notifications: Seen[] = [];
  /** What went wrong in a callback, reported by stop(). */
  readonly errors: unknown[] = [];
  private listeners: Array<{ fd: number; metadata?: string }> = [];
  private timer: NodeJS.Timeout;

  private constructor(
    private readonly server: Server,
    private readonly fallback: string,
  ) {
    server.on('connection', (conn: Socket) => {
      takeFd(conn)
        .then(({ fd, data }) => {
          conn.destroy();
          const state = JSON.parse(data.toString('utf8'));
          let fdKind = '';
          if (fd >= 0) {
            fdKind = readlinkSync(`/proc/self/fd/${fd}`);
            this.listeners.push({ fd, metadata: state.metadata });
          }
          this.received.push({ state, fdKind });
        })
        .catch((e) => this.errors.push(e));
    });
    this.timer = setInterval(() => this.serve(), 2);
  }

  /** `fallback` answers listeners that came without metadata. */
  static async start(socketPath: string, fallback = 'continue'): Promise<TestAgent> {
    const server = createServer({ pauseOnConnect: true });
    server.listen(socketPath);
    await once(server, 'listening');
    return new TestAgent(server, fallback);
  }

  /** Resolves once `n` listeners have come (or rejects after timeoutMs). */
  async waitFor(n: number, timeoutMs = 20_000): Promise<void> {
    for (const end = Date.now() + timeoutMs; this.received.length < n; await sleep(5)) {
      if (Date.now() > end) throw new Error(`the agent got ${this.received.length} listeners, not ${n}`);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.server.close();
    for (const l of this.listeners) closeSync(l.fd);
    this.listeners = [];
    if (this.errors.length) throw this.errors[0];
  }

  private serve(): void {
    const n = native();
    for (const l of [...this.listeners]) {
      for (;;) {
        let notif;
        try {
          notif = n.seccompNotifRecv(l.fd, 0);
        } catch (e) {
          if (isNativeError(e, 'ENOENT')) continue; // its caller was killed
          if (isNativeError(e, 'ESRCH')) {
            // No process uses the filter any more.
            closeSync(l.fd);
            this.listeners = this.listeners.filter((x) => x !== l);
          } else this.errors.push(e);
          break;
        }
        if (!notif) break;
        const answer = l.metadata ?? this.fallback;
        const errno = /^errno=(\d+)$/.exec(answer);
        try {
          n.seccompNotifRespond(l.fd, notif.id, errno ? { error: Number(errno[1]) } : { continue: true });
        } catch (e) {
          if (!isNativeError(e, 'ENOENT')) this.errors.push(e);
        }
        this.notifications.push({ nr: notif.nr, pid: notif.pid, metadata: l.metadata, answer });
      }
    }
  }
}

/** env.hako without blocking the event loop (the agent runs on it); output through files, as there. */
export async function hakoAsync(env: Env, args: string[], runtime = HAKO): Promise<Result> {
  const tag = `${process.pid}-${Math.random().toString(36).slice(2)}`;
  const outFile = path.join(env.dir, `.aout-${tag}`);
  const errFile = path.join(env.dir, `.aerr-${tag}`);
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  try {
    const child = spawn(runtime, ['--root', env.root, ...args], { stdio: ['ignore', out, err] });
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(kill);
    return { status: code, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(outFile, { force: true });
    rmSync(errFile, { force: true });
  }
}
