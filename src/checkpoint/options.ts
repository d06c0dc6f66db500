// What criu is told about a container, from its config and the command's
// flags, as runc tells it (libcontainer/container_linux.go: Checkpoint,
// Restore, addCriuDumpMount, addCriuRestoreMount, addMaskPaths,
// handleCheckpointingExternalNamespaces, handleRestoringNamespaces;
// checkpoint.go and restore.go for the flags). Pure, but for the stat of a
// namespace path and of masked paths, which the caller passes in.
import path from 'node:path';
import type { CgroupLayout } from '../cgroups/host.js';
import { hostDir } from '../launch/cgroup-mount.js';
import { CLONE } from '../launch/linux-consts.js';
import type { Spec } from '../spec/types.js';
import { CG_MODE, type ExtMount, type InheritFd } from './rpc.js';

/** A flag's value is wrong: the message names the flag. */
export class OptionError extends Error {
  override readonly name = 'OptionError';
}

/** `--manage-cgroups-mode`: criu_cg_mode, or undefined (criu's default) when not given. */
export function cgroupsMode(name: string): number | undefined {
  if (!name) return undefined;
  const mode = CG_MODE[name];
  if (mode === undefined) throw new OptionError(`--manage-cgroups-mode: invalid mode ${JSON.stringify(name)} (soft, full, strict, props, none or ignore)`);
  return mode;
}

const NS_FLAGS: Record<string, number> = {
  mount: CLONE.NEWNS,
  network: CLONE.NEWNET,
  pid: CLONE.NEWPID,
  ipc: 0x08000000,
  uts: 0x04000000,
  user: 0x10000000,
  cgroup: CLONE.NEWCGROUP,
};

/**
 * `--empty-ns`: the namespaces criu makes without restoring what was in
 * them. The network is always one (runc does not manage network devices:
 * whoever set up the network sets it up again).
 */
export function emptyNsMask(names: readonly string[]): number {
  let mask = CLONE.NEWNET;
  for (const n of names) {
    const f = NS_FLAGS[n];
    if (f === undefined) throw new OptionError(`--empty-ns: namespace ${JSON.stringify(n)} is not supported`);
    mask |= f;
  }
  return mask >>> 0;
}

/** `--parent-path`: relative to the image directory, and a directory there (checked by `isDir`). */
export function parentImage(imagePath: string, parent: string, isDir: (p: string) => string | true): string | undefined {
  if (!parent) return undefined;
  if (path.isAbsolute(parent)) throw new OptionError('--parent-path must be relative (to --image-path)');
  const real = path.join(imagePath, parent);
  const ok = isDir(real);
  if (ok !== true) throw new OptionError(`--parent-path: ${real}: ${ok}`);
  return parent;
}

/** `--page-server ADDRESS:PORT` (runc's form). */
export function pageServer(value: string): { address: string; port: number } | undefined {
  if (!value) return undefined;
  const i = value.lastIndexOf(':');
  const port = Number(value.slice(i + 1));
  if (i <= 0 || !/^\d+$/.test(value.slice(i + 1)) || port < 1 || port > 65535)
    throw new OptionError(`--page-server: ${JSON.stringify(value)} is not ADDRESS:PORT`);
  return { address: value.slice(0, i), port };
}

/**
 * `--status-fd` with `--lazy-pages`: an fd of ours open for writing, checked
 * before the dump as runc checks it (a bad one would only show once criu is
 * ready to serve the pages, the dump half done). `fdinfo` is
 * /proc/self/fdinfo/FD, undefined when no such fd is open. Unlike runc
 * (flags & O_WRONLY), an fd open for reading and writing (a socket) is
 * writable too.
 */
