// The TypeScript end of the launcher protocol: spawn the launcher with the
// container's stdio, hand it the plan, learn the init's pid, release it
// with MSG_GO, and wait until it is ready (or says why not).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import { fstatSync, readdirSync } from 'node:fs';
import { launcherPath, native } from '../native.js';
import { InnerError } from '../errors.js';
import { procStat } from '../container/proc.js';
import { T, TAG_NAME } from './plan-tags.js';
import { encode, field, rec, splitRecords, type Rec } from './tlv.js';

/** The launcher or the init failed (a system error); the operation names the container. */
export class LaunchError extends InnerError {
  constructor(
    message: string,
    readonly errno = 0,
  ) {
    super(message, 'system');
    this.name = 'LaunchError';
  }
}

/** An fd of ours the launcher needs, and the plan tag that tells it the number. */
export interface PassFd {
  tag: 'CONSOLE_FD' | 'EXEC_PIDFD' | 'SECCOMP_FD_SOCK' | 'CGROUP_FD' | 'PIDFD_SOCK';
  fd: number;
}

/**
 * A filter with SCMP_ACT_NOTIFY rules: the launcher sends its listener fd on
 * the socket whose other end went out as SECCOMP_FD_SOCK, and announces it
 * with MSG_SECCOMP_FD (addon/launcher/seccomp.c).
 */
export interface SeccompListener {
  /** Our end of the socketpair. */
  sock: number;
  /** Passes the listener on; InitSession closes it afterwards and lets the process go on (MSG_SECCOMP_DONE). A throw fails the launch. */
  deliver(fd: number): void;
}

/** The process's fds 0, 1 and 2: ours, /dev/null, or an fd of ours. */
export type LauncherStdio = readonly [LauncherStdioEntry, LauncherStdioEntry, LauncherStdioEntry];
export type LauncherStdioEntry = 'inherit' | 'ignore' | number;

export interface LaunchOptions {
  /** Default: ours (the CLI's behaviour). */
  stdio?: LauncherStdio;
  /** Extra fds 3.. passed to the container at the same numbers. */
  extraFds: number;
  /** Our fds the launcher gets after the sync socket (never the container's). */
  passFds?: readonly PassFd[];
  /** Exec mode: the launcher answers MSG_EXEC_PID rather than MSG_PID. */
  exec?: boolean;
  /** A warning of the launcher's, or with LOG_LEVEL 1 a debug line of its. */
  onWarning?: (text: string, level: 'warn' | 'debug') => void;
  seccompListener?: SeccompListener;
  /**
   * Create mode with a new user namespace: the launcher made it and waits
   * for its maps, to be written through /proc/<pid> of the launcher (its
   * pid, given here). A throw fails the launch.
   */
  onUserns?: (launcherPid: number) => void;
}

interface LauncherExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function exitText(x: LauncherExit): string {
  return x.signal ? `was killed by ${x.signal}` : `exited with status ${x.code}`;
}

/** Field 22 of /proc/PID/stat (clock ticks since boot), or '' once it is gone. */
function procStartTime(pid: number): string {
  const st = procStat(pid);
  return st ? st.startTime : '';
}

/** How long a process that lost its launcher may take to exit on our end of file. */
const ORPHAN_EXIT_MS = 5000;

/**
 * Reaps the process a launcher cloned before it died: `pid` when the
 * launcher said it, else our children that are copies of the launcher
 * started no earlier than it (`since`), which exit on the end of file we
 * gave them. Killed first when the pid is known (it may still wait for
 * MSG_GO). A child that does not exit is someone else's launch, left alone.
 */
function reapOrphans(pid: number, since: string): void {
  const n = native();
  const wait = (p: number) => {
    let fd = -1;
    try {
      fd = n.pidfdOpen(p);
      n.poll(fd, n.constants.POLLIN, ORPHAN_EXIT_MS);
      n.waitpid(p, true);
    } catch {
      /* gone, or not our child */
    } finally {
      if (fd >= 0) n.close(fd);
    }
  };
  if (pid > 0) {
    try {
      n.kill(pid, 9);
    } catch {
      return;
    }
    wait(pid);
    return;
  }
  for (const p of launcherChildren(since)) wait(p);
}

/**
 * Launchers of ours that Node spawned and has not yet seen exit. In a
 * process that launches several containers at once (the library), they
 * match the search below too, but they are Node's to reap: reaping one
 * here would leave its launch waiting for an exit Node never sees.
 */
const spawnedLaunchers = new Set<number>();

