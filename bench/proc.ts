// Running a runtime's commands and timing them.
//
// Commands get stdout and stderr redirected to files, not pipes: `create`
// leaves the container init holding them, and a pipe would keep the
// command's 'close' from ever arriving. The elapsed time is taken from the
// spawn to the child's exit event (wait4 of the child by libuv).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { native, isNativeError, type WaitResult } from '../src/native.js';
import { parseTimeMaxRss } from './stats.js';

export interface CmdResult {
  argv: string[];
  code: number | null;
  signal: string | null;
  /** Milliseconds from spawn to exit. */
  ms: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** ru_maxrss of the command in KiB, when run with `rss: true`. */
  maxRssKb: number | null;
}

export interface CmdOptions {
  timeoutMs?: number;
  cwd?: string;
  /** Run under `/usr/bin/time -f %M` to get the command's peak RSS. */
  rss?: boolean;
  /** Passed to the child as its stdin (default: /dev/null). */
  stdinFd?: number;
  env?: NodeJS.ProcessEnv;
}

export const GNU_TIME = '/usr/bin/time';
export const hasGnuTime = (): boolean => existsSync(GNU_TIME);

let scratchDir = '/tmp';
let seq = 0;

/** Where the stdout/stderr files of commands go. */
export function setScratch(dir: string): void {
  scratchDir = dir;
}

export function ok(r: CmdResult): boolean {
  return r.code === 0 && !r.timedOut;
}

/** A one-line description of a failed command. */
export function failure(r: CmdResult): string {
  const how = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  const msg = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-2).join(' / ');
  return `${path.basename(r.argv[0] ?? '?')} ${r.argv.slice(1).join(' ')}: ${how}${msg ? `: ${msg.slice(0, 300)}` : ''}`;
}

export async function cmd(argv: string[], opts: CmdOptions = {}): Promise<CmdResult> {
  const n = ++seq;
  const outPath = path.join(scratchDir, `cmd-${process.pid}-${n}.out`);
  const errPath = path.join(scratchDir, `cmd-${process.pid}-${n}.err`);
  const rssPath = path.join(scratchDir, `cmd-${process.pid}-${n}.rss`);
  const out = openSync(outPath, 'w+');
  const err = openSync(errPath, 'w+');
  const full = opts.rss ? [GNU_TIME, '-f', '%M', '-o', rssPath, ...argv] : argv;
  const t0 = process.hrtime.bigint();
  let timedOut = false;
  const result = await new Promise<{ code: number | null; signal: string | null; t1: bigint }>((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), {
      stdio: [opts.stdinFd ?? 'ignore', out, err],
      cwd: opts.cwd,
      env: opts.env ?? process.env,
    });
    closeSync(out);
    closeSync(err);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, t1: process.hrtime.bigint() });
    });
  });
  const r: CmdResult = {
    argv,
    code: result.code,
    signal: result.signal,
    ms: Number(result.t1 - t0) / 1e6,
    stdout: readFileSync(outPath, 'utf8'),
    stderr: readFileSync(errPath, 'utf8'),
    timedOut,
    maxRssKb: null,
  };
  if (opts.rss) {
    if (existsSync(rssPath)) r.maxRssKb = parseTimeMaxRss(readFileSync(rssPath, 'utf8'));
    rmSync(rssPath, { force: true });
  }
  rmSync(outPath, { force: true });
  rmSync(errPath, { force: true });
  return r;
}

/**
 * Waits for a process re-parented to us (we are the subreaper): blocking
 * waitpid on a threadpool thread. Use only a few at a time (libuv's pool
 * has 4 threads); `pollExit` is for many.
 */
export async function waitExit(pid: number, timeoutMs = 30_000): Promise<WaitResult | null> {
  const timer = new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs).unref());
  try {
    return await Promise.race([native().waitpidAsync(pid), timer]);
  } catch (e) {
    if (isNativeError(e, 'ECHILD')) return null;
    throw e;
  }
}

/** Polls waitpid(WNOHANG) every `everyMs`: for waiting on many at once. */
export async function pollExit(pid: number, timeoutMs = 30_000, everyMs = 1): Promise<WaitResult | null> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    let r: WaitResult | null;
    try {
      r = native().waitpid(pid, true);
    } catch (e) {
      if (isNativeError(e, 'ECHILD')) return null;
      throw e;
    }
    if (r) return r;
    if (Date.now() > end) return null;
    await new Promise((res) => setTimeout(res, everyMs));
  }
}

/** Reaps `pid` if it is our zombie child; never blocks. */
export function reap(pid: number): void {
  try {
    native().waitpid(pid, true);
  } catch {
    /* not our child, or already reaped */
  }
}

/** A process is alive (not a zombie). */
export function alive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}
