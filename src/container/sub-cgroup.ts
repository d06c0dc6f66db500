// `exec --cgroup` (runc 1.2): the process runs in an existing sub-cgroup of
// the container's cgroup rather than in the cgroup itself. The arguments are
// either one "path" (cgroup v2, or every v1 hierarchy) or any number of
// "controller[,controller...]:path" (v1 hierarchies by controller; on v2 the
// unified hierarchy has no controller key, so these are unknown there, as in
// runc). Pure functions: the caller finds the directories and moves the process.
import path from 'node:path';
import type { CgroupDirs } from '../cgroups/manager.js';
import { InnerError } from '../errors.js';

/** An `exec --cgroup` argument that cannot be used: a usage error. */
export class SubCgroupError extends InnerError {
  constructor(message: string) {
    super(message, 'usage');
    this.name = 'SubCgroupError';
  }
}

/** Controller ('' for "every hierarchy") to the path below the container's cgroup; null for no --cgroup. */
export type SubCgroupPaths = ReadonlyMap<string, string>;

/** runc's getSubCgroupPaths, with its words, and the later runc's refusals of an empty or repeated controller. */
export function parseSubCgroupArgs(args: readonly string[]): SubCgroupPaths | null {
  if (args.length === 0) return null;
  const paths = new Map<string, string>();
  for (const c of args) {
    const cs = c.split(':');
    if (cs.length > 2) throw new SubCgroupError(`invalid --cgroup argument: ${c}`);
    if (cs.length === 1) {
      if (args.length !== 1) throw new SubCgroupError(`invalid --cgroup argument: ${c} (missing <controller>: prefix)`);
      paths.set('', c);
      continue;
    }
    for (const ctrl of cs[0].split(',')) {
      if (ctrl === '') throw new SubCgroupError(`invalid --cgroup argument: ${c} (empty <controller> prefix)`);
      if (paths.has(ctrl)) throw new SubCgroupError(`invalid --cgroup argument(s): controller ${ctrl} specified multiple times`);
      paths.set(ctrl, cs[1]);
    }
  }
  return paths;
}

/**
 * The recorded directories (hierarchy key to absolute directory) with the
 * sub-cgroups joined on. A path that leads out of the container's cgroup
 * ("..") is refused in runc's words ("is not a sub cgroup path"), checked
 * by components, not by string prefix (runc 1.2 let a sibling sharing the
 * name's prefix through). A v1 hierarchy holding several controllers
 * ("cpu,cpuacct") is found by any of them.
 */
export function subCgroupDirs(dirs: CgroupDirs, sub: SubCgroupPaths): CgroupDirs {
  const out: Record<string, string> = { ...dirs };
  const join = (base: string, add: string) => {
    const p = path.posix.join(base, add);
    if (p !== base && !p.startsWith(base.endsWith('/') ? base : base + '/')) throw new SubCgroupError(`${add} is not a sub cgroup path`);
    return p;
  };
  const all = sub.get('');
  if (all !== undefined) {
    for (const k of Object.keys(dirs)) out[k] = join(dirs[k], all);
    return out;
  }
  const chosen = new Map<string, string>();
  for (const [ctrl, add] of sub) {
    const key = Object.keys(dirs).find((k) => k !== '' && (k === ctrl || k.split(',').includes(ctrl)));
    if (key === undefined) throw new SubCgroupError(`unknown controller ${ctrl} in SubCgroupPaths`);
    const prev = chosen.get(key);
    if (prev !== undefined && prev !== add)
      throw new SubCgroupError(`invalid --cgroup argument(s): controllers of one hierarchy (${key}) with different paths (${prev}, ${add})`);
    chosen.set(key, add);
    out[key] = join(dirs[key], add);
  }
  return out;
}
