// The systemd cgroup driver (--systemd-cgroup): the container's cgroup is
// a transient unit of systemd's, a scope "prefix-name.scope" in a slice,
// made around the container's init, and everything else goes through the
// cgroupfs managers on that unit's cgroup, as runc's systemd driver does:
//
//  - start: StartTransientUnit (runc's properties, the limits systemd can
//    express, PIDs=[init]) and wait for its job; then, on the unit's
//    cgroup, what the cgroupfs managers do: enable controllers (v2), make
//    the hierarchies systemd does not manage and join them (v1: cpuset,
//    freezer, net_cls, perf_event, hugetlb, ...), write every limit.
//  - set (update): SetUnitProperties, then the files.
//  - freeze, thaw, kill --all, stats, pids: the files (systemd is not
//    involved, as with runc).
//  - destroy: StopUnit and wait, ResetFailedUnit (a failed unit would stay
//    listed, and block the name), then remove what systemd left (sub-
//    cgroups, the v1 directories hako made).
//
// The D-Bus connection is made per operation and closed after it: the
// commands are short-lived, and systemd may have been restarted between
// two of them.
import { readFileSync, statSync } from 'node:fs';
import type { LinuxResources } from '../spec/types.js';
import { DBusConnectionError, DBusError, Systemd1, prop, type Property, type SystemdClient } from '../dbus/systemd1.js';
import { CgroupError } from './cgroup-error.js';
import type { CgroupDirs, CgroupManager, FreezerState } from './manager.js';
import { parseProcCgroup } from './host.js';
import type { CgroupStats } from './stats.js';
import { ESSENTIAL, annotationProperties, deviceProperties, resourceProperties, unitProperties, type SystemdMode } from './systemd-props.js';
import type { SystemdUnitPath } from './systemd-unit.js';
import type { TranslateOptions } from './writes.js';
import { V2Manager } from './v2.js';
import { V1Manager } from './v1.js';
import { HybridManager } from './hybrid.js';
import { dirsBetween } from './common.js';

/** The v1 hierarchies systemd manages (its own named one and the controllers it delegates and limits). */
const SYSTEMD_V1 = new Set(['name=systemd', 'cpu', 'cpuacct', 'blkio', 'io', 'memory', 'devices', 'pids']);

/** runc's wait for a unit's job. */
const JOB_TIMEOUT_MS = 30_000;

export interface SystemdDeps {
  connect?: () => SystemdClient;
  /** /proc/PID/cgroup's text. */
  procCgroup?: (pid: number) => string;
  /** Whether systemd is the host's init (sd_booted: /run/systemd/system is a directory). */
  booted?: () => boolean;
  sleep?: (ms: number) => void;
  jobTimeoutMs?: number;
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

export function systemdBooted(): boolean {
  try {
    return statSync('/run/systemd/system').isDirectory();
  } catch {
    return false;
  }
}

/** A unit's cgroup manager. `fs` is the cgroupfs manager of the unit's cgroup. */
export class SystemdManager implements CgroupManager {
  private readonly connect: () => SystemdClient;
  private readonly procCgroup: (pid: number) => string;
  private readonly booted: () => boolean;
  private readonly sleep: (ms: number) => void;
  private readonly jobTimeoutMs: number;
  /**
   * false once prepared for a create, true once systemd accepted the unit;
   * undefined for a recorded unit. A create whose StartTransientUnit failed
   * must not stop the unit: a unit of that name that already existed is
   * someone else's (another container given the same cgroupsPath).
   */
  private started: boolean | undefined;
  private prepared: { properties: Property[]; warnings: string[]; resources: LinuxResources; opts?: TranslateOptions } | undefined;

