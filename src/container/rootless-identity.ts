// Running without host privileges ("rootless"), decided as runc decides it:
//
//  - rootless EUID: hako's effective uid is not 0. The container then needs
//    a user namespace of its own, its maps are written by hako (one line:
//    the caller's own id) or by newuidmap/newgidmap (anything more), and
//    nothing that needs a host capability is attempted (src/launch/rootless-checks.ts).
//  - rootless cgroups (--rootless true|false|auto): cgroups the user may not
//    write are skipped instead of failing, unless limits are asked for
//    (src/cgroups/rootless-cgroups.ts). auto: an unprivileged euid, or euid 0 in a
//    user namespace that is not the initial one (rootless podman, rootlesskit),
//    where hako cannot know whether the cgroup tree is its to change.
//
// The functions here are pure; the readers at the end feed them.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** The ids and namespace facts the decisions depend on. */
export interface Identity {
  euid: number;
  egid: number;
  /** In a user namespace other than the initial one. */
  inUserns: boolean;
}

/**
 * /proc/self/uid_map of the initial user namespace maps the whole range
 * "0 0 4294967295"; anything else means a user namespace (runc's
 * userns.RunningInUserNS reads it the same way).
 */
export function uidMapIsInitial(uidMap: string): boolean {
  const lines = uidMap.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) return false;
  const [a, b, c] = lines[0]!.trim().split(/\s+/);
  return a === '0' && b === '0' && c === '4294967295';
}

/** runc's parseBoolOrAuto result (undefined = auto) → whether cgroups are handled rootless. */
export function rootlessCgroups(flag: boolean | undefined, id: Identity): boolean {
  if (flag !== undefined) return flag;
  if (id.euid !== 0) return true;
  // euid 0 in a user namespace: the cgroup tree most likely belongs to the
  // real root, and hako cannot tell for sure.
  return id.inUserns;
}

/**
 * Whether the default state root comes from $XDG_RUNTIME_DIR: for an
 * unprivileged user, and for root of a user namespace unless $USER says
 * "root" (runc's shouldHonorXDGRuntimeDir). The real root keeps /run/hako
 * even when a login session sets XDG_RUNTIME_DIR=/run/user/0.
 */
export function honorXdgRuntimeDir(env: NodeJS.ProcessEnv, id: Identity): boolean {
  if (!env.XDG_RUNTIME_DIR) return false;
  if (id.euid !== 0) return true;
  if (!id.inUserns) return false;
  return env.USER === undefined || env.USER !== 'root';
}

export interface DefaultRoot {
  root: string;
  /** It came from XDG_RUNTIME_DIR: created 0700 with the sticky bit (XDG's rule for files meant to stay). */
  xdg: boolean;
}

export function defaultRoot(env: NodeJS.ProcessEnv, id: Identity, fallback: string): DefaultRoot {
  if (honorXdgRuntimeDir(env, id)) return { root: path.join(env.XDG_RUNTIME_DIR!, 'hako'), xdg: true };
  return { root: fallback, xdg: false };
}

// ---------------------------------------------------------------------------
// Readers.

let cachedIdentity: Identity | undefined;

export function identity(): Identity {
  if (cachedIdentity) return cachedIdentity;
  let inUserns = false;
  try {
    inUserns = !uidMapIsInitial(readFileSync('/proc/self/uid_map', 'utf8'));
  } catch {
    /* no /proc: assume the initial namespace, as runc does */
  }
  cachedIdentity = { euid: process.geteuid?.() ?? 0, egid: process.getegid?.() ?? 0, inUserns };
  return cachedIdentity;
}

/** --rootless auto for this process. */
export function rootlessByDefault(): boolean {
  return rootlessCgroups(undefined, identity());
}

/** The user name of a uid per /etc/passwd, or "#uid" (runc's list OWNER column). */
export function ownerName(uid: number, passwd?: string): string {
  let text = passwd;
  if (text === undefined) {
    try {
      text = readFileSync('/etc/passwd', 'utf8');
    } catch {
      text = '';
    }
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[2] === String(uid) && f[0]) return f[0];
  }
  return `#${uid}`;
}

/** Owner uid of a path, or undefined. */
export function ownerUid(p: string): number | undefined {
  try {
    return statSync(p).uid;
  } catch {
    return undefined;
  }
}