export function checkStatusFd(fd: number, fdinfo: string | undefined): void {
  if (fd < 0) return;
  if (fdinfo === undefined) throw new OptionError(`--status-fd ${fd}: not an open file descriptor`);
  const flags = /^flags:\s*([0-7]+)\s*$/m.exec(fdinfo)?.[1];
  if (flags === undefined) throw new OptionError(`--status-fd ${fd}: no flags in /proc/self/fdinfo/${fd}`);
  // O_ACCMODE: 0 O_RDONLY, 1 O_WRONLY, 2 O_RDWR.
  if ((Number.parseInt(flags, 8) & 3) === 0) throw new OptionError(`--status-fd ${fd}: not open for writing`);
}

/** A mount destination as criu knows it: absolute, clean, never above "/". */
function dest(d: string): string {
  const p = path.posix.normalize('/' + d);
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

const isBind = (m: NonNullable<Spec['mounts']>[number]) => m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');

/** The default devices hako makes, and the config's own (runc lists both as ext mounts). */
function devicePaths(spec: Spec): string[] {
  const defaults = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];
  return [...new Set([...defaults, ...(spec.linux?.devices ?? []).map((d) => dest(d.path))])];
}

/**
 * ext_mnt for a dump: bind mounts (their source is outside the container:
 * criu records them by destination), masked files (bind mounts of
 * /dev/null; `isFile` says which masked paths are files in the running
 * container) and devices, each keyed by its mount point.
 */
export function dumpExtMounts(spec: Spec, isFile: (p: string) => boolean): ExtMount[] {
  const out = new Map<string, string>();
  for (const m of spec.mounts ?? []) if (isBind(m)) out.set(dest(m.destination), dest(m.destination));
  for (const p of spec.linux?.maskedPaths ?? []) if (isFile(p)) out.set(dest(p), '/dev/null');
  for (const d of devicePaths(spec)) if (!out.has(d)) out.set(d, d);
  return [...out].map(([key, val]) => ({ key, val }));
}

/** ext_mnt for a restore: each key given its source on this host. */
export function restoreExtMounts(spec: Spec, bundle: string): ExtMount[] {
  const out = new Map<string, string>();
  for (const m of spec.mounts ?? []) if (isBind(m) && m.source) out.set(dest(m.destination), path.resolve(bundle, m.source));
  if ((spec.linux?.maskedPaths ?? []).length) out.set('/dev/null', '/dev/null');
  for (const d of devicePaths(spec)) if (!out.has(d)) out.set(d, d);
  return [...out].map(([key, val]) => ({ key, val }));
}

/**
 * Without a cgroup namespace hako binds the container's own cgroup
 * directories from the host at a "cgroup" mount (src/launch/cgroup-mount.ts):
 * a mount whose root is not its filesystem's, which criu can only take as
 * external. Keyed by mount point (on v1 and hybrid hosts, each hierarchy's
 * directory in the tmpfs); at restore (`dirs`: the new container's cgroup)
 * each key gets that container's own directory, so the restored container
 * sees its new cgroup (and, where it has none, what create would bind).
 * With a cgroup namespace the kernel's own mount is dumped as it is.
 */
export function cgroupExtMounts(spec: Spec, layout: CgroupLayout, dirs?: Record<string, string>): ExtMount[] {
  if ((spec.linux?.namespaces ?? []).some((n) => n.type === 'cgroup')) return [];
  const hs = layout.hierarchies.filter((h) => h.mountpoint.startsWith('/sys/fs/cgroup'));
  const out: ExtMount[] = [];
  for (const m of spec.mounts ?? []) {
    if (m.type !== 'cgroup' && m.type !== 'cgroup2') continue;
    const target = dest(m.destination);
    const seen = new Set<string>();
    for (const h of hs) {
      // At restore what create binds: the new cgroup's directory, else (a
      // hierarchy hako made none in: name=systemd, or no cgroup at all)
      // the runtime's own path there, never the hierarchy's root, which
      // would show the container every cgroup on the host.
      const val = (key: string) => (dirs ? hostDir(layout, h, dirs) : key);
      if (layout.mode === 'v2') {
        if (h.fstype === 'cgroup2') out.push({ key: target, val: val(target) });
        continue;
      }
      const name = path.posix.basename(h.mountpoint);
      if (h.mountpoint === '/sys/fs/cgroup' || seen.has(name)) continue;
      seen.add(name);
      const key = path.posix.join(target, name);
      out.push({ key, val: val(key) });
    }
  }
  return out;
}

