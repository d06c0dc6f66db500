// The container's cgroup on the host, whatever the layout: pure cgroup v2,
// pure v1, or hybrid (v1 controllers plus a cgroup2 tree). A manager is
// cheap to build (no I/O); every method does what it says and nothing else.
//
// Intended order in `create`: create() → set(resources) → apply(initPid)
// while the init still waits for "go", so limits are in place before any
// container code runs (and realtime CPU settings before a SCHED_RR process
// joins, which the kernel requires).
//
// Blocking waits (freezing, EBUSY retries) sleep synchronously: every
// caller is a short-lived command, and synchronous calls compose in the
// error paths that must undo things ("never leave a frozen cgroup behind").
//
// The managers themselves are in v2.ts, v1.ts and hybrid.ts; what they
// share is in common.ts.
import type { LinuxResources } from '../spec/types.js';
import type { ManagerDeps } from './common.js';
import { CgroupError } from './cgroup-error.js';
import type { CgroupLayout, Hierarchy } from './host.js';
import { HybridManager } from './hybrid.js';
import { cgroupDir, type CgroupPath } from './path.js';
import type { CgroupStats } from './stats.js';
import { V1Manager, V1_KNOWN, type V1Member } from './v1.js';
import { V2Manager } from './v2.js';
import type { TranslateOptions } from './writes.js';

export { HybridManager, V1Manager, V2Manager, type ManagerDeps, type V1Member };

export type FreezerState = 'frozen' | 'thawed' | 'undefined';

/** Host directories of a container's cgroup, by hierarchy key: "" for a cgroup2 tree, the v1 controllers ("cpu,cpuacct", "name=systemd") otherwise. */
export type CgroupDirs = Record<string, string>;

export interface CgroupManager {
  readonly mode: 'v2' | 'v1' | 'hybrid';
  /** What to record to find the cgroup again (loadManager), whatever cgroup later commands run in. */
  readonly dirs: CgroupDirs;
  /** Creates the cgroup directories (and, on v2, enables controllers for them). Undoes itself on failure. */
  create(): void;
  /** Moves a process in (cgroup.procs in every hierarchy). */
  apply(pid: number): void;
  /**
   * Writes the resources. Returns warnings for settings that were ignored.
   * A setting for a controller the host lacks fails, naming the controller.
   */
  set(resources: LinuxResources, opts?: TranslateOptions): string[];
  /** Freezes every process and waits until the kernel says frozen; thaws again if it cannot. */
  freeze(): void;
  thaw(): void;
  freezerState(): FreezerState;
  /** Pids in the cgroup (and, by default, its sub-cgroups). */
  pids(recursive?: boolean): number[];
  /** Signals every process: cgroup.kill for SIGKILL on v2, otherwise freeze, signal, thaw. */
  killAll(sig: number): void;
  /** runc's `events --stats` data. */
  stats(): CgroupStats;
  /** How many processes the OOM killer has killed in the cgroup. */
  oomKillCount(): bigint;
  /**
   * Removes the cgroup and its sub-cgroups, retrying briefly while the last
   * processes exit. Thaws the cgroup if it cannot be removed.
   */
  destroy(): void;
  /**
   * The directories between each hierarchy's mount point and the cgroup
   * (both excluded), outermost first: the parents create() makes when they
   * are missing (a nested cgroupsPath). No I/O. Which of them `delete`
   * removes is the record's business (src/container/cgroup-parents.ts).
   */
  parents(): string[];
  exists(): boolean;
}

function v2Hierarchy(layout: CgroupLayout): Hierarchy | undefined {
  const all = layout.hierarchies.filter((h) => h.fstype === 'cgroup2');
  return all.find((h) => h.mountpoint === '/sys/fs/cgroup') ?? all.find((h) => h.mountpoint === '/sys/fs/cgroup/unified') ?? all[0];
}

function v1Hierarchies(layout: CgroupLayout): Array<Hierarchy & { key: string }> {
  const seen = new Map<string, Hierarchy & { key: string }>();
  for (const h of layout.hierarchies) {
    if (h.fstype !== 'cgroup' || !h.controllers.some((c) => V1_KNOWN.has(c))) continue;
    const key = [...h.controllers].sort().join(',');
    const prev = seen.get(key);
    // The same hierarchy mounted twice: prefer the usual place.
    if (!prev || (!prev.mountpoint.startsWith('/sys/fs/cgroup/') && h.mountpoint.startsWith('/sys/fs/cgroup/'))) seen.set(key, { ...h, key });
  }
  return [...seen.values()];
}

/** The manager for a container's cgroup path on this host's layout. */
export function newManager(layout: CgroupLayout, cg: CgroupPath, deps: ManagerDeps = {}): CgroupManager {
  const v1 = () =>
    new V1Manager(
      v1Hierarchies(layout).map((h) => ({ key: h.key, controllers: h.controllers, mountpoint: h.mountpoint, dir: cgroupDir(layout, h, cg, false) })),
      deps,
    );
  switch (layout.mode) {
    case 'v2': {
      const h = v2Hierarchy(layout)!;
      return new V2Manager(h.mountpoint, cgroupDir(layout, h, cg, true), deps, 'all');
    }
    case 'v1':
      return v1();
    case 'hybrid': {
      const h = v2Hierarchy(layout)!;
      // The unified tree of a hybrid host has no controllers in use, so a
      // relative path goes inside hako's own cgroup as on v1.
      return new HybridManager(v1(), new V2Manager(h.mountpoint, cgroupDir(layout, h, cg, false), deps, 'needed'), deps);
    }
    default:
      throw new CgroupError('this host has no cgroup hierarchy mounted (/sys/fs/cgroup)');
  }
}

/** The manager for a cgroup recorded earlier (CgroupManager.dirs), on this host's layout. */
export function loadManager(layout: CgroupLayout, dirs: CgroupDirs, deps: ManagerDeps = {}): CgroupManager {
  const under = (h: Hierarchy, dir: string) => dir.startsWith(h.mountpoint + '/');
  const unified = dirs[''];
  const h2 = v2Hierarchy(layout);
  const v2 = (enable: 'all' | 'needed') => {
    if (unified === undefined || !h2 || !under(h2, unified))
      throw new CgroupError(`the recorded cgroup (${Object.values(dirs).join(', ')}) does not match this host's cgroup layout (${layout.mode})`);
    return new V2Manager(h2.mountpoint, unified, deps, enable);
  };
  if (layout.mode === 'v2') return v2('all');
  const members: V1Member[] = [];
  for (const h of v1Hierarchies(layout)) {
    const dir = dirs[h.key];
    if (dir !== undefined && under(h, dir)) members.push({ key: h.key, controllers: h.controllers, mountpoint: h.mountpoint, dir });
  }
  if (members.length === 0 && layout.mode === 'v1')
    throw new CgroupError(`the recorded cgroup (${Object.values(dirs).join(', ')}) does not match this host's cgroup layout (v1)`);
  const v1 = new V1Manager(members, deps);
  return layout.mode === 'hybrid' && unified !== undefined ? new HybridManager(v1, v2('needed'), deps) : v1;
}
