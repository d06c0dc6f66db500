// The cgroup v1 manager: one directory per mounted hierarchy (systemd's
// named one included), limits through each controller's files, the
// freezer controller for pause and kill --all.
import path from 'node:path';
import type { LinuxResources } from '../spec/types.js';
import { CgroupError, errnoCode, errnoText } from './cgroup-error.js';
import {
  deps,
  dirsBetween,
  freezeSignalThaw,
  joinCgroup,
  mkdirs,
  readOpt,
  readPids,
  reader,
  removeTree,
  runWrites,
  undoMkdirs,
  type Deps,
  type ManagerDeps,
  type Target,
} from './common.js';
import type { CgroupDirs, CgroupManager, FreezerState } from './manager.js';
import { parseKeyValues, parseUint, v1Stats, type CgroupStats, type V1StatDirs } from './stats.js';
import { v1Writes, type V1Facts } from './v1-resources.js';
import type { CgroupWrite, TranslateOptions } from './writes.js';

export interface V1Member {
  /** The controllers (and name=) of the hierarchy, sorted: "cpu,cpuacct". */
  key: string;
  controllers: string[];
  mountpoint: string;
  dir: string;
}

// Hierarchies a container joins: the controllers runc knows, and systemd's
// named hierarchy (so systemd sees the container's processes where it put
// them); other named hierarchies belong to someone else.
export const V1_KNOWN = new Set([
  'cpuset',
  'cpu',
  'cpuacct',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'net_prio',
  'blkio',
  'perf_event',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
  'name=systemd',
]);

// Which hierarchy answers for "the container's processes": any will do, as
// all hold the same ones; pids first, as runc reads devices.
const PIDS_FROM = ['pids', 'freezer', 'devices', 'memory', 'cpu'];

export class V1Manager implements CgroupManager {
  readonly mode = 'v1';
  private readonly d: Deps;

  constructor(
    readonly members: readonly V1Member[],
    depsIn: ManagerDeps = {},
  ) {
    this.d = deps(depsIn);
  }

  get dirs(): CgroupDirs {
    return Object.fromEntries(this.members.map((m) => [m.key, m.dir]));
  }

  member(controller: string): V1Member | undefined {
    return this.members.find((m) => m.controllers.includes(controller));
  }

  parents(): string[] {
    return this.members.flatMap((m) => dirsBetween(m.mountpoint, m.dir));
  }

  create(): void {
    const made: string[] = [];
    try {
      for (const m of this.members) {
        // A new cpuset cgroup has no CPUs and no memory nodes, and nothing
        // can join it until it has: copy them down from the parent.
        const each = m.controllers.includes('cpuset') ? (dir: string, parent: string) => this.cpusetInherit(dir, parent) : undefined;
        made.push(...mkdirs(this.d.fs, m.mountpoint, m.dir, each));
      }
    } catch (e) {
      undoMkdirs(this.d.fs, made);
      throw e;
    }
  }

