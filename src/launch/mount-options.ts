// OCI mount options → mount(2) flags, propagation, mount_setattr attributes
// and filesystem data. Pure: the table is config.md's "Mount Options"; the
// launcher only performs the result.
import { MOUNT_ATTR, MS, PROPAGATION } from './linux-consts.js';

export interface MountFlags {
  /** MS_* flags for mount(2). */
  flags: number;
  /** Flags explicitly cleared (rw, suid, ...): matter for remounts. */
  cleared: number;
  /** MS_* propagation changes, applied in order after mounting. */
  propagation: number[];
  /** Recursive attributes for mount_setattr(AT_RECURSIVE). */
  attrSet: number;
  attrClr: number;
  /** Options the kernel flags do not know: filesystem data ("mode=755"). */
  data: string[];
  /** bind or rbind appeared among the options. */
  bind: boolean;
  /** runc's tmpcopyup extension: copy the underlying directory into a new tmpfs. */
  tmpcopyup: boolean;
  /** idmap / ridmap requested. */
  idmap: boolean;
  /** ridmap: the idmapping applies to every mount of an rbind's tree. */
  ridmap: boolean;
}

// [set, clear] pairs: an option sets its flag, its opposite clears it.
const FLAG_OPTS: Readonly<Record<string, [set: boolean, flag: number]>> = {
  ro: [true, MS.RDONLY],
  rw: [false, MS.RDONLY],
  nosuid: [true, MS.NOSUID],
  suid: [false, MS.NOSUID],
  nodev: [true, MS.NODEV],
  dev: [false, MS.NODEV],
  noexec: [true, MS.NOEXEC],
  exec: [false, MS.NOEXEC],
  sync: [true, MS.SYNCHRONOUS],
  async: [false, MS.SYNCHRONOUS],
  dirsync: [true, MS.DIRSYNC],
  remount: [true, MS.REMOUNT],
  mand: [true, MS.MANDLOCK],
  nomand: [false, MS.MANDLOCK],
  noatime: [true, MS.NOATIME],
  atime: [false, MS.NOATIME],
  nodiratime: [true, MS.NODIRATIME],
  diratime: [false, MS.NODIRATIME],
  relatime: [true, MS.RELATIME],
  norelatime: [false, MS.RELATIME],
  strictatime: [true, MS.STRICTATIME],
  nostrictatime: [false, MS.STRICTATIME],
  iversion: [true, MS.I_VERSION],
  noiversion: [false, MS.I_VERSION],
  lazytime: [true, MS.LAZYTIME],
  nolazytime: [false, MS.LAZYTIME],
  silent: [true, MS.SILENT],
  loud: [false, MS.SILENT],
  nosymfollow: [true, MS.NOSYMFOLLOW],
  symfollow: [false, MS.NOSYMFOLLOW],
  // MS_POSIXACL, as runc spells it: the filesystem honours POSIX ACLs.
  acl: [true, MS.POSIXACL],
  noacl: [false, MS.POSIXACL],
};

// Recursive (mount_setattr) options: [set, attr]. The atime family is a
// field, not a bit: setting one clears the whole MOUNT_ATTR__ATIME mask.
const RECURSIVE_OPTS: Readonly<Record<string, [set: boolean, attr: number]>> = {
  rro: [true, MOUNT_ATTR.RDONLY],
  rrw: [false, MOUNT_ATTR.RDONLY],
  rnosuid: [true, MOUNT_ATTR.NOSUID],
  rsuid: [false, MOUNT_ATTR.NOSUID],
  rnodev: [true, MOUNT_ATTR.NODEV],
  rdev: [false, MOUNT_ATTR.NODEV],
  rnoexec: [true, MOUNT_ATTR.NOEXEC],
  rexec: [false, MOUNT_ATTR.NOEXEC],
  rnodiratime: [true, MOUNT_ATTR.NODIRATIME],
  rdiratime: [false, MOUNT_ATTR.NODIRATIME],
  rnosymfollow: [true, MOUNT_ATTR.NOSYMFOLLOW],
  rsymfollow: [false, MOUNT_ATTR.NOSYMFOLLOW],
};
const RECURSIVE_ATIME: Readonly<Record<string, number>> = {
  rrelatime: MOUNT_ATTR.RELATIME,
  rnorelatime: -1,
  rnoatime: MOUNT_ATTR.NOATIME,
  ratime: -1,
  rstrictatime: MOUNT_ATTR.STRICTATIME,
  rnostrictatime: -1,
};

