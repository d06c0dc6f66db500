// The container's cgroup as the lifecycle operations see it: made and
// limited at create, found again from the record by later commands.
//
// Two drivers, as runc has: cgroupfs (hako makes the directories) and,
// with --systemd-cgroup, systemd (the cgroup is a transient unit systemd
// makes around the init; see src/cgroups/systemd.ts). The record says
// which, so later commands (which clients call without the flag) use the
// driver the container was created with.
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import type { Spec } from '../spec/types.js';
import { CgroupError } from '../cgroups/cgroup-error.js';
import { readLayout } from '../cgroups/host.js';
import { loadManager, newManager, type CgroupDirs, type CgroupManager } from '../cgroups/manager.js';
import { resolveCgroupPath } from '../cgroups/path.js';
import { runcDefaultDeviceRules } from '../cgroups/devices.js';
import { rootlessCgroup } from '../cgroups/rootless-cgroups.js';
import { SystemdManager, systemdBooted } from '../cgroups/systemd.js';
import { V2Manager } from '../cgroups/v2.js';
import { resolveSystemdPath } from '../cgroups/systemd-unit.js';
import type { ContainerRecord } from './store.js';
import { claimedInStore, parentsToRecord } from './cgroup-parents.js';
import { subCgroupDirs, type SubCgroupPaths } from './sub-cgroup.js';

export interface CgroupPlanOptions {
  /** --rootless (resolved): cgroups this user may not write are left out (src/cgroups/rootless-cgroups.ts). */
  rootless?: boolean;
  /** --systemd-cgroup: the cgroup is a systemd unit named by linux.cgroupsPath. */
  systemd?: boolean;
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
  if (opts.systemd) return { manager: plannedUnit(spec, id, opts), notes: [] };
  const cgroupsPath = spec.linux?.cgroupsPath;
  const cg = resolveCgroupPath({ cgroupsPath, id });
  const layout = readLayout();
  const full = newManager(layout, cg);
  if (!opts.rootless) return { manager: full, notes: [] };
  const choice = rootlessCgroup(full, layout, { explicitPath: !!cgroupsPath, resources: spec.linux?.resources });
  return {
    manager: choice.manager,
    notes: choice.skipped.length
      ? [`rootless: ${choice.manager ? 'joining only the cgroups this user may write' : 'no cgroup of its own'}; not writable: ${choice.skipped.join(', ')}`]
      : [],
  };
}

function plannedUnit(spec: Spec, id: string, opts: CgroupPlanOptions): SystemdManager {
  // runc checks the same thing first (sd_booted): without systemd as init
  // there is nobody to make the unit.
  if (!systemdBooted())
    throw new CgroupError('--systemd-cgroup: systemd is not running as init on this host (/run/systemd/system is missing); use the cgroupfs driver');
  if (opts.rootless)
    throw new CgroupError("--systemd-cgroup: rootless containers (the user's systemd instance) are not supported yet; use the cgroupfs driver");
  const unit = resolveSystemdPath({ cgroupsPath: spec.linux?.cgroupsPath, id });
  const layout = readLayout();
  if (layout.mode === 'none') throw new CgroupError('this host has no cgroup hierarchy mounted (/sys/fs/cgroup)');
  // The unit's cgroup is the same path in every hierarchy, below its root.
  const fs = newManager(layout, { absolute: true, inner: unit.cgroup });
  const m = new SystemdManager(unit, fs, layout.mode);
  m.prepare(withDefaultDevices(spec), spec.annotations as Record<string, string> | undefined, { source: 'config.json', at: '/linux/resources' });
  return m;
}

/**
 * The resources with runc's default device rules (deny all, then the usual
 * character devices and the config's own devices), as callers expect of a
 * runc drop-in.
 */
function withDefaultDevices(spec: Spec) {
  const resources = spec.linux?.resources ?? {};
  const devices = runcDefaultDeviceRules(
    resources.devices,
    (spec.linux?.devices ?? []).map((d) => d.path),
  );
  return { ...resources, devices };
}

/**
 * Creates the cgroup and writes the limits, before the init exists
 * (cgroupfs). Under systemd there is nothing to make yet: enterCgroup does
 * it all. Returns the warnings for settings the host cannot honour but may
 * ignore.
 */
