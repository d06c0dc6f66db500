// A config.json mount of type "cgroup" shows the container its own cgroups.
// With a new cgroup namespace the kernel does it: mount the hierarchies
// themselves. Without one, bind the container's own directories from the
// host. On v1 and hybrid hosts that means a tmpfs at the destination with a
// directory per hierarchy, like runc.
import path from 'node:path';
import type { CgroupLayout, Hierarchy } from '../cgroups/host.js';
import { selfPath } from '../cgroups/host.js';
import { MS } from './linux-consts.js';
import { rec, type Rec } from './tlv.js';
import { PlanError } from './plan-error.js';
import { labelMount } from './lsm.js';
import { fsOptions } from './mount-options.js';

/**
 * The host directory of hierarchy `h` a container without a cgroup
 * namespace is shown: its own cgroup's (`dirs`, hako made one there), else
 * the runtime's own path in that hierarchy, never above it. restore
 * (src/checkpoint/options.ts) binds the same.
 */
export function hostDir(layout: CgroupLayout, h: Hierarchy, dirs?: Record<string, string>): string {
  // The container's own cgroup directory when hako made one for it.
  const key = h.fstype === 'cgroup2' ? '' : [...h.controllers].sort().join(',');
  const own = dirs?.[key];
  if (own !== undefined && (own === h.mountpoint || own.startsWith(h.mountpoint + '/'))) return own;
  const p = selfPath(layout, h) ?? '/';
  // Paths in /proc/self/cgroup are relative to the hierarchy's root; the
  // mount shows them relative to the mount's root.
  const rel = h.root !== '/' && p.startsWith(h.root) ? p.slice(h.root.length) : p;
  return path.posix.join(h.mountpoint, rel);
}

function one(layout: CgroupLayout, h: Hierarchy, target: string, flags: number, cgroupns: boolean, dirs?: Record<string, string>): Rec {
  if (cgroupns) {
    const fields = [rec('M_SOURCE', 'cgroup'), rec('M_TARGET', target), rec('M_FSTYPE', h.fstype), rec('M_FLAGS', flags)];
    if (h.fstype === 'cgroup') for (const opt of fsOptions(h.controllers)) fields.push(rec('M_FSOPT', opt));
    return rec('MOUNT', fields);
  }
  const fields = [rec('M_SOURCE', hostDir(layout, h, dirs)), rec('M_TARGET', target), rec('M_FLAGS', MS.BIND | MS.REC)];
  if (flags) fields.push(rec('M_REMOUNT_FLAGS', flags));
  return rec('MOUNT', fields);
}

/**
 * @param target container path of the mount
 * @param flags MS_* flags from the mount's options (ro, nosuid, ...)
 * @param mountLabel linux.mountLabel, for the tmpfs of a v1 layout (runc labels it)
 */
export function cgroupMountRecs(
  layout: CgroupLayout,
  target: string,
  flags: number,
  cgroupns: boolean,
  where: string,
  dirs?: Record<string, string>,
  mountLabel?: string,
): Rec[] {
  const hs = layout.hierarchies.filter((h) => h.mountpoint.startsWith('/sys/fs/cgroup'));
  if (layout.mode === 'none' || hs.length === 0) throw new PlanError(where, 'the host has no cgroup hierarchy to show');
  if (layout.mode === 'v2') {
    const h = hs.find((x) => x.fstype === 'cgroup2')!;
    return [one(layout, h, target, flags & ~MS.REC, cgroupns, dirs)];
  }
  // Read-only only once the directories in it exist: the launcher makes a
  // tmpfs read-only last, through the mount it made (no second lookup).
  const data = fsOptions(labelMount('tmpfs', ['mode=755'], mountLabel).data).map((o) => rec('M_FSOPT', o));
  const out: Rec[] = [rec('MOUNT', [rec('M_SOURCE', 'tmpfs'), rec('M_TARGET', target), rec('M_FSTYPE', 'tmpfs'), rec('M_FLAGS', flags & ~MS.REC), ...data])];
  const seen = new Set<string>();
  for (const h of hs) {
    const name = path.posix.basename(h.mountpoint);
    if (h.mountpoint === '/sys/fs/cgroup' || seen.has(name)) continue;
    seen.add(name);
    out.push(one(layout, h, path.posix.join(target, name), flags & ~MS.REC, cgroupns, dirs));
  }
  // Controllers mounted together (cpu,cpuacct; net_cls,net_prio) are also
  // reachable by each name, as on the host and under runc: programs read
  // /sys/fs/cgroup/cpu/cpu.cfs_quota_us whatever the host's grouping.
  for (const name of [...seen]) {
    if (!name.includes(',')) continue;
    for (const part of name.split(',')) {
      if (part === '' || seen.has(part)) continue;
      seen.add(part);
      out.push(rec('MOUNT', [rec('M_TARGET', path.posix.join(target, part)), rec('M_SYMLINK', name)]));
    }
  }
  return out;
}
