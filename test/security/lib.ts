// Shared by the security tests (test/security/*.test.ts). Each test attacks
// only canary files it made, and runs a control in the same run: the same
// attack where the defence is absent (a host process standing in for a
// runtime without it, or a config without it), so that a test cannot pass by
// failing to attack.
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { HAKO, REPO, type Env, type Result } from '../helpers.js';

export interface CanaryOptions {
  /** The file's path inside the canary directory (subdirectories are made); "secret" unless given. */
  file?: string;
  /** Its bytes (a program, say); random text unless given. */
  bytes?: Buffer;
}

/** Every path under dir, relative to it, sorted; symlinks are listed, never followed. */
function tree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    out.push(rel);
    if (e.isDirectory()) out.push(...tree(dir, rel));
  }
  return out.sort();
}

/** A host file (and its directory) an attack aims at; its content is random. */
export class Canary {
  readonly dir: string;
  readonly file: string;
  readonly content: string;
  readonly bytes: Buffer;
  private readonly mtimeNs: bigint;
  private readonly listing: string[];

  constructor(env: Env, name: string, opts: CanaryOptions = {}) {
    this.dir = path.join(env.dir, `canary-${name}`);
    mkdirSync(this.dir, { mode: 0o755 });
    this.file = path.join(this.dir, opts.file ?? 'secret');
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o755 });
    this.bytes = opts.bytes ?? Buffer.from(`canary ${name} ${randomBytes(8).toString('hex')}\n`);
    this.content = this.bytes.toString('utf8');
    writeFileSync(this.file, this.bytes, { mode: opts.bytes ? 0o755 : 0o644 });
    this.mtimeNs = statSync(this.file, { bigint: true }).mtimeNs;
    this.listing = tree(this.dir);
  }

  /** The file as made, and nothing added beside it. */
  intact(): boolean {
    try {
      return (
        readFileSync(this.file).equals(this.bytes) &&
        statSync(this.file, { bigint: true }).mtimeNs === this.mtimeNs &&
        tree(this.dir).join('/') === this.listing.join('/')
      );
    } catch {
      return false;
    }
  }

  /** What is in the directory now besides what was made (an attack's leftovers). */
  extra(): string[] {
    return tree(this.dir).filter((n) => !this.listing.includes(n));
  }
}

/** A bounded race: runs `attempt` up to `n` times, stops at the first true. Returns the attempt that won, or -1. */
export function race(n: number, attempt: (i: number) => boolean): number {
  for (let i = 0; i < n; i++) if (attempt(i)) return i;
  return -1;
}

/** Sleeps without spinning (tests are synchronous where they can be). */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Polls `ready` every 50 ms, at most `tries` times; throws naming `what` if it
 * never holds. For waiting on another process's progress, never for timing.
 */
export function waitFor<T>(what: string, ready: () => T | undefined | false, tries = 200): T {
  for (let i = 0; i < tries; i++) {
    const v = ready();
    if (v !== undefined && v !== false) return v;
    sleepMs(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}

/**
 * bin/hako with `fds` as its fds 3, 4, ... (what a caller passes with
 * --preserve-fds, or leaks); output through files as Env.hako does.
 */
export function hakoWithFds(env: Env, args: string[], fds: number[], opts: SpawnSyncOptions = {}): Result {
  const stem = path.join(env.dir, `.fds-${process.pid}-${randomBytes(4).toString('hex')}`);
  const out = openSync(`${stem}.out`, 'w');
  const err = openSync(`${stem}.err`, 'w');
  try {
    const r = spawnSync(HAKO, ['--root', env.root, ...args], { timeout: 60_000, stdio: ['ignore', out, err, ...fds], ...opts });
    if (r.error) throw r.error;
    return { status: r.status, stdout: readFileSync(`${stem}.out`, 'utf8'), stderr: readFileSync(`${stem}.err`, 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(`${stem}.out`, { force: true });
    rmSync(`${stem}.err`, { force: true });
  }
}

/**
 * A path that reaches `hostFile` from any working directory on the host,
 * and nothing from one inside a container's root ("..": "/" stops there).
 */
export function fromAnyCwd(hostFile: string): string {
  return '../'.repeat(24) + hostFile.replace(/^\/+/, '');
}

// ---- the probe (probe.c): attacks from inside a container, stand-ins on the host ----

let probeBin: string | undefined;

/** probe.c built static (once per process) into a directory of its own; its path. */
export function probe(): string {
  if (probeBin) return probeBin;
  const dir = mkdtempSync('/tmp/hako-probe-');
  const bin = path.join(dir, 'probe');
  const r = spawnSync('cc', ['-static', '-O2', '-o', bin, path.join(REPO, 'test/security/probe.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc -static probe.c: ${r.stderr || r.error}`);
  probeBin = bin;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return bin;
}

/** Puts the probe at /probe in the bundle's rootfs. */
export function withProbe(bundle: string): void {
  copyFileSync(probe(), path.join(bundle, 'rootfs/probe'));
  chmodSync(path.join(bundle, 'rootfs/probe'), 0o755);
}

/** The pid of a host process as its own (innermost) pid namespace numbers it. */
export function nsPid(hostPid: number): number {
  const m = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${hostPid}/status`, 'utf8'));
  if (!m) throw new Error(`/proc/${hostPid}/status: no NSpid line`);
  return Number(m[1]!.trim().split(/\s+/).pop());
}

/** Lines of `probe attack`: what succeeded ("<what> ok ..."), and the whole output. */
export interface ProbeResult {
  out: string;
  ok: string[];
}

export function probeResult(out: string): ProbeResult {
  return { out, ok: out.split('\n').filter((l) => / ok( |$)/.test(l)) };
}

/**
 * Yama's ptrace_scope above 0 refuses PTRACE_ATTACH (and pidfd_getfd) to
 * non-descendants whatever the runtime does: the ptrace and pidfd_getfd
 * controls cannot succeed then, only the /proc ones.
 */
export function ptraceRestricted(): boolean {
  try {
    return Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim()) > 0;
  } catch {
    return false;
  }
}

/** A stand-in (probe standin): in the pid namespace of `target`, dumpable, no capabilities, `dir` at fd 7, a socket at fd 8, the host's root. */
export interface Standin {
  /** Its pid in that pid namespace. */
  nspid: number;
  stop(): void;
}

export async function standin(target: number, dir: string): Promise<Standin> {
  const child = spawn(probe(), ['standin', String(target), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const nspid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`probe standin: no answer (${err.trim()})`)), 20_000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^standin (\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`probe standin exited with ${code}: ${err.trim()}`));
    });
  });
  return {
    nspid,
    stop: () => {
      // Its child dies with it (PR_SET_PDEATHSIG).
      child.kill('SIGKILL');
    },
  };
}