export function createCgroup(m: CgroupManager, spec: Spec, opts: { skipDevices?: boolean } = {}): string[] {
  if (m instanceof SystemdManager) return [];
  m.create();
  // Loading a device filter or writing devices.allow takes capabilities in
  // the initial user namespace, which an unprivileged hako never has: runc
  // ignores these errors when rootless; hako does not try.
  if (opts.skipDevices) return m.set({ ...(spec.linux?.resources ?? {}), devices: undefined }, { source: 'config.json', at: '/linux/resources' });
  return m.set(withDefaultDevices(spec), { source: 'config.json', at: '/linux/resources' });
}

/**
 * An fd of the container's cgroup directory for the launcher to clone the
 * process into (clone3 CLONE_INTO_CGROUP, see addon/launcher/clone.c), or
 * -1: only a cgroup v2 directory hako made itself qualifies (on v1 and
 * hybrid hosts the v1 hierarchies still need their cgroup.procs writes; under
 * systemd the unit is made around the pid). Close it once the launcher ran.
 */
export function cloneIntoFd(m: CgroupManager | null): number {
  if (!(m instanceof V2Manager)) return -1;
  try {
    return openSync(m.dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch {
    return -1; // the write after the clone says what is wrong
  }
}

export function closeCloneIntoFd(fd: number): void {
  if (fd >= 0) closeSync(fd);
}

/** Puts the init (waiting for "go") in the cgroup; under systemd, starts the unit around it and writes the limits. */
export function enterCgroup(m: CgroupManager, pid: number): string[] {
  if (m instanceof SystemdManager) return m.start(pid);
  m.apply(pid);
  return [];
}

/** What the record keeps of a systemd unit. */
export function unitRecord(m: CgroupManager): ContainerRecord['systemd'] {
  return m instanceof SystemdManager ? { unit: m.unit.unit, slice: m.unit.slice, kind: m.unit.kind, cgroup: m.unit.cgroup } : undefined;
}

/**
 * What a record keeps of the cgroup create or restore is about to make,
 * written before any mkdir so that a delete after a crash finds it: its
 * directories, a systemd unit, and the parents this container is to remove
 * (decided before any mkdir: what exists is checked first, then the other
 * records, and a claim is in its record before its mkdirs).
 */
export function cgroupRecordFields(
  m: CgroupManager,
  store: Parameters<typeof claimedInStore>[0],
  id: string,
): Pick<ContainerRecord, 'cgroup' | 'systemd' | 'cgroupParents'> {
  const out: Pick<ContainerRecord, 'cgroup' | 'systemd' | 'cgroupParents'> = { cgroup: m.dirs };
  const unit = unitRecord(m);
  if (unit) out.systemd = unit;
  const parents = m.parents();
  const ours = parents.length ? parentsToRecord(parents, existsSync, claimedInStore(store, id)) : [];
  if (ours.length) out.cgroupParents = ours;
  return out;
}

/** The manager for a recorded container, or null when hako made no cgroup for it. */
export function containerCgroup(rec: Pick<ContainerRecord, 'cgroup' | 'systemd'>): CgroupManager | null {
  const dirs = rec.cgroup as CgroupDirs | undefined;
  if (!dirs || Object.keys(dirs).length === 0) return null;
  const layout = readLayout();
  const fs = loadManager(layout, dirs);
  if (!rec.systemd) return fs;
  const u = rec.systemd;
  return new SystemdManager({ unit: u.unit, slice: u.slice, kind: u.kind, cgroup: u.cgroup, name: '' }, fs, layout.mode === 'none' ? 'v2' : layout.mode);
}

/**
 * `exec --cgroup`: the manager of the container's sub-cgroup(s) the process
 * is to join, or null when hako made no cgroup for the container (runc then
 * has nothing to join either). The sub-cgroups must exist (runc: "an
 * (existing) sub-cgroup"); they are joined by their directories, whichever
 * driver made the container's.
 */
export function containerSubCgroup(rec: Pick<ContainerRecord, 'cgroup'>, sub: SubCgroupPaths): CgroupManager | null {
  const dirs = (rec.cgroup ?? {}) as CgroupDirs;
  const subDirs = subCgroupDirs(dirs, sub);
  if (Object.keys(dirs).length === 0) return null;
  for (const [k, d] of Object.entries(subDirs)) {
    if (d !== dirs[k] && !existsSync(d)) throw new CgroupError(`sub-cgroup ${d} does not exist (exec --cgroup joins an existing one)`);
  }
  return loadManager(readLayout(), subDirs);
}
