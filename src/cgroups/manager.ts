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
import path from 'node:path';
import { readdirSync } from 'node:fs';
import type { LinuxResources } from '../spec/types.js';
import { nativeDeviceFilterAttacher, type DeviceFilterAttacher } from './bpf-attach.js';
import { CgroupError, errnoCode, errnoText } from './errors.js';
import { hostFs, type CgroupFs } from './fs.js';
import type { CgroupLayout, Hierarchy } from './host.js';
import { cgroupDir, type CgroupPath } from './path.js';
import { hugePageSizesFrom, parseKeyValues, parseUint, v1Stats, v2Hugetlb, v2Stats, type CgroupStats, type Reader, type V1StatDirs } from './stats.js';
import { v1Writes, type V1Facts } from './v1-resources.js';
import { v2Writes, type V2Facts } from './v2-resources.js';
import type { CgroupWrite, TranslateOptions } from './writes.js';

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
  exists(): boolean;
}

export interface ManagerDeps {
  fs?: CgroupFs;
  deviceFilter?: DeviceFilterAttacher;
  /** kill(2); ESRCH is ignored by the caller. */
  kill?: (pid: number, sig: number) => void;
  sleep?: (ms: number) => void;
  /** Huge page sizes of the host ("2MB", "1GB"), for stats. */
  hugePageSizes?: () => string[];
}

