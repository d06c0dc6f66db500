// What the podman suite may leave on the host, looked for where it would be:
// mounts under the suite's directory, conmon (or any process) naming that
// directory, hako state whose bundle is in it, cgroups under podman's
// cgroupfs parent, and podman's few host-wide files. The snapshot taken
// before the suite tells ours from what was already there; only ours is
// ever removed.
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { HAKO } from '../helpers.js';
import { unescapeMountinfo } from '../../src/mountinfo.js';

/** podman's default cgroupfs parent (config.json cgroupsPath /libpod_parent/libpod-<ID>). */
export const CGROUP_PARENT = 'libpod_parent';
/** hako's default state root: podman runs hako without --root. */
export const HAKO_ROOT = '/run/hako';

/**
 * Host-wide files podman writes unless configured away; the suite's
 * containers.conf moves all but the first into its directory. podman 4.3
 * has no setting for its blob-info cache, so an `import` creates it.
 */
const PODMAN_HOST_PATHS = [
  '/var/lib/containers/cache/blob-info-cache-v1.boltdb',
  '/var/lib/containers/cache',
  '/var/lib/containers',
  '/dev/shm/libpod_lock',
  '/etc/cni/net.d/cni.lock',
  '/etc/containers/networks',
  '/run/libpod',
  '/run/containers',
];
/** Expected: podman 4.3 writes it on every image import. */
const EXPECTED_HOST_PATHS = new Set(PODMAN_HOST_PATHS.slice(0, 3));

export interface HostSnapshot {
  cgroupDirs: Set<string>;
  hostPaths: Set<string>;
}

/** Mount points of the cgroup hierarchies (v1 controllers, named, unified). */
function cgroupMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => {
      const sep = f.indexOf('-');
      return sep > 0 && (f[sep + 1] === 'cgroup' || f[sep + 1] === 'cgroup2');
    })
    .map((f) => unescapeMountinfo(f[4]!));
}

/** Every directory under <hierarchy>/libpod_parent, the parent included. */
function cgroupDirs(): Set<string> {
  const out = new Set<string>();
  const walk = (d: string) => {
    out.add(d);
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(d, e.name));
  };
  for (const m of cgroupMounts()) {
    const p = path.join(m, CGROUP_PARENT);
    if (existsSync(p)) walk(p);
  }
  return out;
}

export function hostSnapshot(_dir: string): HostSnapshot {
  return { cgroupDirs: cgroupDirs(), hostPaths: new Set(PODMAN_HOST_PATHS.filter((p) => existsSync(p))) };
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => unescapeMountinfo(l.split(' ')[4]!))
    .filter((m) => m === dir || m.startsWith(dir + '/'));
}

/** Processes whose command line names the suite's directory (conmon does, with its paths). */
function processesNaming(dir: string): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {
      continue;
    }
    if (cmd.includes(dir)) out.push({ pid: Number(name), cmd });
  }
  return out;
}

/** hako state directories of containers whose bundle or rootfs is in the suite's directory. */
function hakoStates(dir: string): string[] {
  if (!existsSync(HAKO_ROOT)) return [];
  const out: string[] = [];
  for (const id of readdirSync(HAKO_ROOT)) {
    const d = path.join(HAKO_ROOT, id);
    for (const f of ['state.json', 'config.json']) {
      try {
        if (readFileSync(path.join(d, f), 'utf8').includes(dir)) {
          out.push(d);
          break;
        }
      } catch {
        /* not a container directory, or going away */
      }
    }
  }
  return out;
}

function tasksIn(cg: string): number[] {
  try {
    return readFileSync(path.join(cg, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Cgroups made since the snapshot, deepest first. */
function newCgroups(before: HostSnapshot): string[] {
  return [...cgroupDirs()].filter((d) => !before.cgroupDirs.has(d)).sort((a, b) => b.length - a.length);
}

export function leftovers(before: HostSnapshot, dir: string): string[] {
  const found: string[] = [];
  for (const m of mountsUnder(dir)) found.push(`mount ${m}`);
  for (const p of processesNaming(dir)) found.push(`process ${p.pid}: ${p.cmd}`);
  for (const s of hakoStates(dir)) found.push(`hako state ${s}`);
  for (const cg of newCgroups(before)) {
    const procs = tasksIn(cg);
    // conmon's own cgroup (<parent>/conmon) and the parent are podman's:
    // reported only while something still runs in them.
    if (path.basename(cg).startsWith('libpod-') || procs.length) found.push(`cgroup ${cg}${procs.length ? ` (processes ${procs.join(' ')})` : ''}`);
  }
  for (const p of PODMAN_HOST_PATHS) if (!before.hostPaths.has(p) && !EXPECTED_HOST_PATHS.has(p) && existsSync(p)) found.push(`podman file ${p}`);
  return found;
}

function isOurProcess(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}

/**
 * Removes what the suite made and podman did not clean up: kills the
 * processes naming our directory (by pid, checked again just before),
 * unmounts under it, removes hako state through hako, and removes the
 * cgroups and host files that did not exist before.
 */
export function removeLeftovers(before: HostSnapshot, dir: string): void {
  for (const p of processesNaming(dir)) {
    if (isOurProcess(p.pid, dir)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  for (const m of mountsUnder(dir).sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', m]);
  for (const s of hakoStates(dir)) spawnSync(HAKO, ['--root', HAKO_ROOT, 'delete', '--force', path.basename(s)]);
  for (const cg of newCgroups(before)) {
    for (const pid of tasksIn(cg)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    try {
      rmdirSync(cg);
    } catch {
      /* busy until its last process is reaped; nothing more we may do */
    }
  }
  for (const p of PODMAN_HOST_PATHS) {
    if (before.hostPaths.has(p) || !existsSync(p)) continue;
    try {
      if (statSync(p).isDirectory()) rmdirSync(p);
      else rmSync(p);
    } catch {
      /* not empty: something else put files there */
    }
  }
}