  private cpusetInherit(dir: string, parent: string): void {
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const mine = readOpt(this.d.fs, path.join(dir, f));
      if (mine === undefined || mine.trim() !== '') continue;
      const theirs = readOpt(this.d.fs, path.join(parent, f)) ?? '';
      try {
        this.d.fs.write(path.join(dir, f), theirs.trim());
      } catch (e) {
        throw new CgroupError(`cannot copy ${f} of ${parent} to ${dir}: ${errnoText(e)}`, errnoCode(e));
      }
    }
  }

  facts(r: LinuxResources): V1Facts {
    const f: V1Facts = {};
    const mem = this.member('memory');
    if (mem && r.memory) {
      if (r.memory.limit !== undefined && r.memory.limit !== 0 && r.memory.swap !== undefined && r.memory.swap !== 0) {
        const cur = readOpt(this.d.fs, path.join(mem.dir, 'memory.limit_in_bytes'));
        if (cur !== undefined) f.memoryLimit = parseUint(cur);
      }
      f.memswAvailable = this.d.fs.exists(path.join(mem.dir, 'memory.memsw.limit_in_bytes'));
    }
    const dev = this.member('devices');
    if (dev && r.devices && r.devices.length > 0) f.devicesList = readOpt(this.d.fs, path.join(dev.dir, 'devices.list'));
    const blkio = this.member('blkio');
    if (blkio && r.blockIO) f.blkioCfq = this.d.fs.exists(path.join(blkio.dir, 'blkio.weight'));
    return f;
  }

  target(): Target {
    return {
      dir: (c) => this.member(c)?.dir,
      unavailable: (c) => `the ${c} cgroup controller is not available on this host`,
    };
  }

  set(r: LinuxResources, opts?: TranslateOptions): string[] {
    const t = v1Writes(r, this.facts(r), opts);
    return [...t.warnings, ...this.perform(t.writes)];
  }

  perform(writes: readonly CgroupWrite[]): string[] {
    return runWrites(this.d, writes, this.target());
  }

  apply(pid: number): void {
    for (const m of this.members) joinCgroup(this.d, m.dir, pid);
  }

  freeze(): void {
    const m = this.member('freezer');
    if (!m) throw new CgroupError('cannot freeze: the freezer cgroup controller is not available on this host');
    const file = path.join(m.dir, 'freezer.state');
    const write = (s: string) => this.d.fs.write(file, s);
    try {
      // As runc: a v1 cgroup whose processes keep forking can stay in
      // FREEZING; retry, thawing briefly now and then to let it settle.
      for (let i = 0; i < 1000; i++) {
        if (i % 50 === 49) {
          write('THAWED');
          this.d.sleep(10);
        }
        write('FROZEN');
        const state = this.d.fs.read(file).trim();
        if (state === 'FROZEN') return;
        if (state !== 'FREEZING') throw new CgroupError(`cannot freeze ${m.dir}: unexpected freezer.state ${JSON.stringify(state)}`);
        if (i % 25 === 24) this.d.sleep(1);
      }
      throw new CgroupError(`cannot freeze ${m.dir}: still FREEZING after 1000 attempts`);
    } catch (e) {
      try {
        write('THAWED');
      } catch {
        /* report the freeze error */
      }
      if (e instanceof CgroupError) throw e;
      throw new CgroupError(`cannot freeze ${m.dir}: ${errnoText(e)}`, errnoCode(e));
    }
  }

  thaw(): void {
    const m = this.member('freezer');
    if (!m) return;
    try {
      this.d.fs.write(path.join(m.dir, 'freezer.state'), 'THAWED');
    } catch (e) {
      throw new CgroupError(`cannot thaw ${m.dir}: ${errnoText(e)}`, errnoCode(e));
    }
  }

  freezerState(): FreezerState {
    const m = this.member('freezer');
    if (!m) return 'undefined';
    for (let i = 0; i < 1000; i++) {
      const s = readOpt(this.d.fs, path.join(m.dir, 'freezer.state'))?.trim();
      if (s === undefined) return 'undefined';
      if (s === 'THAWED') return 'thawed';
      if (s === 'FROZEN') {
        // Frozen because an ancestor is: not paused by us.
        const self = readOpt(this.d.fs, path.join(m.dir, 'freezer.self_freezing'))?.trim();
        return self === '0' ? 'thawed' : 'frozen';
      }
      this.d.sleep(1); // FREEZING settles quickly
    }
    return 'undefined';
  }

  pids(recursive = true): number[] {
    const m = PIDS_FROM.map((c) => this.member(c)).find((x) => x !== undefined) ?? this.members[0];
    return m ? readPids(this.d.fs, m.dir, recursive) : [];
  }

  killAll(sig: number): void {
    freezeSignalThaw(this.d, this, sig);
  }

  statDirs(): V1StatDirs {
    const r = (c: string) => {
      const m = this.member(c);
      return m ? reader(this.d.fs, m.dir) : undefined;
    };
    return { cpu: r('cpu'), cpuacct: r('cpuacct'), cpuset: r('cpuset'), memory: r('memory'), pids: r('pids'), blkio: r('blkio'), hugetlb: r('hugetlb') };
  }

  stats(): CgroupStats {
    return v1Stats(this.statDirs(), this.d.hugePageSizes());
  }

  oomKillCount(): bigint {
    const m = this.member('memory');
    if (!m) return 0n;
    return parseKeyValues(readOpt(this.d.fs, path.join(m.dir, 'memory.oom_control')) ?? '').get('oom_kill') ?? 0n;
  }

  destroy(): void {
    let first: unknown;
    for (const m of this.members) {
      try {
        removeTree(this.d, m.dir);
      } catch (e) {
        first ??= e;
      }
    }
    if (first !== undefined) {
      try {
        this.thaw();
      } catch {
        /* report the removal error */
      }
      throw first;
    }
  }

  exists(): boolean {
    return this.members.some((m) => this.d.fs.exists(m.dir));
  }
}
