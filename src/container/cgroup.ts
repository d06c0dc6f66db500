// The container's cgroup as the lifecycle operations see it: made and
// limited at create, found again from the record by later commands.
import type { Spec } from '../spec/types.js';
import { readLayout } from '../cgroups/host.js';
import { loadManager, newManager, type CgroupDirs, type CgroupManager } from '../cgroups/manager.js';
import { resolveCgroupPath } from '../cgroups/path.js';
import { runcDefaultDeviceRules } from '../cgroups/devices.js';
import type { ContainerRecord } from './store.js';

/**
 * The manager for a new container. Nothing is created yet: path errors are
 * config errors, raised before any state exists.
 */
export function plannedCgroup(spec: Spec, id: string): CgroupManager {
  const cg = resolveCgroupPath({ cgroupsPath: spec.linux?.cgroupsPath, id });
  return newManager(readLayout(), cg);
}

/**
 * Creates the cgroup and writes the limits. The device rules start from
 * runc's defaults (deny all, then the usual character devices and the
 * config's own devices), as callers expect of a runc drop-in.
 * Returns the warnings for settings the host cannot honour but may ignore.
 */
export function createCgroup(m: CgroupManager, spec: Spec): string[] {
  m.create();
  const resources = spec.linux?.resources ?? {};
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