  constructor(
    readonly unit: Pick<SystemdUnitPath, 'unit' | 'slice' | 'cgroup' | 'kind' | 'name'>,
    readonly fs: CgroupManager,
    readonly sdMode: SystemdMode,
    deps: SystemdDeps = {},
  ) {
    this.connect = deps.connect ?? (() => Systemd1.connect());
    this.procCgroup = deps.procCgroup ?? ((pid) => readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
    this.booted = deps.booted ?? systemdBooted;
    this.sleep = deps.sleep ?? ((ms) => void Atomics.wait(SLEEPER, 0, 0, ms));
    this.jobTimeoutMs = deps.jobTimeoutMs ?? JOB_TIMEOUT_MS;
  }

  get mode(): CgroupManager['mode'] {
    return this.fs.mode;
  }

  get dirs(): CgroupDirs {
    return this.fs.dirs;
  }

  /**
   * Translates everything systemd will be told (config errors surface here,
   * before any process exists); start() sends it.
   */
  prepare(resources: LinuxResources, annotations: Readonly<Record<string, string>> | undefined, opts?: TranslateOptions): void {
    const dev = deviceProperties(resources, opts);
    this.started = false;
    this.prepared = {
      properties: [...resourceProperties(resources, this.sdMode, opts), ...dev.properties, ...oomPolicy(resources), ...annotationProperties(annotations)],
      warnings: dev.warnings,
      resources,
      opts,
    };
  }

  /** What prepare() decided systemd will be told besides the unit's own properties (`hako explain` shows it). */
  get preparedProperties(): readonly Property[] {
    return this.prepared?.properties ?? [];
  }

  /**
   * The parents in the v1 hierarchies systemd does not manage (freezer,
   * cpuset, net_cls, ...), where hako makes the slice directories itself.
   * None elsewhere: the slices above the unit are systemd's units, made and
   * kept by systemd (removing their directories behind its back would leave
   * it a slice without a cgroup).
   */
  parents(): string[] {
    const v1 = this.fs instanceof HybridManager ? this.fs.v1 : this.fs instanceof V1Manager ? this.fs : undefined;
    return (v1?.members ?? []).filter((m) => !m.controllers.some((c) => SYSTEMD_V1.has(c))).flatMap((m) => dirsBetween(m.mountpoint, m.dir));
  }

  /** Nothing to make before there is a process: systemd makes the unit around it (start). */
  create(): void {}

  /**
   * Starts the unit around `pid` with the prepared properties, waits for
   * systemd to have made it, then writes the limits to its cgroup. Returns
   * the warnings. On failure the caller kills the process and calls
   * destroy(), which stops whatever was started.
   */
  start(pid: number): string[] {
    const p = this.prepared;
    if (!p) throw new Error('SystemdManager.start before prepare');
    const warnings = [...p.warnings];
    const u = this.unit.unit;
    const properties = [...unitProperties(this.unit as SystemdUnitPath, pid, this.sdMode), ...p.properties];
    this.withSystemd('start', (sd) => {
      const job = this.startUnit(sd, properties, warnings);
      this.started = true;
      const result = this.wait(sd, job, 'start');
      if (result !== 'done') {
        ignoreNoSuchUnit(() => sd.resetFailedUnit(u));
        throw new CgroupError(`systemd could not start unit ${u}: its start job ended "${result}"`);
      }
    });
    if (this.unit.kind === 'scope') this.checkPlacement(pid);
    this.fs.create();
    warnings.push(...this.fs.set(p.resources, p.opts));
    this.fs.apply(pid);
    return warnings;
  }

  /** StartTransientUnit, as runc retries it: once after resetting a failed unit of the same name, and without properties this systemd does not know. */
  private startUnit(sd: SystemdClient, properties: Property[], warnings: string[]): string {
    const u = this.unit.unit;
    let props = properties;
    let reset = false;
    for (;;) {
      try {
        return sd.startTransientUnit(u, 'replace', props);
      } catch (e) {
        if (!(e instanceof DBusError)) {
          // No answer (a timeout, a dropped connection): systemd may have
          // made the unit all the same, so the cleanup must stop it.
          this.started = true;
          throw e;
        }
        if (e.errorName === 'org.freedesktop.systemd1.UnitExists' && !reset) {
          // A failed unit of a container gone before is kept until reset.
          reset = true;
          ignoreNoSuchUnit(() => sd.resetFailedUnit(u));
          continue;
        }
        const unknown = unknownProperty(e);
        if (unknown && !ESSENTIAL.has(unknown) && props.some(([n]) => n === unknown)) {
          warnings.push(`systemd does not know the unit property ${unknown} (too old?): that setting is written to the cgroup files only`);
          props = props.filter(([n]) => n !== unknown);
          continue;
        }
        throw new CgroupError(`systemd refused to start unit ${u}: ${e.message}`);
      }
    }
  }

  private wait(sd: SystemdClient, job: string, verb: string): string {
    try {
      return sd.waitJob(job, this.jobTimeoutMs);
    } catch (e) {
      if (e instanceof DBusConnectionError && e.code === 'ETIMEDOUT') {
        throw new CgroupError(`systemd did not ${verb} unit ${this.unit.unit} within ${this.jobTimeoutMs / 1000} s (job ${job})`, 'ETIMEDOUT');
      }
      throw e;
    }
  }

  /** systemd must have put the process where the recorded directories say. */
  private checkPlacement(pid: number): void {
    const key = this.sdMode === 'v1' ? 'name=systemd' : '';
    let text: string;
    try {
      text = this.procCgroup(pid);
    } catch (e) {
      throw new CgroupError(`cannot read /proc/${pid}/cgroup after starting unit ${this.unit.unit}: ${(e as Error).message}`);
    }
    const got = parseProcCgroup(text).get(key);
    if (got !== this.unit.cgroup) {
      throw new CgroupError(
        `systemd placed process ${pid} in ${got ?? 'no cgroup'}, not in unit ${this.unit.unit}'s ${this.unit.cgroup} (is hako in a cgroup namespace?)`,
      );
    }
  }

  /** Runs `fn` on a fresh connection, closed afterwards; connection failures become one CgroupError naming the unit. */
  private withSystemd<T>(verb: string, fn: (sd: SystemdClient) => T): T {
    let sd: SystemdClient;
    try {
      sd = this.connect();
    } catch (e) {
      throw new CgroupError(`cannot ${verb} unit ${this.unit.unit}: cannot reach systemd over D-Bus: ${(e as Error).message}`, (e as { code?: string }).code);
    }
    try {
      return fn(sd);
    } catch (e) {
      if (e instanceof CgroupError) throw e;
      throw new CgroupError(`cannot ${verb} unit ${this.unit.unit}: ${(e as Error).message} (${sd.peer})`, (e as { code?: string }).code);
    } finally {
      sd.close();
    }
  }

  apply(pid: number): void {
    this.fs.apply(pid);
  }

  set(resources: LinuxResources, opts?: TranslateOptions): string[] {
    // Device rules are not updated (update.ts), so no DeviceAllow here: on
    // v1 systemd rewrites the device rules only when those change, which is
    // why runc must freeze around its SetUnitProperties and hako need not.
    const { devices: _d, ...rest } = resources;
    let props = resourceProperties(rest, this.sdMode, opts, this.fs instanceof V2Manager ? this.fs.facts(rest) : {});
    const warnings: string[] = [];
    if (props.length > 0) {
      this.withSystemd('update', (sd) => {
        for (;;) {
          try {
            sd.setUnitProperties(this.unit.unit, true, props);
            return;
          } catch (e) {
            const unknown = e instanceof DBusError ? unknownProperty(e) : undefined;
            if (unknown && props.some(([n]) => n === unknown)) {
              warnings.push(`systemd does not know the unit property ${unknown} (too old?): that setting is written to the cgroup files only`);
              props = props.filter(([n]) => n !== unknown);
              if (props.length === 0) return;
              continue;
            }
            if (e instanceof DBusError) throw new CgroupError(`systemd refused to change unit ${this.unit.unit}: ${e.message}`);
            throw e;
          }
        }
      });
    }
    return [...warnings, ...this.fs.set(resources, opts)];
  }

  freeze(): void {
    this.fs.freeze();
  }

  thaw(): void {
    this.fs.thaw();
  }

  freezerState(): FreezerState {
    return this.fs.freezerState();
  }

  pids(recursive?: boolean): number[] {
    return this.fs.pids(recursive);
  }

  killAll(sig: number): void {
    this.fs.killAll(sig);
  }

  stats(): CgroupStats {
    return this.fs.stats();
  }

  oomKillCount(): bigint {
    return this.fs.oomKillCount();
  }

  /**
   * Stops the unit and removes what is left. Processes still in the
   * cgroup make it fail, as with the cgroupfs driver (StopUnit would kill
   * them: that is kill --all's job, or delete --force's).
   */
  destroy(): void {
    // A create that failed before its unit was accepted made nothing.
    if (this.started === false) return;
    // Without systemd no unit can be loaded.
    if (this.booted()) {
      for (let i = 0, delay = 1; this.fs.exists() && this.fs.pids().length > 0; i++, delay *= 2) {
        if (i === 10) throw new CgroupError(`cannot stop unit ${this.unit.unit}: processes are still in ${this.unit.cgroup}`, 'EBUSY');
        this.sleep(delay);
      }
      this.withSystemd('stop', (sd) => {
        let job: string | undefined;
        ignoreNoSuchUnit(() => {
          job = sd.stopUnit(this.unit.unit, 'replace');
        });
        // A job that ended otherwise than "done" leaves a failed unit,
        // which the reset removes (runc carries on the same way).
        if (job !== undefined) this.wait(sd, job, 'stop');
        ignoreNoSuchUnit(() => sd.resetFailedUnit(this.unit.unit));
      });
    }
    this.fs.destroy();
  }

  exists(): boolean {
    return this.fs.exists();
  }
}

/**
 * memory.oom.group as systemd's OOMPolicy (runc's mapping), so that systemd
 * and the file agree on whether one OOM kill ends the whole container.
 * Without it systemd's default holds (for delegated scopes, "continue":
 * only the process the kernel picked dies, as with the cgroupfs driver).
 */
function oomPolicy(r: LinuxResources): Property[] {
  const v = r.unified?.['memory.oom.group']?.trim();
  return v === '1' ? [prop.s('OOMPolicy', 'kill')] : v === '0' ? [prop.s('OOMPolicy', 'continue')] : [];
}

/** "Cannot set property X, or unknown property." → X */
function unknownProperty(e: DBusError): string | undefined {
  if (e.errorName !== 'org.freedesktop.DBus.Error.PropertyReadOnly' && e.errorName !== 'org.freedesktop.DBus.Error.InvalidArgs') return undefined;
  return /Cannot set property (\w+)/.exec(e.detail)?.[1];
}

/** Units that are not loaded are what we want gone anyway. */
function ignoreNoSuchUnit(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof DBusError && (e.errorName === 'org.freedesktop.systemd1.NoSuchUnit' || e.errorName === 'org.freedesktop.systemd1.LoadFailed')) return;
    throw e;
  }
}
