// What the v2, v1 and hybrid managers share: their injected dependencies
// (the filesystem, kill, sleep, the device filter loader) and the cgroup
// operations that are the same everywhere: creating and removing
// directories, joining, listing members, signalling, and performing
// translated writes with their missing-file and retry rules.
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { nativeDeviceFilterAttacher, type DeviceFilterAttacher } from './bpf-attach.js';
import { CgroupError, errnoCode, errnoText } from './cgroup-error.js';
import { hostFs, type CgroupFs } from './fs.js';
import { hugePageSizesFrom, parseUint, type Reader } from './stats.js';
import type { CgroupManager } from './manager.js';
import type { CgroupWrite } from './writes.js';

export interface ManagerDeps {
  fs?: CgroupFs;
  deviceFilter?: DeviceFilterAttacher;
  /** kill(2); ESRCH is ignored by the caller. */
  kill?: (pid: number, sig: number) => void;
  sleep?: (ms: number) => void;
  /** Huge page sizes of the host ("2MB", "1GB"), for stats. */
  hugePageSizes?: () => string[];
}

export interface Deps {
  fs: CgroupFs;
  deviceFilter: DeviceFilterAttacher;
  kill: (pid: number, sig: number) => void;
  sleep: (ms: number) => void;
  hugePageSizes: () => string[];
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

export function deps(d: ManagerDeps = {}): Deps {
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

export const SIGKILL = 9;

export function readOpt(fs: CgroupFs, file: string): string | undefined {
  try {
    return fs.read(file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENODEV') return undefined;
    throw new CgroupError(`reading ${file}: ${errnoText(e)}`, errnoCode(e));
  }
}

export function reader(fs: CgroupFs, dir: string): Reader {
  return (file) => readOpt(fs, path.join(dir, file));
}

export function words(text: string | undefined): Set<string> {
  return new Set((text ?? '').split(/\s+/).filter(Boolean));
}

/**
 * The directories strictly between `mountpoint` and `dir`, outermost first:
 * the parents mkdirs makes when they are missing.
 */
export function dirsBetween(mountpoint: string, dir: string): string[] {
  const rel = path.relative(mountpoint, dir);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return [];
  const out: string[] = [];
  const segs = rel.split('/');
  for (let i = 0, cur = mountpoint; i < segs.length - 1; i++) out.push((cur = path.join(cur, segs[i]!)));
  return out;
}

/** Creates `dir` and its missing parents below `mountpoint`; returns the ones it made, outermost first. */
export function mkdirs(fs: CgroupFs, mountpoint: string, dir: string, each?: (d: string, parent: string) => void): string[] {
  // A parent can vanish between two mkdirs: a concurrent create that failed
  // removes the parents it made (src/container/cgroup-parents.ts), unaware of us. Start again.
  for (let attempt = 0; ; attempt++) {
    try {
      return mkdirsOnce(fs, mountpoint, dir, each);
    } catch (e) {
      if (attempt < 2 && e instanceof CgroupError && e.code === 'ENOENT') continue;
      throw e;
    }
  }
}

function mkdirsOnce(fs: CgroupFs, mountpoint: string, dir: string, each?: (d: string, parent: string) => void): string[] {
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

export function undoMkdirs(fs: CgroupFs, made: readonly string[]): void {
  for (const d of [...made].reverse()) {
    try {
      fs.rmdir(d);
    } catch {
      /* best effort: the original error matters more */
    }
  }
}

/** Writes a pid into cgroup.procs; EINVAL can mean the task is still being created, so retry a little. */
export function joinCgroup(d: Deps, dir: string, pid: number): void {
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

export function readPids(fs: CgroupFs, dir: string, recursive: boolean): number[] {
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

export function subdirs(fs: CgroupFs, dir: string): string[] {
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
export function removeTree(d: Deps, dir: string): void {
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

export function signalAll(d: Deps, pids: readonly number[], sig: number): void {
  for (const pid of pids) {
    try {
      d.kill(pid, sig);
    } catch (e) {
      if (errnoCode(e) !== 'ESRCH') throw new CgroupError(`cannot signal process ${pid}: ${errnoText(e)}`, errnoCode(e));
    }
  }
}

export interface Target {
  /** The directory holding `controller`'s files, or undefined when it is not available. */
  dir(controller: string): string | undefined;
  /** Why `controller` is not available, in words. */
  unavailable(controller: string): string;
}

/**
 * Performs translated writes in order. Returns warnings. See CgroupWrite
 * for ifMissing, retryOnEinval, readBack and byLine.
 */
export function runWrites(d: Deps, writes: readonly CgroupWrite[], target: Target): string[] {
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

/**
 * Without cgroup.kill, signal under a freeze so no process forks a child
 * we would miss; always thaw afterwards (a SIGKILLed process in a frozen v1
 * cgroup dies only when thawed). Without any freezer, signal as is.
 */
export function freezeSignalThaw(d: Deps, m: Pick<CgroupManager, 'freeze' | 'thaw' | 'pids'>, sig: number): void {
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