interface Deps {
  fs: CgroupFs;
  deviceFilter: DeviceFilterAttacher;
  kill: (pid: number, sig: number) => void;
  sleep: (ms: number) => void;
  hugePageSizes: () => string[];
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

function deps(d: ManagerDeps = {}): Deps {
  return {
    fs: d.fs ?? hostFs,
    deviceFilter: d.deviceFilter ?? nativeDeviceFilterAttacher,
    kill: d.kill ?? ((pid, sig) => process.kill(pid, sig)),
    sleep: d.sleep ?? ((ms) => void Atomics.wait(SLEEPER, 0, 0, ms)),
    hugePageSizes:
      d.hugePageSizes ??
      (() => {
        try {
          return hugePageSizesFrom(readdirSync('/sys/kernel/mm/hugepages'));
        } catch {
          return [];
        }
      }),
  };
}

const SIGKILL = 9;

// --- shared helpers ---------------------------------------------------------

function readOpt(fs: CgroupFs, file: string): string | undefined {
  try {
    return fs.read(file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENODEV') return undefined;
    throw new CgroupError(`reading ${file}: ${errnoText(e)}`, errnoCode(e));
  }
}

function reader(fs: CgroupFs, dir: string): Reader {
  return (file) => readOpt(fs, path.join(dir, file));
}

function words(text: string | undefined): Set<string> {
  return new Set((text ?? '').split(/\s+/).filter(Boolean));
}

/** Creates `dir` and its missing parents below `mountpoint`; returns the ones it made, outermost first. */
function mkdirs(fs: CgroupFs, mountpoint: string, dir: string, each?: (d: string, parent: string) => void): string[] {
  const rel = path.relative(mountpoint, dir);
  if (rel === '' || rel.startsWith('..')) throw new CgroupError(`${dir} is not a cgroup below ${mountpoint}`);
  const made: string[] = [];
  let cur = mountpoint;
  try {
    for (const seg of rel.split('/')) {
      const parent = cur;
      cur = path.join(cur, seg);
      try {
        if (fs.mkdir(cur)) made.push(cur);
      } catch (e) {
        throw new CgroupError(`cannot create cgroup ${cur}: ${errnoText(e)}`, errnoCode(e));
      }
      each?.(cur, parent);
    }
  } catch (e) {
    undoMkdirs(fs, made);
    throw e;
  }
  return made;
}

function undoMkdirs(fs: CgroupFs, made: readonly string[]): void {
  for (const d of [...made].reverse()) {
    try {
      fs.rmdir(d);
    } catch {
      /* best effort: the original error matters more */
    }
  }
}

/** Writes a pid into cgroup.procs; EINVAL can mean the task is still being created, so retry a little. */
function joinCgroup(d: Deps, dir: string, pid: number): void {
  const file = path.join(dir, 'cgroup.procs');
  for (let i = 0; ; i++) {
    try {
      d.fs.write(file, String(pid));
      return;
    } catch (e) {
      if (errnoCode(e) === 'EINVAL' && i < 5) {
        d.sleep(30);
        continue;
      }
      throw new CgroupError(`cannot move process ${pid} into ${dir}: ${errnoText(e)}`, errnoCode(e));
    }
  }
}

function readPids(fs: CgroupFs, dir: string, recursive: boolean): number[] {
  const text = readOpt(fs, path.join(dir, 'cgroup.procs'));
  if (text === undefined) return [];
  const out = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map(Number);
  if (recursive) {
    for (const sub of subdirs(fs, dir)) out.push(...readPids(fs, path.join(dir, sub), true));
  }
  return out;
}

function subdirs(fs: CgroupFs, dir: string): string[] {
  try {
    return fs.subdirs(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw new CgroupError(`listing ${dir}: ${errnoText(e)}`, errnoCode(e));
  }
}

/**
 * rmdir of a cgroup and its sub-cgroups, like runc's RemovePath: EBUSY is
 * retried with growing pauses (~1 s in all) because the last processes may
 * still be exiting. A missing directory is success.
 */
function removeTree(d: Deps, dir: string): void {
  try {
    d.fs.rmdir(dir);
    return;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
  }
  for (const sub of subdirs(d.fs, dir)) removeTree(d, path.join(dir, sub));
  let delay = 1;
  for (let tries = 0; ; tries++) {
    try {
      d.fs.rmdir(dir);
      return;
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') return;
      if (code === 'EBUSY' && tries < 10) {
        d.sleep(delay);
        delay *= 2;
        continue;
      }
      throw new CgroupError(`cannot remove cgroup ${dir}: ${errnoText(e)}${code === 'EBUSY' ? ' (processes are still in it)' : ''}`, code);
    }
  }
}

function signalAll(d: Deps, pids: readonly number[], sig: number): void {
  for (const pid of pids) {
    try {
      d.kill(pid, sig);
    } catch (e) {
      if (errnoCode(e) !== 'ESRCH') throw new CgroupError(`cannot signal process ${pid}: ${errnoText(e)}`, errnoCode(e));
    }
  }
}

interface Target {
  /** The directory holding `controller`'s files, or undefined when it is not available. */
  dir(controller: string): string | undefined;
  /** Why `controller` is not available, in words. */
  unavailable(controller: string): string;
}

/**
 * Performs translated writes in order. Returns warnings. See CgroupWrite
 * for ifMissing, retryOnEinval, readBack and byLine.
 */
function runWrites(d: Deps, writes: readonly CgroupWrite[], target: Target): string[] {
  const warnings: string[] = [];
  let pending: Array<{ w: CgroupWrite; file: string; value: string }> = [];
  const fail = (w: CgroupWrite, file: string, value: string, e: unknown, extra = ''): never => {
    throw new CgroupError(`${w.from}: writing ${JSON.stringify(value)} to ${file}: ${errnoText(e)}${extra}`, errnoCode(e));
  };
  const missing = (w: CgroupWrite, why: string): void => {
    if (w.ifMissing === 'skip') return;
    if (w.ifMissing === 'warn') {
      warnings.push(`${w.from}: ${w.missing ?? why}`);
      return;
    }
    throw new CgroupError(`${w.from}: ${why}`, 'ENOENT');
  };
  const flush = () => {
    for (const p of pending) {
      try {
        d.fs.write(p.file, p.value);
      } catch (e) {
        fail(p.w, p.file, p.value, e);
      }
    }
    pending = [];
  };
  writes.forEach((w, i) => {
    const dir = target.dir(w.controller);
    if (dir === undefined) missing(w, target.unavailable(w.controller));
    else {
      const file = path.join(dir, w.file);
      const values = w.byLine ? w.value.split('\n').filter((l) => l.trim() !== '') : [w.value];
      for (const value of values) {
        try {
          d.fs.write(file, value);
        } catch (e) {
          const code = errnoCode(e);
          if (code === 'ENOENT') {
            missing(w, w.missing ?? `${file} does not exist`);
            break;
          }
          if (code === 'EINVAL' && w.retryOnEinval) {
            pending.push({ w, file, value });
            continue;
          }
          if (code === 'EBUSY' && w.file === 'memory.limit_in_bytes') {
            const usage = readOpt(d.fs, path.join(dir, 'memory.usage_in_bytes'))?.trim();
            fail(w, file, value, e, usage ? ` (the current usage, ${usage} bytes, is above the new limit)` : '');
          }
          fail(w, file, value, e);
        }
        if (w.readBack) {
          const got = parseUint(d.fs.read(file));
          const want = BigInt(value);
          if (got !== want) {
            throw new CgroupError(`${w.from}: the kernel set ${w.file} to ${got} rather than ${want} (the ${got < want ? 'maximum' : 'minimum'} it allows)`);
          }
        }
      }
    }
    if (pending.length > 0 && writes[i + 1]?.controller !== w.controller) flush();
  });
  flush();
  return warnings;
}

// --- cgroup v2 --------------------------------------------------------------

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
      throw new CgroupError(errnoCode(e) === 'ENOENT' ? `cannot freeze ${this.dir}: this kernel has no cgroup v2 freezer (cgroup.freeze needs Linux 5.2)` : `cannot freeze ${this.dir}: ${errnoText(e)}`, errnoCode(e));
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
        if (errnoCode(e) === 'ENOENT') return;
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

/**
 * Without cgroup.kill, signal under a freeze so no process forks a child
 * we would miss; always thaw afterwards (a SIGKILLed process in a frozen v1
 * cgroup dies only when thawed). Without any freezer, signal as is.
 */
function freezeSignalThaw(d: Deps, m: Pick<CgroupManager, 'freeze' | 'thaw' | 'pids'>, sig: number): void {
  let frozen = false;
  try {
    m.freeze();
    frozen = true;
  } catch {
    /* no freezer: best effort */
  }
  try {
    signalAll(d, m.pids(true), sig);
  } finally {
    if (frozen) m.thaw();
  }
}

// --- cgroup v1 --------------------------------------------------------------

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
const V1_KNOWN = new Set(['cpuset', 'cpu', 'cpuacct', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio', 'blkio', 'perf_event', 'hugetlb', 'pids', 'rdma', 'misc', 'name=systemd']);

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

// --- hybrid -----------------------------------------------------------------

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
      warnings.push(...t2.warnings, ...this.v2.perform(t2.writes, routed.has('devices') ? t2.deviceProgram : undefined));
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
    if (sig === SIGKILL && this.d.fs.exists(path.join(this.v2.dir, 'cgroup.kill'))) this.v2.killAll(sig);
    else freezeSignalThaw(this.d, this, sig);
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

// --- construction -----------------------------------------------------------

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
  const v1 = () => new V1Manager(v1Hierarchies(layout).map((h) => ({ key: h.key, controllers: h.controllers, mountpoint: h.mountpoint, dir: cgroupDir(layout, h, cg, false) })), deps);
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
    if (unified === undefined || !h2 || !under(h2, unified)) throw new CgroupError(`the recorded cgroup (${Object.values(dirs).join(', ')}) does not match this host's cgroup layout (${layout.mode})`);
    return new V2Manager(h2.mountpoint, unified, deps, enable);
  };
  if (layout.mode === 'v2') return v2('all');
  const members: V1Member[] = [];
  for (const h of v1Hierarchies(layout)) {
    const dir = dirs[h.key];
    if (dir !== undefined && under(h, dir)) members.push({ key: h.key, controllers: h.controllers, mountpoint: h.mountpoint, dir });
  }
  if (members.length === 0 && layout.mode === 'v1') throw new CgroupError(`the recorded cgroup (${Object.values(dirs).join(', ')}) does not match this host's cgroup layout (v1)`);
  const v1 = new V1Manager(members, deps);
  return layout.mode === 'hybrid' && unified !== undefined ? new HybridManager(v1, v2('needed'), deps) : v1;
}
