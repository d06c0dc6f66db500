// The cgroup v2 manager: one directory in the unified hierarchy, controllers
// enabled through the parents' cgroup.subtree_control, device rules as an
// eBPF filter, cgroup.freeze and cgroup.kill. Also the unified half of a
// hybrid host (hybrid.ts), where it enables only what a setting needs.
import path from 'node:path';
import type { LinuxResources } from '../spec/types.js';
import { CgroupError, errnoCode, errnoText } from './cgroup-error.js';
import {
  SIGKILL,
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
  words,
  type Deps,
  type ManagerDeps,
  type Target,
} from './common.js';
import type { CgroupDirs, CgroupManager, FreezerState } from './manager.js';
import { parseKeyValues, parseUint, v2Stats, type CgroupStats } from './stats.js';
import { v2Writes, type V2Facts } from './v2-resources.js';
import type { CgroupWrite, TranslateOptions } from './writes.js';

// Controllers every cgroup2 cgroup has without enabling: the core files,
// and devices/freezer, which are not controllers in v2 (eBPF, cgroup.freeze).
const V2_IMPLICIT = new Set(['cgroup', 'devices', 'freezer']);

export class V2Manager implements CgroupManager {
  readonly mode = 'v2';
  private readonly d: Deps;

  /**
   * @param enable 'all': create() enables every controller the parents can
   *   enable, as runc does (so stats have memory, io and pids counters);
   *   'needed': only those set() needs, when it needs them (the unified
   *   tree of a hybrid host, which hako should change no more than asked).
   */
  constructor(
    readonly mountpoint: string,
    readonly dir: string,
    depsIn: ManagerDeps = {},
    private readonly enable: 'all' | 'needed' = 'all',
  ) {
    this.d = deps(depsIn);
  }

  get dirs(): CgroupDirs {
    return { '': this.dir };
  }

  private file(f: string, dir = this.dir): string {
    return path.join(dir, f);
  }

  /** The directories from the mount point down to the cgroup's parent. */
  private ancestors(): string[] {
    const out = [this.mountpoint];
    const rel = path.relative(this.mountpoint, this.dir).split('/');
    for (let i = 0; i < rel.length - 1; i++) out.push(path.join(out[out.length - 1]!, rel[i]!));
    return out;
  }

  parents(): string[] {
    return dirsBetween(this.mountpoint, this.dir);
  }

  create(): void {
    const made = mkdirs(this.d.fs, this.mountpoint, this.dir);
    if (this.enable === 'all') {
      try {
        for (const a of this.ancestors()) this.enableIn(a, words(readOpt(this.d.fs, this.file('cgroup.controllers', a))));
      } catch (e) {
        undoMkdirs(this.d.fs, made);
        throw e;
      }
    }
  }

  /**
   * Enables controllers for the children of `dir`: all at once, else one
   * by one, ignoring refusals (a populated cgroup cannot enable domain
   * controllers for its children); a controller that did not get enabled
   * is reported by set() when a setting needs it.
   */
  private enableIn(dir: string, wanted: Set<string>): void {
    const have = words(readOpt(this.d.fs, this.file('cgroup.subtree_control', dir)));
    const todo = [...wanted].filter((c) => !have.has(c));
    if (todo.length === 0) return;
    const file = this.file('cgroup.subtree_control', dir);
    try {
      this.d.fs.write(file, todo.map((c) => `+${c}`).join(' '));
    } catch {
      for (const c of todo) {
        try {
          this.d.fs.write(file, `+${c}`);
        } catch {
          /* reported by set() if it matters */
        }
      }
    }
  }

  /** Controllers usable in the container's cgroup. */
  controllers(): Set<string> {
    return words(readOpt(this.d.fs, this.file('cgroup.controllers')));
  }

  /** Enables what `needed` asks for along the path, when the host has it. */
  ensureControllers(needed: Iterable<string>): void {
    const have = this.controllers();
    const host = words(readOpt(this.d.fs, this.file('cgroup.controllers', this.mountpoint)));
    const want = new Set([...needed].filter((c) => !have.has(c) && !V2_IMPLICIT.has(c) && host.has(c)));
    if (want.size === 0) return;
    for (const a of this.ancestors()) this.enableIn(a, want);
  }

  target(): Target {
    const have = this.controllers();
    return {
      dir: (c) => (V2_IMPLICIT.has(c) || have.has(c) ? this.dir : undefined),
      unavailable: (c) =>
        words(readOpt(this.d.fs, this.file('cgroup.controllers', this.mountpoint))).has(c)
          ? `the ${c} controller is not enabled for ${this.dir} (controllers can only be enabled below a cgroup that has no processes of its own)`
          : `the ${c} cgroup controller is not available on this host`,
    };
  }

