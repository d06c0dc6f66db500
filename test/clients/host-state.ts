// What the client suites need around the clients: running a command with a
// time limit, polling for a condition, and proving that the daemons they
// started left nothing on the host (mounts, processes, cgroups, the
// directories containerd and dockerd make outside the paths they are given).
//
// Colleagues' suites may run on the same host at the same time, so nothing
// here compares the whole host before and after: each check is scoped to
// names this run made (its temporary directory, its cgroup parents, the
// sockets of its daemons).
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { unescapeMountinfo } from '../../src/mountinfo.js';

export interface CmdResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr, for messages. */
  all: string;
}

/** Runs a command without a shell; stdin is /dev/null unless `input` is given. */
export function cmd(argv: string[], opts: SpawnSyncOptions & { input?: string } = {}): CmdResult {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 << 20,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...opts,
  });
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`);
  const stdout = String(r.stdout ?? '');
  const stderr = String(r.stderr ?? '');
  return { status: r.status, stdout, stderr, all: stdout + stderr };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `f` until it returns something truthy; generous by default (CI has 2 shared cores). */
export async function waitFor<T>(what: string, f: () => T | undefined | null | false, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (let i = 0; ; i++) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(i < 10 ? 50 : 200);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is dead for our purposes (its parent reaps it).
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Pids of processes whose command line mentions `needle` (our temp dir, our socket). */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(needle) && isAlive(Number(name))) pids.push(Number(name));
  }
  return pids;
}

/** Mount points (as /proc/self/mountinfo shows them) at or under any of `dirs`. */
export function mountsUnder(dirs: string[]): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => unescapeMountinfo(l.split(' ')[4]!))
    .filter((m) => dirs.some((d) => m === d || m.startsWith(d.endsWith('/') ? d : d + '/')));
}

/** Every cgroup hierarchy's mount point (v1 controllers and the unified tree). */
export function cgroupMounts(): string[] {
  const out = new Set<string>();
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = l.split(' - ');
    if (!pre || !post) continue;
    const type = post.split(' ')[0];
    if (type === 'cgroup' || type === 'cgroup2') out.add(pre.split(' ')[4]!);
  }
  return [...out];
}

/** Directories under `dir`, deepest first. */
function subdirs(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e);
    try {
      if (!statSync(p).isDirectory()) continue;
    } catch {
      continue;
    }
    out.push(...subdirs(p), p);
  }
  return out;
}

/**
 * The cgroup parent a suite's containers live under (ctr: /<namespace>,
 * Docker: --cgroup-parent). The runtime makes the parent on the way to the
 * container's own cgroup and, like runc, removes only the container's own
 * at delete: the parent is the suite's to remove. Returns the container
 * cgroups still there (a leak), and removes the parent where it can.
 */
export function removeCgroupParent(parent: string): string[] {
  const leaked: string[] = [];
  for (const mnt of cgroupMounts()) {
    const top = path.join(mnt, parent);
    if (!existsSync(top)) continue;
    for (const d of subdirs(top)) {
      leaked.push(d);
      try {
        rmdirSync(d);
      } catch {
        /* still has processes: reported */
      }
    }
    try {
      rmdirSync(top);
    } catch (e) {
      leaked.push(`${top} (${(e as Error).message})`);
    }
  }
  return leaked;
}

/**
 * Host directories a daemon makes whatever paths it is given: the shim
 * sockets of containerd 1.6 go to /run/containerd/s, dockerd makes
 * /run/docker/plugins. Records which of them exist now; `sweep` later
 * returns what is left inside the ones that were new, and removes those
 * that are empty, innermost first.
 */
export class HostDirs {
  private readonly absent: string[];
  constructor(private readonly dirs: string[]) {
    this.absent = dirs.filter((d) => !existsSync(d));
  }

  /** Entries left in directories this run made; empty ones are removed. */
  sweep(): string[] {
    const left: string[] = [];
    for (const d of [...this.absent].sort((a, b) => b.length - a.length)) {
      if (!existsSync(d)) continue;
      const entries = readdirSync(d).filter((e) => !this.dirs.includes(path.join(d, e)));
      if (entries.length) {
        left.push(...entries.map((e) => path.join(d, e)));
        continue;
      }
      try {
        rmdirSync(d);
      } catch (e) {
        left.push(`${d} (${(e as Error).message})`);
      }
    }
    return left;
  }
}

/** Stops a daemon we started: SIGTERM by pid, SIGKILL if it lingers; resolves once it is gone. */
export async function stopDaemon(pid: number, what: string, graceMs = 60_000): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  try {
    await waitFor(`${what} (pid ${pid}) to exit`, () => !isAlive(pid), graceMs);
  } catch {
    process.kill(pid, 'SIGKILL');
    await waitFor(`${what} (pid ${pid}) to die`, () => !isAlive(pid), 10_000);
  }
}