/** The namespaces criu may be told about: those a container can join by path. */
const EXTERNAL_NS: Record<string, { criu: string; key: string }> = {
  network: { criu: 'net', key: 'extRootNetNS' },
  pid: { criu: 'pid', key: 'extRootPidNS' },
};

/**
 * `external` entries for a dump: a network or pid namespace the container
 * joined by path is not the container's to dump, so criu records it as
 * `net[INODE]:extRootNetNS` (`inode` stats the path).
 */
export function externalNamespaces(spec: Spec, inode: (p: string) => number): string[] {
  const out: string[] = [];
  for (const ns of spec.linux?.namespaces ?? []) {
    if (!ns.path) continue;
    const e = EXTERNAL_NS[ns.type];
    if (e) out.push(`${e.criu}[${inode(ns.path)}]:${e.key}`);
  }
  return out;
}

/** criu's names for the namespaces it joins by path at restore (join_ns). */
const JOIN_NS: Record<string, string> = { ipc: 'ipc', uts: 'uts', mount: 'mnt', user: 'user', time: 'time' };

/**
 * Namespaces given by path, at restore (runc's handleRestoringNamespaces):
 * a network or pid namespace is handed to criu as an fd (4, 5, ... in
 * criu, with the inherit_fd keys the dump named them by); the others are
 * joined by criu itself (join_ns). criu cannot join a cgroup namespace.
 */
export function restoreNamespaces(spec: Spec): { paths: string[]; inherit: InheritFd[]; join: { ns: string; nsFile: string }[] } {
  const paths: string[] = [];
  const inherit: InheritFd[] = [];
  const join: { ns: string; nsFile: string }[] = [];
  for (const ns of spec.linux?.namespaces ?? []) {
    if (!ns.path) continue;
    const e = EXTERNAL_NS[ns.type];
    if (e) {
      inherit.push({ key: e.key, fd: 4 + paths.length });
      paths.push(ns.path);
      continue;
    }
    const name = JOIN_NS[ns.type];
    if (!name) throw new OptionError(`config.json: a ${ns.type} namespace given by path (${ns.path}) cannot be restored into (criu cannot join one)`);
    join.push({ ns: name, nsFile: ns.path });
  }
  return { paths, inherit, join };
}

/**
 * inherit_fd for the init's stdio: a pipe it had (descriptors.json, what
 * /proc/PID/fd/0-2 said at checkpoint) is replaced by the restoring
 * process's own fd of that number (runc does the same for pipes only). Only
 * what the kernel names a pipe, exactly: "pipe:[inode]".
 */
export function stdioInheritFds(descriptors: readonly string[]): InheritFd[] {
  const out: InheritFd[] = [];
  descriptors.slice(0, 3).forEach((d, fd) => {
    if (/^pipe:\[\d+\]$/.test(d)) out.push({ key: d, fd });
  });
  return out;
}

/** descriptors.json as written at checkpoint: an array of strings, or an error naming the file. */
export function parseDescriptors(text: string, file: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new OptionError(`${file}: not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new OptionError(`${file}: must be an array of strings`);
  return v as string[];
}

/** The namespaces a config makes (not joins), as CLONE_* flags (the record's newNamespaces). */
export function newNamespaces(spec: Spec): number {
  let mask = 0;
  for (const ns of spec.linux?.namespaces ?? []) if (!ns.path) mask |= NS_FLAGS[ns.type] ?? 0;
  return mask >>> 0;
}