/** Our children running the launcher's binary, started at `since` or later, not spawned by Node. */
function launcherChildren(since: string): number[] {
  const found: number[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const name of names) {
    if (!/^[0-9]+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (!st || st.ppid !== process.pid || !LAUNCHER_COMM.test(st.comm) || spawnedLaunchers.has(Number(name))) continue;
    if (since !== '' && BigInt(st.startTime || '0') < BigInt(since)) continue;
    found.push(Number(name));
  }
  return found;
}

// The launcher's own name, or the memfd it runs from (selfseal.c).
const LAUNCHER_COMM = /^(hako-launcher|memfd:hako-laun)$/;

/** A launched init waiting for MSG_GO; owns the sync socket. */
export class InitSession {
  private buf: Buffer = Buffer.alloc(0);
  private queue: Rec[] = [];
  private waiters: Array<() => void> = [];
  private ended = false;
  private listenerTaken = false;

  private constructor(
    private readonly sock: Socket,
    private readonly child: ChildProcess,
    private readonly onWarning: (t: string, level: 'warn' | 'debug') => void,
    private readonly listener: SeccompListener | undefined,
  ) {
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      const { records, rest } = splitRecords(this.buf);
      this.buf = rest;
      for (const r of records) {
        if (r.tag === T.MSG_WARN)
          this.onWarning(field<string>(r.value as Rec[], 'WARN_TEXT') ?? '', field<boolean | number>(r.value as Rec[], 'WARN_DEBUG') ? 'debug' : 'warn');
        else this.queue.push(r);
      }
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    sock.on('end', end);
    sock.on('close', end);
    sock.on('error', end);
  }

  pid = 0;
  /** The launcher cloned the process into CGROUP_FD's cgroup: nobody need move it. */
  inCgroup = false;

  static async start(plan: Rec[], opts: LaunchOptions): Promise<InitSession> {
    const n = opts.extraFds;
    // The engine would say only "fcntl: bad file descriptor".
    for (let fd = 3; fd < 3 + n; fd++) {
      try {
        fstatSync(fd);
      } catch {
        throw new LaunchError(
          `fd ${fd} is to be passed to the ${opts.exec ? 'process' : 'container'} (--preserve-fds ${n}, or LISTEN_FDS), but it is not open`,
        );
      }
    }
    const stdio: StdioOptions = [...(opts.stdio ?? ['inherit', 'inherit', 'inherit'])];
    for (let i = 0; i < n; i++) stdio.push(3 + i);
    stdio.push('pipe');
    const syncFd = 3 + n;
    const pass = opts.passFds ?? [];
    for (const p of pass) stdio.push(p.fd);
    // Where they land is only known here, so their tags are added here.
    if (pass.length) plan = [...plan, ...pass.map((p, i) => rec(p.tag, syncFd + 1 + i))];
    // The launcher gets no environment of ours: the container's comes from
    // the plan, and nothing of the runtime's should leak into it.
    const child = spawn(launcherPath(), [String(syncFd)], { stdio, env: {} });
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new LaunchError(`cannot run the launcher ${launcherPath()}: ${e.message}`)));
    });
    const exited = new Promise<LauncherExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await spawned;
    const launcherPid = child.pid!;
    spawnedLaunchers.add(launcherPid);
    void exited.then(() => spawnedLaunchers.delete(launcherPid));
    const startTime = procStartTime(child.pid ?? 0);
    const sock = child.stdio[syncFd] as Socket;
    const s = new InitSession(sock, child, opts.onWarning ?? (() => {}), opts.seccompListener);
    // The launcher exits 0 only once it has sent the pid. Any other end may
    // come after it cloned the process but before it said so: that process
    // is ours (CLONE_PARENT) and holds the launcher's end of the socket, so
    // no end of file would come while it waits for MSG_GO, nor MSG_GO while
    // we wait for the pid. Closing our sending side is its end of file: it
    // exits (wait_go), and then the socket ends for us too.
    void exited.then((x) => {
      if (x.code !== 0) s.endSending();
    });
    sock.write(encode(rec('MSG_PLAN', plan)));
    let reply = await s.reply();
    if (reply?.tag === T.MSG_USERNS) {
      try {
        if (!opts.onUserns) throw new LaunchError('launcher protocol: unexpected MSG_USERNS');
        opts.onUserns(child.pid!);
      } catch (e) {
        s.close();
        await exited;
        throw e;
      }
      sock.write(encode(rec('MSG_USERNS_DONE', [])));
      reply = await s.reply();
    }
    const x = await exited;
    const what = opts.exec ? 'process' : 'container';
    if (x.code !== 0 && reply?.tag !== T.MSG_ERROR) {
      // Cloned, then lost: the pid came with the reply or, if not, the
      // process ended by itself on our end of file; reap it either way.
      const pid = reply?.tag === T.MSG_PID || reply?.tag === T.MSG_EXEC_PID ? (field<number>(reply.value as Rec[], 'INIT_PID') ?? 0) : 0;
      reapOrphans(pid, startTime);
      throw new LaunchError(`the launcher ${exitText(x)} before it had started the ${what}`);
    }
    if (!reply) throw new LaunchError(`the launcher ${exitText(x)} without starting the ${what}`);
    s.check(reply, opts.exec ? T.MSG_EXEC_PID : T.MSG_PID);
    s.pid = field<number>(reply.value as Rec[], 'INIT_PID') ?? 0;
    if (!s.pid) throw new LaunchError('the launcher reported no pid');
    s.inCgroup = !!field<boolean | number>(reply.value as Rec[], 'INIT_IN_CGROUP');
    return s;
  }

  /** Releases the init; resolves once it has set up the container and waits on exec.fifo. */
  async go(stateJson: string, startStateJson?: string): Promise<void> {
    const fields = [rec('STATE_JSON', stateJson)];
    if (startStateJson) fields.push(rec('STATE_JSON_START', startStateJson));
    this.sock.write(encode(rec('MSG_GO', fields)));
    const reply = await this.reply();
    if (!reply) throw new LaunchError('the container init exited during setup without saying why');
    this.check(reply, T.MSG_READY);
  }

  /**
   * The container is recorded: the init may block on exec.fifo. Until this
   * it waits, and exits on end of file instead (a runtime that died before
   * recording it would leave it blocked where nobody knows its pid).
   */
  async commit(): Promise<void> {
    // Flushed before close() may destroy the socket.
    await new Promise<void>((resolve, reject) =>
      this.sock.write(encode(rec('MSG_COMMIT', [])), (e) =>
        e ? reject(new LaunchError(`the container init went away before it was recorded: ${e.message}`)) : resolve(),
      ),
    );
  }

  /**
   * Exec mode: releases the process; resolves once it has called execve
   * (the sync socket is close-on-exec, so its end of file is the success),
   * rejects with its reason when it could not get there.
   */
  async goExec(): Promise<void> {
    this.sock.write(encode(rec('MSG_GO', [])));
    const reply = await this.reply();
    if (!reply) return;
    // check() throws the process's own message for MSG_ERROR.
    this.check(reply, -1);
  }

  private endSending(): void {
    if (!this.sock.destroyed) this.sock.end();
  }

  close(): void {
    this.sock.destroy();
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private check(r: Rec, want: number): void {
    if (r.tag === T.MSG_ERROR) {
      const fields = r.value as Rec[];
      throw new LaunchError(field<string>(fields, 'ERR_TEXT') ?? 'unknown launcher error', field<number>(fields, 'ERR_ERRNO') ?? 0);
    }
    if (r.tag !== want) throw new LaunchError(`launcher protocol: expected ${TAG_NAME[want] ?? 'end of file'}, got ${TAG_NAME[r.tag] ?? r.tag}`);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * The next record that answers us. A listener announced on the way is
   * passed on at once, whatever we wait for: the process may already be
   * waiting on a notified syscall that only the agent can answer.
   */
  private async reply(): Promise<Rec | null> {
    for (;;) {
      const r = await this.next();
      if (r?.tag !== T.MSG_SECCOMP_FD) return r;
      this.takeListener();
      // The process goes on (and may run the container's code) only now.
      this.sock.write(encode(rec('MSG_SECCOMP_DONE', [])));
    }
  }

  private takeListener(): void {
    if (!this.listener || this.listenerTaken) throw new LaunchError('launcher protocol: unexpected MSG_SECCOMP_FD');
    this.listenerTaken = true;
    // The launcher queues the fd before it announces it: this does not block.
    const { fd } = native().recvFd(this.listener.sock, 16);
    if (fd < 0) throw new LaunchError('launcher protocol: MSG_SECCOMP_FD, but no fd came on the seccomp socket');
    try {
      this.listener.deliver(fd);
    } finally {
      native().close(fd);
    }
  }

  private async next(): Promise<Rec | null> {
    for (;;) {
      const r = this.queue.shift();
      if (r) return r;
      if (this.ended) return null;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}
