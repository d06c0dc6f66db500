// A CgroupFs that performs nothing: `hako explain` runs the same manager
// code as create (create() then set()) against it, and what would have
// been made and written is its log. Reads of what exists go to the host
// (read only); a directory "made" here behaves as the kernel makes a new
// cgroup (cgroup(7), cgroup-v2.rst), so later reads and writes see what
// create would see:
//  - cgroup v2 (its hierarchy has cgroup.controllers): cgroup.controllers
//    is the parent's cgroup.subtree_control, which starts empty; the core
//    files (cgroup.*) are there, a controller's files when it is enabled.
//  - cgroup v1: a child has its parent's files; cpuset.cpus and
//    cpuset.mems start empty, the other values are inherited (devices.list
//    included).
// Written values are kept: cgroup.subtree_control collects "+c" words.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { DeviceFilterAttacher } from './bpf-attach.js';
import { hostFs, type CgroupFs } from './fs.js';
import type { CgroupLayout } from './host.js';

/** One thing create would do to the cgroup filesystem, in order. */
export type DryRunOp =
  | { op: 'mkdir'; path: string }
  | { op: 'write'; path: string; value: string }
  | { op: 'device-filter'; path: string; instructions: number };

const EMPTY_IN_NEW = new Set(['cgroup.subtree_control', 'cgroup.procs', 'cgroup.threads', 'tasks', 'cpuset.cpus', 'cpuset.mems']);

function enoent(p: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' });
}

export class DryRunFs implements CgroupFs {
  readonly ops: DryRunOp[] = [];
  private readonly made = new Set<string>();
  private readonly written = new Map<string, string>();

  /**
   * @param layout the host's hierarchies: which controllers a v1 root has
   *   (a root cgroup may show none of its files), else its files tell.
   */
  constructor(
    private readonly host: CgroupFs = hostFs,
    private readonly layout?: CgroupLayout,
  ) {}

  /** The device filter loader to pass with this fs (ManagerDeps.deviceFilter): it records the program's size. */
  readonly deviceFilter: DeviceFilterAttacher = {
    attach: (dir, program) => {
      this.ops.push({ op: 'device-filter', path: dir, instructions: program.byteLength / 8 });
    },
  };

  /** Whether `dir` (made here or not) is in a cgroup v2 hierarchy. */
  private isV2(dir: string): boolean {
    let d = dir;
    while (this.made.has(d)) d = path.dirname(d);
    return this.host.exists(path.join(d, 'cgroup.controllers'));
  }

  read(file: string): string {
    const w = this.written.get(file);
    if (w !== undefined) return w;
    const dir = path.dirname(file);
    if (!this.made.has(dir)) return this.host.read(file);
    if (!this.exists(file)) throw enoent(file);
    const name = path.basename(file);
    if (name === 'cgroup.controllers') return this.read(path.join(path.dirname(dir), 'cgroup.subtree_control'));
    if (EMPTY_IN_NEW.has(name)) return '';
    return this.read(path.join(path.dirname(dir), name));
  }

  exists(p: string): boolean {
    if (this.made.has(p) || this.written.has(p)) return true;
    const dir = path.dirname(p);
    if (!this.made.has(dir)) return this.host.exists(p);
    const name = path.basename(p);
    const parent = path.dirname(dir);
    if (name.startsWith('cgroup.') || name === 'tasks' || name === 'notify_on_release') return true;
    const controller = name.slice(0, name.indexOf('.'));
    if (this.isV2(dir) && !this.read(path.join(dir, 'cgroup.controllers')).split(/\s+/).includes(controller)) return false;
    // A child has its parent's files; the root cgroup lacks the limits
    // (pids.max, memory.max...), which every child of a controller has.
    if (this.exists(path.join(parent, name))) return true;
    return this.isRoot(parent) && this.rootHasController(parent, controller);
  }

  /** The root cgroup of a hierarchy: its parent directory is no cgroup. */
  private isRoot(dir: string): boolean {
    return !this.made.has(dir) && !this.host.exists(path.join(path.dirname(dir), 'cgroup.procs'));
  }

  private rootHasController(root: string, controller: string): boolean {
    if (this.isV2(root)) return true; // enabled: checked above
    const h = this.layout?.hierarchies.find((x) => x.mountpoint === root);
    if (h) return h.controllers.includes(controller);
    try {
      return readdirSync(root).some((f) => f.startsWith(controller + '.'));
    } catch {
      return false;
    }
  }

  write(file: string, value: string): void {
    if (!this.exists(file) || this.made.has(file)) throw enoent(file);
    this.ops.push({ op: 'write', path: file, value });
    if (path.basename(file) === 'cgroup.subtree_control') {
      const have = new Set(this.read(file).split(/\s+/).filter(Boolean));
      for (const w of value.split(/\s+/).filter(Boolean)) {
        if (w.startsWith('+')) have.add(w.slice(1));
        else if (w.startsWith('-')) have.delete(w.slice(1));
      }
      this.written.set(file, [...have].join(' '));
    } else this.written.set(file, value);
  }

  private dirExists(d: string): boolean {
    return this.made.has(d) || (!this.made.has(path.dirname(d)) && this.host.exists(d));
  }

  mkdir(dir: string): boolean {
    if (this.dirExists(dir)) return false;
    if (!this.dirExists(path.dirname(dir))) throw enoent(dir);
    this.made.add(dir);
    this.ops.push({ op: 'mkdir', path: dir });
    return true;
  }

  rmdir(dir: string): void {
    // Only create's undo after a failure comes here; what it made was never made.
    this.made.delete(dir);
  }

  subdirs(dir: string): string[] {
    return this.made.has(dir) ? [] : this.host.subdirs(dir);
  }
}
