// The hybrid manager: v1 hierarchies plus the cgroup2 tree (see the class
// comment for what goes where).
import path from 'node:path';
import type { LinuxResources } from '../spec/types.js';
import { SIGKILL, deps, freezeSignalThaw, readOpt, reader, words, type Deps, type ManagerDeps } from './common.js';
import type { CgroupDirs, CgroupManager, FreezerState } from './manager.js';
import { v1Stats, v2Hugetlb, type CgroupStats } from './stats.js';
import { v1Writes } from './v1-resources.js';
import type { V1Manager } from './v1.js';
import type { V2Manager } from './v2.js';
import { v2Writes } from './v2-resources.js';
import type { CgroupWrite, TranslateOptions } from './writes.js';

// v1 controller → the v2 controller with the same job.
const V2_NAME: Readonly<Record<string, string>> = { blkio: 'io' };

// The part of LinuxResources a v1 controller's writes come from, to
// translate just that part for the unified tree.
const SECTION: Readonly<Record<string, (r: LinuxResources) => LinuxResources>> = {
  memory: (r) => ({ memory: r.memory }),
  cpu: (r) => {
    const { cpus: _cpus, mems: _mems, ...rest } = r.cpu ?? {};
    return { cpu: rest };
  },
  cpuset: (r) => ({ cpu: { ...(r.cpu?.cpus !== undefined ? { cpus: r.cpu.cpus } : {}), ...(r.cpu?.mems !== undefined ? { mems: r.cpu.mems } : {}) } }),
  pids: (r) => ({ pids: r.pids }),
  blkio: (r) => ({ blockIO: r.blockIO }),
  hugetlb: (r) => ({ hugepageLimits: r.hugepageLimits }),
  rdma: (r) => ({ rdma: r.rdma }),
  devices: (r) => ({ devices: r.devices }),
};

/**
 * v1 controllers plus membership in the unified tree (as runc, so that
 * tools reading /proc/PID/cgroup's "0::" line find the container). A
 * setting whose v1 controller is not mounted goes to the unified tree when
 * the controller is there (these machines: hugetlb), and device rules
 * become an eBPF filter there when no v1 devices hierarchy exists.
 * linux.resources.unified is written to the unified tree.
 */
export class HybridManager implements CgroupManager {
  readonly mode = 'hybrid';
  private readonly d: Deps;

  constructor(
    readonly v1: V1Manager,
    readonly v2: V2Manager,
    depsIn: ManagerDeps = {},
  ) {
    this.d = deps(depsIn);
  }

  get dirs(): CgroupDirs {
    return { ...this.v1.dirs, ...this.v2.dirs };
  }

  parents(): string[] {
    return [...this.v1.parents(), ...this.v2.parents()];
  }

  create(): void {
    this.v1.create();
    try {
      this.v2.create();
    } catch (e) {
      try {
        this.v1.destroy();
      } catch {
        /* report the creation error */
      }
      throw e;
    }
  }

  apply(pid: number): void {
    this.v1.apply(pid);
    this.v2.apply(pid);
  }

  set(r: LinuxResources, opts?: TranslateOptions): string[] {
    const t1 = v1Writes(r, this.v1.facts(r), { ...opts, unifiedElsewhere: true });
    const host = words(readOpt(this.d.fs, path.join(this.v2.mountpoint, 'cgroup.controllers')));
    const mine: CgroupWrite[] = [];
    const routed = new Set<string>();
    for (const w of t1.writes) {
      if (this.v1.member(w.controller)) mine.push(w);
      else if (SECTION[w.controller] && (w.controller === 'devices' || host.has(V2_NAME[w.controller] ?? w.controller))) routed.add(w.controller);
      else mine.push(w); // reported as unavailable by the v1 target
    }
    const warnings = [...t1.warnings, ...this.v1.perform(mine)];
    if (routed.size > 0 || (r.unified && Object.keys(r.unified).length > 0)) {
      let part: LinuxResources = { unified: r.unified };
      for (const c of routed) {
        const s = SECTION[c]!(r);
        // cpu and cpuset share the cpu section: merge, not replace.
        part = { ...part, ...s, ...(s.cpu && part.cpu ? { cpu: { ...part.cpu, ...s.cpu } } : {}) };
      }
      const t2 = v2Writes(part, this.v2.facts(part), opts);
      // Device rules are translated by both (routed or not): say each thing once.
      warnings.push(
        ...t2.warnings.filter((w) => !t1.warnings.includes(w)),
        ...this.v2.perform(t2.writes, routed.has('devices') ? t2.deviceProgram : undefined),
      );
    }
    return warnings;
  }

  private freezer(): CgroupManager {
    return this.v1.member('freezer') ? this.v1 : this.v2;
  }

  freeze(): void {
    this.freezer().freeze();
  }

  thaw(): void {
    this.freezer().thaw();
  }

  freezerState(): FreezerState {
    return this.freezer().freezerState();
  }

  pids(recursive = true): number[] {
    return this.v1.members.length > 0 ? this.v1.pids(recursive) : this.v2.pids(recursive);
  }

  killAll(sig: number): void {
    // The unified tree's cgroup.kill works without any controller.
    if (sig === SIGKILL && this.d.fs.exists(path.join(this.v2.dir, 'cgroup.kill'))) {
      this.v2.killAll(sig);
      // Tasks frozen by the v1 freezer (a paused container) only die once
      // thawed; runc thaws after a SIGKILL too.
      if (this.v1.member('freezer') && this.v1.freezerState() !== 'thawed') this.v1.thaw();
    } else freezeSignalThaw(this.d, this, sig);
  }

  stats(): CgroupStats {
    const dirs = this.v1.statDirs();
    const s = v1Stats(dirs, this.d.hugePageSizes());
    // hugetlb lives in the unified tree when v1 does not mount it.
    if (!dirs.hugetlb && this.v2.controllers().has('hugetlb')) s.hugetlb = v2Hugetlb(reader(this.d.fs, this.v2.dir), this.d.hugePageSizes());
    return s;
  }

  oomKillCount(): bigint {
    return this.v1.oomKillCount();
  }

  destroy(): void {
    let first: unknown;
    for (const m of [this.v1, this.v2]) {
      try {
        m.destroy();
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) throw first;
  }

  exists(): boolean {
    return this.v1.exists() || this.v2.exists();
  }
}
