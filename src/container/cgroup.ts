// The container's cgroup as the lifecycle operations see it: made and
// limited at create, found again from the record by later commands.
import type { Spec } from '../spec/types.js';
import { readLayout } from '../cgroups/host.js';
import { loadManager, newManager, type CgroupDirs, type CgroupManager } from '../cgroups/manager.js';
import { resolveCgroupPath } from '../cgroups/path.js';
import { runcDefaultDeviceRules } from '../cgroups/devices.js';
import { rootlessCgroup } from '../cgroups/rootless.js';
import type { ContainerRecord } from './store.js';

export interface CgroupPlanOptions {
  /** --rootless (resolved): cgroups this user may not write are left out (src/cgroups/rootless.ts). */
  rootless?: boolean;
}

export interface PlannedCgroup {
  /** null: the container runs in the caller's cgroups (rootless, nothing to apply). */
  manager: CgroupManager | null;
  /** Why hierarchies were left out, for --debug. */
  notes: string[];
}

/**
 * The manager for a new container. Nothing is created yet: path errors, and
 * limits a rootless user cannot apply, are config errors raised before any
 * state exists.
 */
export function plannedCgroup(spec: Spec, id: string, opts: CgroupPlanOptions = {}): PlannedCgroup {
  const cgroupsPath = spec.linux?.cgroupsPath;
  const cg = resolveCgroupPath({ cgroupsPath, id });
  const layout = readLayout();
  const full = newManager(layout, cg);
  if (!opts.rootless) return { manager: full, notes: [] };
  const choice = rootlessCgroup(full, layout, { explicitPath: !!cgroupsPath, resources: spec.linux?.resources });
  return {
    manager: choice.manager,
    notes: choice.skipped.length ? [`rootless: ${choice.manager ? 'joining only the cgroups this user may write' : 'no cgroup of its own'}; not writable: ${choice.skipped.join(', ')}`] : [],
  };
}

/**
 * Creates the cgroup and writes the limits. The device rules start from
 * runc's defaults (deny all, then the usual character devices and the
 * config's own devices), as callers expect of a runc drop-in.
 * Returns the warnings for settings the host cannot honour but may ignore.
 */
export function createCgroup(m: CgroupManager, spec: Spec, opts: { skipDevices?: boolean } = {}): string[] {
  m.create();
  const resources = spec.linux?.resources ?? {};
  // Loading a device filter or writing devices.allow takes capabilities in
  // the initial user namespace, which an unprivileged hako never has: runc
  // ignores these errors when rootless; hako does not try.
  if (opts.skipDevices) return m.set({ ...resources, devices: undefined }, { source: 'config.json', at: '/linux/resources' });
  const devices = runcDefaultDeviceRules(
    resources.devices,
    (spec.linux?.devices ?? []).map((d) => d.path),
  );
  return m.set({ ...resources, devices }, { source: 'config.json', at: '/linux/resources' });
}

/** The manager for a recorded container, or null when hako made no cgroup for it. */
export function containerCgroup(rec: Pick<ContainerRecord, 'cgroup'>): CgroupManager | null {
  const dirs = rec.cgroup as CgroupDirs | undefined;
  if (!dirs || Object.keys(dirs).length === 0) return null;
  return loadManager(readLayout(), dirs);
}