/** Every option name hako understands (for the features document). */
export const KNOWN_MOUNT_OPTIONS: readonly string[] = [
  ...Object.keys(FLAG_OPTS),
  ...Object.keys(PROPAGATION),
  ...Object.keys(RECURSIVE_OPTS),
  ...Object.keys(RECURSIVE_ATIME),
  'bind',
  'rbind',
  'defaults',
  'idmap',
  'ridmap',
  'tmpcopyup',
].sort();

export function parseMountOptions(options: readonly string[] | undefined): MountFlags {
  const r: MountFlags = { flags: 0, cleared: 0, propagation: [], attrSet: 0, attrClr: 0, data: [], bind: false, tmpcopyup: false, idmap: false, ridmap: false };
  for (const opt of options ?? []) {
    if (opt === 'defaults' || opt === '') continue;
    if (opt === 'bind' || opt === 'rbind') {
      r.bind = true;
      r.flags |= MS.BIND | (opt === 'rbind' ? MS.REC : 0);
      continue;
    }
    if (opt === 'tmpcopyup') {
      r.tmpcopyup = true;
      continue;
    }
    if (opt === 'idmap' || opt === 'ridmap') {
      r.idmap = true;
      if (opt === 'ridmap') r.ridmap = true;
      continue;
    }
    const f = FLAG_OPTS[opt];
    if (f) {
      if (f[0]) {
        r.flags |= f[1];
        r.cleared &= ~f[1];
      } else {
        r.flags &= ~f[1];
        r.cleared |= f[1];
      }
      continue;
    }
    const p = PROPAGATION[opt];
    if (p !== undefined) {
      r.propagation.push(p);
      continue;
    }
    const a = RECURSIVE_OPTS[opt];
    if (a) {
      if (a[0]) {
        r.attrSet |= a[1];
        r.attrClr &= ~a[1];
      } else {
        r.attrClr |= a[1];
        r.attrSet &= ~a[1];
      }
      continue;
    }
    const at = RECURSIVE_ATIME[opt];
    if (at !== undefined) {
      r.attrClr |= MOUNT_ATTR.ATIME_MASK;
      r.attrSet &= ~MOUNT_ATTR.ATIME_MASK;
      if (at >= 0) r.attrSet |= at;
      continue;
    }
    r.data.push(opt);
  }
  return r;
}

// The SELinux options: their values may hold commas and travel in double
// quotes in mount(2) data (context="system_u:object_r:t:s0:c1,c2"), quotes
// the LSM strips; given to fsconfig one by one, the value goes unquoted.
const QUOTED_OPTS = /^(context|fscontext|defcontext|rootcontext)$/;

/**
 * Filesystem options (parseMountOptions' data, with any context= added) as
 * fsconfig takes them, one parameter each: "key" for a flag, "key=value"
 * for a string. An entry may hold several options separated by commas, as
 * mount(2) data does ("mode=755,size=1m"); a comma inside double quotes
 * belongs to the value. The quotes around the SELinux options' values go.
 */
export function fsOptions(data: readonly string[]): string[] {
  const out: string[] = [];
  for (const entry of data) {
    let cur = '';
    let quoted = false;
    const flush = () => {
      const opt = cur;
      cur = '';
      // mount(2) skips an empty option and one with no key ("=x").
      if (opt === '' || opt.startsWith('=')) return;
      const eq = opt.indexOf('=');
      const key = eq < 0 ? opt : opt.slice(0, eq);
      out.push(eq >= 0 && QUOTED_OPTS.test(key) ? `${key}=${opt.slice(eq + 1).replace(/"/g, '')}` : opt);
    };
    for (const ch of entry) {
      if (ch === '"') quoted = !quoted;
      if (ch === ',' && !quoted) flush();
      else cur += ch;
    }
    flush();
  }
  return out;
}
