// Where a container's cgroup lives: linux.cgroupsPath resolved the way
// runc's cgroupfs driver resolves it, so that a container created by hako
// and one created by runc from the same config land in the same place.
//
//  - absolute ("/a/b"): that path under each hierarchy's mount point.
//  - relative ("a/b"): under the cgroup hako itself runs in. On cgroup v1
//    (and the unified tree of a hybrid host) that is hako's own cgroup; on a
//    pure v2 host it is the parent of hako's own cgroup, because v2 forbids
//    enabling controllers for children of a cgroup that has processes in it
//    (hako's own cgroup has at least hako).
//  - empty: the relative path "<id>", exactly as runc does. There is no
//    fixed "/hako" parent: wherever the caller runs (a systemd service, a
//    shim's cgroup, a shell's session scope) is where runc would have put
//    the container too, and the caller's own limits keep applying.
//
// Unlike runc, which cleans "../" silently (so "/../../x" becomes "/x"), a
// path that climbs above its starting point is an error: it is almost
// certainly not what the writer meant, and silently clamping it moves the
// container somewhere else. The systemd driver's "slice:prefix:name" form is
// recognised so the user hears that it needs --systemd-cgroup, rather than
// getting a directory named "system.slice:docker:abc". (The systemd
// driver's own paths are in systemd-unit.ts.)
import path from 'node:path';
import { settingError } from './cgroup-error.js';
import { selfPath, type CgroupLayout, type Hierarchy } from './host.js';

export interface CgroupPath {
  /** true: `inner` is relative to each hierarchy's root; false: to hako's own cgroup. */
  absolute: boolean;
  /** Cleaned: "/a/b" when absolute, "a/b" when relative; never "/", "" or with "..". */
  inner: string;
}

export interface CgroupPathOptions {
  /** linux.cgroupsPath as written in config.json; undefined or "" for none. */
  cgroupsPath?: string;
  /** The container id, the default cgroup's name. */
  id: string;
  /** Names the document in messages; "config.json" by default. */
  source?: string;
}

const POINTER = '/linux/cgroupsPath';

// What runc's systemd driver parses: "slice:prefix:name", where the slice
// may be empty (the default slice) and must otherwise end in ".slice".
const SYSTEMD_FORM = /^([^:/]*\.slice|):[^:/]*:[^:/]+$/;

/** Lexically cleans `p`; throws if ".." would climb above its start. */
function clean(p: string, source: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) throw settingError(source, POINTER, `${JSON.stringify(p)} climbs out of the cgroup hierarchy with ".."`);
      out.pop();
      continue;
    }
    if (seg.includes('\0') || seg.includes('\n')) throw settingError(source, POINTER, 'must not contain NUL or newline characters');
    out.push(seg);
  }
  return out.join('/');
}

export function resolveCgroupPath(opts: CgroupPathOptions): CgroupPath {
  const source = opts.source ?? 'config.json';
  const raw = opts.cgroupsPath ?? '';
  if (raw === '') return { absolute: false, inner: clean(opts.id, source) || fail(source, 'the container id is not a usable cgroup name') };
  if (SYSTEMD_FORM.test(raw)) {
    throw settingError(
      source,
      POINTER,
      `${JSON.stringify(raw)} looks like a systemd slice:prefix:name path, which needs the systemd cgroup driver (--systemd-cgroup); hako's cgroupfs driver takes a path such as /hako/<id>`,
    );
  }
  const absolute = raw.startsWith('/');
  const inner = clean(raw, source);
  if (inner === '') {
    throw settingError(
      source,
      POINTER,
      absolute ? 'must name a cgroup below the hierarchy root, not the root itself' : "must name a cgroup below hako's own, not hako's own cgroup",
    );
  }
  return { absolute, inner: absolute ? `/${inner}` : inner };
}

function fail(source: string, reason: string): never {
  throw settingError(source, POINTER, reason);
}

/**
 * The host directory of `cg` in hierarchy `h`.
 *
 * @param siblingOfSelf resolve a relative path next to hako's own cgroup
 *   rather than inside it (pure cgroup v2; see the file comment).
 */
export function cgroupDir(layout: CgroupLayout, h: Hierarchy, cg: CgroupPath, siblingOfSelf: boolean): string {
  if (cg.absolute) return path.posix.join(h.mountpoint, cg.inner);
  const own = selfPath(layout, h);
  if (own === undefined)
    throw new Error(`cannot resolve the relative cgroupsPath ${JSON.stringify(cg.inner)}: /proc/self/cgroup has no entry for the hierarchy at ${h.mountpoint}`);
  // Inside a cgroup namespace, a cgroup outside the namespace's root shows
  // as "/../..": there is no directory for it under the mount point.
  if (own.split('/').includes('..'))
    throw new Error(`cannot resolve the relative cgroupsPath ${JSON.stringify(cg.inner)}: hako's own cgroup (${own}) is outside this cgroup namespace`);
  // /proc/self/cgroup paths are relative to the hierarchy's root; the mount
  // shows the hierarchy from the mount's root.
  let rel = own;
  if (h.root !== '/' && (rel === h.root || rel.startsWith(h.root + '/'))) rel = rel.slice(h.root.length) || '/';
  if (siblingOfSelf) rel = path.posix.dirname(rel);
  return path.posix.join(h.mountpoint, rel, cg.inner);
}
