// /dev: the default devices, linux.devices and the standard symlinks →
// plan records. Pure.
import type { LinuxDevice, Mount as OciMount } from '../spec/types.js';
import { S_IF } from './linux-consts.js';
import { containerPath } from './paths.js';
import { PlanError } from './plan-error.js';
import { rec, type Rec } from './tlv.js';

const DEFAULT_DEVICES: ReadonlyArray<{ path: string; major: number; minor: number }> = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/urandom', major: 1, minor: 9 },
  { path: '/dev/tty', major: 5, minor: 0 },
];

// The kernel's device numbers: 12 bits of major, 20 of minor (larger ones
// would be cut to name another device).
const MAX_MAJOR = 0xfff;
const MAX_MINOR = 0xfffff;

/** True when a bind mount of /dev (from the host or elsewhere) replaces our device setup. */
function devIsBound(mounts: readonly OciMount[]): boolean {
  return mounts.some((m) => {
    if (containerPath(m.destination, '') !== '/dev') return false;
    return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
  });
}

/**
 * DEVICE and DEV_SYMLINK records: the defaults, then linux.devices (which
 * may override them); none when /dev is a bind mount. In a user namespace
 * (`bind`) devices are bind-mounted from the host, as mknod is refused.
 */
export function deviceRecs(mounts: readonly OciMount[], devices: readonly LinuxDevice[] | undefined, bind: boolean, exists: (p: string) => boolean): Rec[] {
  if (devIsBound(mounts)) return [];
  const devs = new Map<string, Rec>();
  for (const d of DEFAULT_DEVICES) {
    devs.set(d.path, deviceRec(d.path, S_IF.CHR, d.major, d.minor, 0o666, 0, 0, bind));
  }
  (devices ?? []).forEach((d, i) => {
    const p = containerPath(d.path, `/linux/devices/${i}/path`);
    const t = d.type === 'c' || d.type === 'u' ? S_IF.CHR : d.type === 'b' ? S_IF.BLK : d.type === 'p' ? S_IF.FIFO : -1;
    if (t < 0) throw new PlanError(`/linux/devices/${i}/type`, `unknown device type ${JSON.stringify(d.type)}`);
    if (t !== S_IF.FIFO && (d.major === undefined || d.minor === undefined))
      throw new PlanError(`/linux/devices/${i}`, 'character and block devices need major and minor');
    if (d.major !== undefined && (d.major < 0 || d.major > MAX_MAJOR)) throw new PlanError(`/linux/devices/${i}/major`, `must be between 0 and ${MAX_MAJOR}`);
    if (d.minor !== undefined && (d.minor < 0 || d.minor > MAX_MINOR)) throw new PlanError(`/linux/devices/${i}/minor`, `must be between 0 and ${MAX_MINOR}`);
    devs.set(p, deviceRec(p, t, d.major ?? 0, d.minor ?? 0, (d.fileMode ?? 0o666) & 0o7777, d.uid ?? 0, d.gid ?? 0, bind && t !== S_IF.FIFO));
  });
  return [...devs.values(), ...symlinkRecs(exists)];
}

function symlinkRecs(exists: (p: string) => boolean): Rec[] {
  const links: Array<[string, string]> = [
    ['/proc/self/fd', '/dev/fd'],
    ['/proc/self/fd/0', '/dev/stdin'],
    ['/proc/self/fd/1', '/dev/stdout'],
    ['/proc/self/fd/2', '/dev/stderr'],
  ];
  if (exists('/proc/kcore')) links.push(['/proc/kcore', '/dev/core']);
  // The container's own devpts instance provides ptmx.
  links.push(['pts/ptmx', '/dev/ptmx']);
  return links.map(([target, link]) => rec('DEV_SYMLINK', [rec('SL_TARGET', target), rec('SL_LINK', link)]));
}

function deviceRec(p: string, type: number, major: number, minor: number, mode: number, uid: number, gid: number, bind: boolean): Rec {
  return rec('DEVICE', [
    rec('D_PATH', p),
    rec('D_TYPE', type),
    rec('D_MAJOR', major),
    rec('D_MINOR', minor),
    rec('D_MODE', mode),
    rec('D_UID', uid),
    rec('D_GID', gid),
    ...(bind ? [rec('D_BIND', true)] : []),
  ]);
}