  facts(r: LinuxResources): V2Facts {
    const f: V2Facts = {};
    if (r.memory?.checkBeforeUpdate) {
      const cur = readOpt(this.d.fs, this.file('memory.current'));
      if (cur !== undefined) f.memoryUsage = parseUint(cur);
    }
    if (r.blockIO && ((r.blockIO.weight ?? 0) !== 0 || (r.blockIO.weightDevice?.length ?? 0) > 0)) {
      const bfq = readOpt(this.d.fs, this.file('io.bfq.weight'));
      if (bfq !== undefined) f.ioBfqWeight = bfq;
    }
    return f;
  }

  set(r: LinuxResources, opts?: TranslateOptions): string[] {
    const t = v2Writes(r, this.facts(r), opts);
    return [...t.warnings, ...this.perform(t.writes, t.deviceProgram)];
  }

  /** Writes already-translated settings (the hybrid manager routes some here). */
  perform(writes: readonly CgroupWrite[], deviceProgram?: Uint8Array): string[] {
    this.ensureControllers(new Set(writes.map((w) => w.controller)));
    const warnings = runWrites(this.d, writes, this.target());
    if (deviceProgram) this.d.deviceFilter.attach(this.dir, deviceProgram);
    return warnings;
  }

  apply(pid: number): void {
    joinCgroup(this.d, this.dir, pid);
  }

  freeze(): void {
    const file = this.file('cgroup.freeze');
    try {
      this.d.fs.write(file, '1');
    } catch (e) {
      throw new CgroupError(
        errnoCode(e) === 'ENOENT'
          ? `cannot freeze ${this.dir}: this kernel has no cgroup v2 freezer (cgroup.freeze needs Linux 5.2)`
          : `cannot freeze ${this.dir}: ${errnoText(e)}`,
        errnoCode(e),
      );
    }
    // Frozen means every task has stopped, which cgroup.events reports.
    for (let i = 0; i < 1000; i++) {
      const ev = parseKeyValues(readOpt(this.d.fs, this.file('cgroup.events')) ?? '');
      if (ev.get('frozen') === 1n) return;
      this.d.sleep(10);
    }
    this.thawQuietly();
    throw new CgroupError(`cannot freeze ${this.dir}: not frozen after 10 s`);
  }

  thaw(): void {
    try {
      this.d.fs.write(this.file('cgroup.freeze'), '0');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return; // no freezer: nothing can be frozen
      throw new CgroupError(`cannot thaw ${this.dir}: ${errnoText(e)}`, errnoCode(e));
    }
  }

  thawQuietly(): void {
    try {
      this.thaw();
    } catch {
      /* the caller reports its own error */
    }
  }

  freezerState(): FreezerState {
    const t = readOpt(this.d.fs, this.file('cgroup.freeze'))?.trim();
    return t === '1' ? 'frozen' : t === '0' ? 'thawed' : 'undefined';
  }

  pids(recursive = true): number[] {
    return readPids(this.d.fs, this.dir, recursive);
  }

  killAll(sig: number): void {
    // cgroup.kill (Linux 5.14) kills everything atomically, even processes
    // forking at that moment.
    if (sig === SIGKILL && this.d.fs.exists(this.file('cgroup.kill'))) {
      try {
        this.d.fs.write(this.file('cgroup.kill'), '1');
        return;
      } catch (e) {
        // ENODEV: removed meanwhile (systemd drops an emptied scope's
        // cgroup on its own), so nothing is left in it to kill.
        const code = errnoCode(e);
        if (code === 'ENOENT' || code === 'ENODEV') return;
        throw new CgroupError(`cannot kill the processes of ${this.dir}: ${errnoText(e)}`, errnoCode(e));
      }
    }
    freezeSignalThaw(this.d, this, sig);
  }

  stats(): CgroupStats {
    return v2Stats(reader(this.d.fs, this.dir), this.d.hugePageSizes());
  }

  oomKillCount(): bigint {
    return parseKeyValues(readOpt(this.d.fs, this.file('memory.events')) ?? '').get('oom_kill') ?? 0n;
  }

  destroy(): void {
    try {
      removeTree(this.d, this.dir);
    } catch (e) {
      this.thawQuietly();
      throw e;
    }
  }

  exists(): boolean {
    return this.d.fs.exists(this.dir);
  }
}
