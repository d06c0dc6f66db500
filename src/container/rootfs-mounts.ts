// The mounts a container without a mount namespace of its own leaves in the
// host's mount table. Its init mounts proc, sys, dev, dev/pts, ..., the
// config's mounts and the masked and read-only paths under the rootfs in
// the namespace hako runs in (addon/launcher/rootfs.c: ROOT_CHROOT), and
// nothing unmounts them when it exits. runc leaves them there; the spec's
// delete removes what create made, so hako unmounts them, at delete and
// after a failed create.
//
// What create made is told by mount id (/proc/self/mountinfo's first
// field): the ids below the rootfs before the init ran (`before`, recorded
// with the first record, so a create killed half-way is cleaned up too),
// and once the init is ready the ones that appeared since (`made`, with
// their mount points then). Delete unmounts the recorded ones still below
// the rootfs, else (a create that never got that far) whatever is below
// the rootfs and was not there before. Each is unmounted through an fd
// opened beneath the rootfs without following symlinks and checked to be
// that mount (native unmountBeneath): the directories there are the
// container's, and a path looked up again could lead anywhere.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { native } from '../native.js';
import { unescapeMountinfo } from '../mountinfo.js';

/** What the record keeps (ContainerRecord.rootfsMounts). */
export interface RootfsMounts {
  /** The rootfs as the mount table names it (symlinks resolved). */
  root: string;
  /** Ids of the mounts below `root` before create mounted anything. */
  before: number[];
  /** The mounts create made below `root`, in the order it made them. */
  made?: Array<{ id: number; path: string }>;
}

export interface MountEntry {
  id: number;
  mountpoint: string;
}

/** The id and mount point of each line of /proc/PID/mountinfo, in its order (the order they were mounted in). */
export function parseMountEntries(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5 || !/^\d+$/.test(f[0]!)) continue;
    out.push({ id: Number(f[0]), mountpoint: unescapeMountinfo(f[4]!) });
  }
  return out;
}

/** Strictly below `root`: the rootfs itself (a mount of the caller's, perhaps) is never one of ours. */
export function isBelow(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** The mounts below `root` now that are not among `before`. */
export function newMounts(entries: readonly MountEntry[], root: string, before: readonly number[]): MountEntry[] {
  const had = new Set(before);
  return entries.filter((e) => isBelow(root, e.mountpoint) && !had.has(e.id));
}

/**
 * What to unmount, innermost (latest) first: the recorded mounts still
 * below the rootfs, or, with none recorded, every mount below it that was
 * not there before. A recorded mount is found by id where it is now: the
 * container may have renamed a directory above it (the mount table follows
 * the rename), and what matters is that it is still below the rootfs.
 */
export function toUnmount(entries: readonly MountEntry[], m: RootfsMounts): MountEntry[] {
  const ids = m.made ? new Set(m.made.map((r) => r.id)) : undefined;
  const chosen = ids ? entries.filter((e) => ids.has(e.id) && isBelow(m.root, e.mountpoint)) : newMounts(entries, m.root, m.before);
  return chosen.reverse();
}

export interface UnmountIo {
  mountinfo(): string;
  /** native().unmountBeneath. */
  unmount(root: string, rel: string, id: number): boolean;
}

const hostIo: UnmountIo = {
  mountinfo: () => readFileSync('/proc/self/mountinfo', 'utf8'),
  unmount: (root, rel, id) => native().unmountBeneath(root, rel, id),
};

/**
 * Unmounts what create made. Returns why a mount could not be unmounted
 * (one line each, for warnings); a mount gone meanwhile is not a problem.
 */
export function unmountCreated(m: RootfsMounts, io: UnmountIo = hostIo): string[] {
  const problems: string[] = [];
  let entries: MountEntry[];
  try {
    entries = parseMountEntries(io.mountinfo());
  } catch (e) {
    return [`cannot read /proc/self/mountinfo: ${(e as Error).message}`];
  }
  for (const e of toUnmount(entries, m)) {
    try {
      io.unmount(m.root, path.relative(m.root, e.mountpoint), e.id);
    } catch (err) {
      problems.push(`cannot unmount ${e.mountpoint}: ${(err as Error).message}`);
    }
  }
  return problems;
}

/** The record's starting point for a container whose mounts go to the host's table: the real rootfs path and what is below it now. */
export function rootfsMountsBefore(realRoot: string, io: Pick<UnmountIo, 'mountinfo'> = hostIo): RootfsMounts {
  return {
    root: realRoot,
    before: parseMountEntries(io.mountinfo())
      .filter((e) => isBelow(realRoot, e.mountpoint))
      .map((e) => e.id),
  };
}

/** `m` with the mounts made since `before`, once the init is ready. */
export function withMade(m: RootfsMounts, io: Pick<UnmountIo, 'mountinfo'> = hostIo): RootfsMounts {
  return { ...m, made: newMounts(parseMountEntries(io.mountinfo()), m.root, m.before).map((e) => ({ id: e.id, path: e.mountpoint })) };
}
