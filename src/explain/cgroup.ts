// The cgroup half of `hako explain`: create's cgroup steps run against a
// filesystem that only records (src/cgroups/dry-run.ts). Its own module so
// that no other command loads the dry run.
import type { Spec } from '../spec/types.js';
import { readLayout } from '../cgroups/host.js';
import { loadManager, type CgroupDirs, type CgroupManager } from '../cgroups/manager.js';
import { DryRunFs, type DryRunOp } from '../cgroups/dry-run.js';
import type { Property } from '../dbus/systemd1.js';
import { SystemdManager } from '../cgroups/systemd.js';
import { createCgroup } from '../container/cgroup.js';

/** What create would do to make and limit the container's cgroup, done against nothing (src/cgroups/dry-run.ts). */
export interface CgroupDryRun {
  driver: 'cgroupfs' | 'systemd';
  mode: CgroupManager['mode'];
  dirs: CgroupDirs;
  /** Directories made, files written and device filters loaded, in create's order. */
  ops: DryRunOp[];
  warnings: string[];
  /** --systemd-cgroup: the transient unit, and the properties it is started with (besides its own: Slice, Delegate, PIDs...). */
  systemd?: { unit: string; slice: string; properties: readonly Property[] };
}

/**
 * createCgroup (and, under systemd, what start() does to the unit's
 * cgroup) run on a manager for the same directories whose filesystem only
 * records: the cgroup half of `hako explain`.
 */
export function dryRunCgroup(m: CgroupManager, spec: Spec, opts: { skipDevices?: boolean } = {}): CgroupDryRun {
  const layout = readLayout();
  const fs = new DryRunFs(undefined, layout);
  const sd = m instanceof SystemdManager ? m : undefined;
  const dry = loadManager(layout, sd ? sd.fs.dirs : m.dirs, { fs, deviceFilter: fs.deviceFilter, sleep: () => {} });
  // Under systemd, start() writes the prepared resources (default devices included) to the unit's cgroup.
  const warnings = createCgroup(dry, spec, sd ? {} : opts);
  return {
    driver: sd ? 'systemd' : 'cgroupfs',
    mode: m.mode,
    dirs: m.dirs,
    ops: fs.ops,
    warnings,
    ...(sd ? { systemd: { unit: sd.unit.unit, slice: sd.unit.slice, properties: sd.preparedProperties } } : {}),
  };
}
