// The parent directories of a container's cgroup that hako made (a nested
// cgroupsPath: "/hako/a/b/c" makes /hako, /hako/a and /hako/a/b where they
// are missing). The spec's delete removes what create made, so they go with
// the container's cgroup, never a parent that was there before.
//
// What the record keeps (ContainerRecord.cgroupParents) is decided before
// any mkdir and written with the first record (store.claim), so a create
// killed between a mkdir and a record write leaks nothing: `delete --force`
// finds the intent. It holds:
//  - the parents missing just before create made its cgroup, and
//  - the existing parents another container of this state root claims: a
//    parent made by container A and shared by B must go with whichever of
//    the two is deleted last, not stay behind when A went first.
// Removal is rmdir(2), innermost first, ignoring every failure: a parent
// still holding another container's cgroup is busy (EBUSY), one removed
// meanwhile is ENOENT; both mean "not ours to remove now".
//
// Not covered: a parent shared with a container of another state root
// (--root), which cannot be seen, stays when its maker goes first; and a
// parent someone else makes in the instant between the check and the mkdir
// is taken for ours (it goes only if empty at delete).
import path from 'node:path';
import { rmdirSync } from 'node:fs';
import type { ContainerRecord } from './store.js';

/**
 * The parents to record for a new container: those of `parents` (a
 * manager's, outermost first) that do not exist, or that `claimed` (other
 * records' cgroupParents) names.
 */
export function parentsToRecord(parents: readonly string[], exists: (dir: string) => boolean, claimed: ReadonlySet<string>): string[] {
  return parents.filter((d) => claimed.has(d) || !exists(d));
}

/** Every parent the given records claim. */
export function claimedParents(records: Iterable<Pick<ContainerRecord, 'cgroupParents'> | undefined>): Set<string> {
  const out = new Set<string>();
  for (const r of records) for (const d of r?.cgroupParents ?? []) out.add(d);
  return out;
}

/** Innermost first: a child goes before its parent whatever the hierarchy. */
export function removalOrder(dirs: readonly string[]): string[] {
  const depth = (d: string) => d.split('/').length;
  return [...new Set(dirs)].sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * rmdir of each recorded parent, innermost first; failures are left alone
 * (in use by another container, or gone). Returns the ones removed.
 */
export function removeParents(dirs: readonly string[] | undefined, rmdir: (dir: string) => void = rmdirSync): string[] {
  const removed: string[] = [];
  for (const d of removalOrder(dirs ?? [])) {
    try {
      rmdir(d);
      removed.push(d);
    } catch {
      /* busy (another container's cgroup is below it) or gone */
    }
  }
  return removed;
}

/** Whether `dir` is a proper ancestor of one of `cgroupDirs` (what a record may name). */
export function isParentOf(dir: string, cgroupDirs: readonly string[]): boolean {
  return cgroupDirs.some((c) => {
    const rel = path.relative(dir, c);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  });
}

/**
 * The parents other containers of a state root claim (their records, read
 * without locks: a claim is written before its mkdirs). A root that cannot
 * be listed claims nothing: the claim that follows says what is wrong.
 */
export function claimedInStore(store: { ids(): string[]; load(id: string): { rec?: ContainerRecord } | null }, self: string): Set<string> {
  let ids: string[];
  try {
    ids = store.ids().filter((i) => i !== self);
  } catch {
    return new Set();
  }
  return claimedParents(ids.map((i) => store.load(i)?.rec));
}
