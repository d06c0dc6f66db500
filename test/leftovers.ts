// What a command may leave behind on the host, looked up from outside hako:
// state directories, cgroups, mounts, processes and temporary files. The
// fault and fuzz tests assert that a failed command leaves none of them.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { HAKO, REPO, type Result } from './helpers.js';

export const LAUNCHER = path.join(REPO, 'build/Release/hako-launcher');

/** Directories under every cgroup hierarchy whose name contains `id`. */
export function cgroupsNamed(id: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 8) return;
    let names: string[];
    try {
      names = readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch {
      return;
    }
    for (const n of names) {
      const p = path.join(dir, n);
      if (n.includes(id)) found.push(p);
      walk(p, depth + 1);
    }
  };
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash > 0 && (f[dash + 1] === 'cgroup' || f[dash + 1] === 'cgroup2')) walk(f[4]!, 0);
  }
  return found;
}

/** Mount lines that name `text` (a temporary directory of the test). */
export function mountsNaming(text: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(text));
}

/** Live processes of this checkout's launcher (a waiting init, an orphan), or with `dir` in their root, cwd or command line. */
export function processesOf(dir: string): number[] {
  const pids: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'latin1');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'Z' || state === 'X') continue;
      const cmd = readFileSync(`/proc/${n}/cmdline`, 'latin1');
      let root = '';
      let cwd = '';
      try {
        root = readlinkSync(`/proc/${n}/root`);
        cwd = readlinkSync(`/proc/${n}/cwd`);
      } catch {
        /* not ours to see */
      }
      if (cmd.startsWith(LAUNCHER + '\0') || cmd.includes(dir) || root.startsWith(dir) || cwd.startsWith(dir)) pids.push(Number(n));
    } catch {
      /* gone */
    }
  }
  return pids.filter((p) => p !== process.pid);
}

/** Files below `dir` whose names look like a half-written temporary file. */
export function tempFilesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 6) return;
    let ents;
    try {
      ents = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      const p = path.join(d, e.name);
      if (/\.tmp$|\.tmp\.|^\..*\.\d+\.tmp/.test(e.name)) found.push(p);
      if (e.isDirectory() && !e.isSymbolicLink() && e.name !== 'rootfs') walk(p, depth + 1);
    }
  };
  walk(dir, 0);
  return found;
}

/** Runs `argv` (the first element the program) with output in files under `scratch`; timeout in ms; in `cwd` if given (else ours). */
export function runCaptured(
  argv: string[],
  scratch: string,
  timeoutMs: number,
  input?: string,
  cwd?: string,
): Result & { timedOut: boolean; signal: NodeJS.Signals | null } {
  const outFile = path.join(scratch, `.out-${process.pid}`);
  const errFile = path.join(scratch, `.err-${process.pid}`);
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  try {
    const r = spawnSync(argv[0]!, argv.slice(1), {
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      stdio: [input === undefined ? 'ignore' : 'pipe', out, err],
      input,
      cwd,
    });
    const timedOut = r.error !== undefined && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    if (r.error && !timedOut) throw r.error;
    return { status: r.status, signal: r.signal, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8'), timedOut };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(outFile, { force: true });
    rmSync(errFile, { force: true });
  }
}

/** bin/hako is the Bun executable (not `HAKO_ENGINE=node`'s script). */
export function hakoIsBun(): boolean {
  return !readFileSync(HAKO).subarray(0, 2).equals(Buffer.from('#!'));
}

export function haveStrace(): boolean {
  return existsSync('/usr/bin/strace');
}
