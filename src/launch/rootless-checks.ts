// What a config must satisfy when hako's effective uid is not 0 (rootless
// EUID, src/container/rootless-identity.ts), and how the new user namespace's maps
// get written. Pure: create.ts performs the result.
//
// An unprivileged process may write a child's uid_map (gid_map) itself only
// with one line mapping its own euid (egid), and gid_map only after
// /proc/PID/setgroups says "deny" (user_namespaces(7); otherwise dropping
// supplementary groups could grant access that a negative group permission
// denies). Anything else goes through the setuid helpers newuidmap and
// newgidmap (shadow's uidmap package), which allow the ranges /etc/subuid
// and /etc/subgid give the user. runc follows the same rule: it writes
// "deny" exactly when the gid map is the single line it may write itself.
import type { LinuxIDMapping, Spec } from '../spec/types.js';
import { PlanError } from './plan-error.js';
import { parseMountOptions } from './mount-options.js';

export type MapWriter = 'kernel' | 'newuidmap' | 'newgidmap';

export interface UserMapsPlan {
  uid: MapWriter;
  gid: MapWriter;
  /** Write "deny" to /proc/PID/setgroups before gid_map (and never call setgroups(2) in the container). */
  setgroupsDeny: boolean;
}

export interface Ids {
  euid: number;
  egid: number;
}

function ownIdOnly(maps: readonly LinuxIDMapping[] | undefined, id: number): boolean {
  return maps?.length === 1 && maps[0]!.hostID === id && maps[0]!.size === 1;
}

/**
 * Who writes the maps of a new user namespace. Root (also root of a user
 * namespace, which holds CAP_SETUID/CAP_SETGID over its own range) writes
 * them itself, setgroups left allowed.
 */
export function userMapsPlan(spec: Spec, ids: Ids): UserMapsPlan {
  if (ids.euid === 0) return { uid: 'kernel', gid: 'kernel', setgroupsDeny: false };
  const uidOwn = ownIdOnly(spec.linux?.uidMappings, ids.euid);
  const gidOwn = ownIdOnly(spec.linux?.gidMappings, ids.egid);
  return { uid: uidOwn ? 'kernel' : 'newuidmap', gid: gidOwn ? 'kernel' : 'newgidmap', setgroupsDeny: gidOwn };
}

/** The uid_map/gid_map text: one "inside outside count" line per mapping. */
export function mapText(maps: readonly LinuxIDMapping[] | undefined): string {
  return (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** newuidmap/newgidmap arguments: the pid, then the triples. */
export function helperArgs(pid: number, maps: readonly LinuxIDMapping[] | undefined): string[] {
  return [String(pid), ...(maps ?? []).flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
}

function mapped(maps: readonly LinuxIDMapping[] | undefined, id: number): boolean {
  return (maps ?? []).some((m) => id >= m.containerID && id < m.containerID + m.size);
}

/**
 * The config checks of rootless EUID (runc's validate/rootless.go, and its
 * refusal of idmapped mounts): the container needs a user namespace, and
 * nothing may name an id that the namespace does not map.
 *
 * @param setgroupsDeny the gid map is written without newgidmap, so
 *   setgroups(2) is denied in the container
 */
export function rootlessChecks(spec: Spec, euid: number, setgroupsDeny: boolean): void {
  const linux = spec.linux ?? {};
  const userns = (linux.namespaces ?? []).find((n) => n.type === 'user');
  if (!userns) {
    throw new PlanError(
      '/linux/namespaces',
      `hako runs as uid ${euid} (rootless), so the container needs a user namespace ("hako spec --rootless" writes a config with one)`,
    );
  }
  const joined = !!userns.path;
  // Without one, mounts would land in the host's mount table, which only
  // the host's root may change: say so rather than let mount(2) say EPERM.
  const mountns = (linux.namespaces ?? []).some((n) => n.type === 'mount');
  if (!mountns && ((spec.mounts?.length ?? 0) > 0 || (linux.maskedPaths?.length ?? 0) > 0 || (linux.readonlyPaths?.length ?? 0) > 0 || spec.root?.readonly)) {
    throw new PlanError(
      '/linux/namespaces',
      "a rootless container needs a mount namespace of its own for its mounts, masked and read-only paths (the host's mount table is not the user's to change)",
    );
  }
  const user = spec.process?.user;
  if (user?.additionalGids?.length && setgroupsDeny) {
    // runc refuses them whenever it is rootless; with newgidmap setgroups
    // stays allowed, as in crun, and the kernel checks they are mapped.
    throw new PlanError(
      '/process/user/additionalGids',
      "cannot be set: the gid map is the caller's own gid only, written without newgidmap, so setgroups(2) is denied in the container",
    );
  }
  (spec.mounts ?? []).forEach((m, i) => {
    const opts = m.options ?? [];
    const o = parseMountOptions(opts);
    if (o.idmap || m.uidMappings?.length || m.gidMappings?.length) {
      const j = opts.findIndex((x) => x === 'idmap' || x === 'ridmap');
      throw new PlanError(
        j >= 0 ? `/mounts/${i}/options/${j}` : `/mounts/${i}/uidMappings`,
        'idmapped mounts are not supported for rootless containers (they need CAP_SYS_ADMIN in the initial user namespace)',
      );
    }
    // Only a new namespace's maps are known here; a joined one answers
    // at mount time.
    if (joined) return;
    opts.forEach((opt, j) => {
      const mm = /^(uid|gid)=(\d+)$/.exec(opt);
      if (!mm) return;
      const id = Number(mm[2]);
      const maps = mm[1] === 'uid' ? linux.uidMappings : linux.gidMappings;
      if (!mapped(maps, id))
        throw new PlanError(`/mounts/${i}/options/${j}`, `${opt}: ${mm[1]} ${id} is not mapped in /linux/${mm[1]}Mappings of the rootless container`);
    });
  });
}
