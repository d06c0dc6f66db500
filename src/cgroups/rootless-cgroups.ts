// The rootless cgroup rule (runc's rootless cgroupfs manager): a user
// without write access to the cgroup tree (the usual case without systemd
// delegation) runs containers without a cgroup of their own, as long as
// config.json asks for no limits; limits that cannot be applied are an
// error, never silently dropped. A subtree the user owns (a delegated v2
// cgroup, or v1 directories chowned to it) is used as root would use it.
//
// Decided before anything is created, from what the user may write (an
// access(2) check of the directory, or of its deepest existing ancestor),
// so that a refusal is a config error that leaves nothing behind.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { LinuxResources } from '../spec/types.js';
import { settingError, pointerToken } from './cgroup-error.js';
import { loadManager, type CgroupDirs, type CgroupManager } from './manager.js';
import type { CgroupLayout } from './host.js';

/** access(2): a directory we may create in (W_OK|X_OK), a file we may write (W_OK). Injectable for tests. */
export type AccessCheck = (p: string, kind: 'dir' | 'file') => boolean;

export const hostAccess: AccessCheck = (p, kind) => {
  try {
    accessSync(p, kind === 'dir' ? constants.W_OK | constants.X_OK : constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

const exists = (p: string): boolean => {
  try {
    accessSync(p, constants.F_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * JSON pointers of the settings in linux.resources that need a cgroup.
 * Device rules are not among them: a rootless container cannot create
 * device nodes, the nodes it gets are binds of the host's (whose
 * permissions still hold), and runc ignores device cgroup errors when
 * rootless for that reason.
 */
export function requestedLimits(r: LinuxResources | undefined, at = '/linux/resources'): string[] {
  const out: string[] = [];
  if (!r) return out;
  const set = (v: unknown): boolean => {
    if (v === undefined || v === null) return false;
    if (Array.isArray(v)) return v.length > 0;
    if (typeof v === 'object') return Object.values(v as Record<string, unknown>).some(set);
    return true;
  };
  for (const [k, v] of Object.entries(r)) {
    if (k === 'devices') continue;
    if (set(v)) out.push(`${at}/${pointerToken(k)}`);
  }
  return out;
}

/**
 * Whether this user could create (or join) `dir` below `mountpoint`: when
 * it exists, the directory and its cgroup.procs (to move the init in) must
 * be writable; else its deepest existing ancestor, where hako makes it.
 * Returns the path that decided.
 */
export function mayUse(
  dir: string,
  mountpoint: string,
  access: AccessCheck = hostAccess,
  present: (p: string) => boolean = exists,
): { ok: boolean; checked: string } {
  if (present(dir)) {
    if (!access(dir, 'dir')) return { ok: false, checked: dir };
    const procs = path.join(dir, 'cgroup.procs');
    return { ok: access(procs, 'file'), checked: procs };
  }
  let cur = path.dirname(dir);
  while (cur.length > mountpoint.length && !present(cur)) cur = path.dirname(cur);
  return { ok: access(cur, 'dir'), checked: cur };
}

// The v1 controllers behind each linux.resources key (v2 has one tree).
const CONTROLLERS_OF: Readonly<Record<string, string[]>> = {
  memory: ['memory'],
  cpu: ['cpu', 'cpuset'],
  pids: ['pids'],
  blockIO: ['blkio'],
  hugepageLimits: ['hugetlb'],
  network: ['net_cls', 'net_prio'],
  rdma: ['rdma'],
};

export interface RootlessChoice {
  /** The cgroup to use, over the hierarchies this user may change; null for none. */
  manager: CgroupManager | null;
  /** Hierarchies left out, as "<dir checked>" (for --debug and errors). */
  skipped: string[];
}

export interface RootlessOptions {
  /** linux.cgroupsPath was given: runc then fails rather than run the container elsewhere. */
  explicitPath: boolean;
  resources?: LinuxResources;
  source?: string;
  access?: AccessCheck;
  present?: (p: string) => boolean;
}

/**
 * Which of the planned cgroup's hierarchies a rootless hako uses. All of
 * them when the user may change all (a delegated subtree): then nothing
 * differs from root. Otherwise only those it may, and only when no limits
 * are asked for and no cgroupsPath was given (runc's rule: a path or a
 * limit says the container must be confined there, so running it
 * unconfined would be wrong).
 */
export function rootlessCgroup(full: CgroupManager, layout: CgroupLayout, opts: RootlessOptions): RootlessChoice {
  const source = opts.source ?? 'config.json';
  const usable: CgroupDirs = {};
  const skipped: Array<{ key: string; checked: string }> = [];
  const mountOf = (dir: string): string => {
    const h = layout.hierarchies
      .filter((x) => dir === x.mountpoint || dir.startsWith(x.mountpoint + '/'))
      .sort((a, b) => b.mountpoint.length - a.mountpoint.length)[0];
    return h?.mountpoint ?? '/';
  };
  for (const [key, dir] of Object.entries(full.dirs)) {
    const r = mayUse(dir, mountOf(dir), opts.access, opts.present);
    if (r.ok) usable[key] = dir;
    else skipped.push({ key, checked: r.checked });
  }
  if (skipped.length === 0) return { manager: full, skipped: [] };
  // Name the hierarchy the setting needs when there is one (v1), else the first.
  const why = (pointer?: string): string => {
    const controllers = CONTROLLERS_OF[pointer?.split('/').pop() ?? ''] ?? [];
    const hit = skipped.find((s) => s.key.split(',').some((c) => controllers.includes(c))) ?? skipped[0]!;
    const others = skipped.length - 1;
    return `hako runs rootless and may not write ${hit.checked}${others > 0 ? ` (nor ${others} other cgroup ${others === 1 ? 'directory' : 'directories'})` : ''}`;
  };
  const limits = requestedLimits(opts.resources);
  if (limits.length > 0) {
    throw settingError(source, limits[0]!, `cannot be applied: ${why(limits[0])}; run as root, give the user a delegated cgroup, or drop the limit`);
  }
  if (opts.explicitPath) {
    throw settingError(source, '/linux/cgroupsPath', `cannot be used: ${why()}; give the user that cgroup, or leave cgroupsPath out to run without one`);
  }
  // The ones we may change, joined without limits: membership is what
  // kill --all, ps and stats go by (a v1 host often delegates name=systemd).
  const manager = Object.keys(usable).length > 0 ? loadManager(layout, usable) : null;
  return { manager, skipped: skipped.map((s) => s.checked) };
}
