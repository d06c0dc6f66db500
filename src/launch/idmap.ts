// Idmapped bind mounts (config.md "Mounts": the idmap and ridmap options,
// uidMappings/gidMappings on a mount) → the M_IDMAP nest of a MOUNT record.
// Pure. The map lines go to the kernel as written, like runc: a file owned
// by containerID in the source filesystem is seen as owned by hostID through
// the mount (so, in a user namespace container, the container's own maps make
// files owned by host root appear owned by the container's root).
import type { LinuxIDMapping, Mount as OciMount } from '../spec/types.js';
import type { MountFlags } from './mount-options.js';
import { PlanError } from './plan-error.js';
import { rec, type Rec } from './tlv.js';

/** Where an idmapped mount without maps of its own takes them from. */
export interface IdmapDefault {
  /** linux.uidMappings/gidMappings of a new user namespace. */
  uidMappings?: readonly LinuxIDMapping[];
  gidMappings?: readonly LinuxIDMapping[];
  /** The path of a joined user namespace. */
  usernsPath?: string;
}

// The kernel's limit on lines in uid_map/gid_map.
const MAX_LINES = 340;
const U32 = 2 ** 32;

function lineRecs(tag: 'IDM_UID' | 'IDM_GID', maps: readonly LinuxIDMapping[], where: string): Rec[] {
  if (maps.length > MAX_LINES) throw new PlanError(where, `at most ${MAX_LINES} mappings (the kernel's limit)`);
  return maps.map((l, i) => {
    const at = `${where}/${i}`;
    for (const k of ['containerID', 'hostID', 'size'] as const) {
      if (!Number.isInteger(l[k]) || l[k] < 0 || l[k] >= U32) throw new PlanError(`${at}/${k}`, 'must be an integer from 0 to 4294967295');
    }
    if (l.size === 0) throw new PlanError(`${at}/size`, 'must not be 0');
    if (l.containerID + l.size > U32 || l.hostID + l.size > U32) throw new PlanError(at, 'the range goes past 4294967295');
    return rec(tag, [rec('IDM_CONTAINER', l.containerID), rec('IDM_HOST', l.hostID), rec('IDM_SIZE', l.size)]);
  });
}

/**
 * The M_IDMAP record of a mount, or nothing when the mount is not idmapped.
 * As in runc, uidMappings/gidMappings without idmap or ridmap still idmap
 * the mount (not recursively).
 */
export function idmapRecs(m: OciMount, o: MountFlags, bind: boolean, def: IdmapDefault, where: string): Rec[] {
  const own = !!(m.uidMappings?.length || m.gidMappings?.length);
  if (!o.idmap && !own) return [];
  const optIndex = (m.options ?? []).findIndex((x) => x === 'idmap' || x === 'ridmap');
  const optAt = optIndex >= 0 ? `${where}/options/${optIndex}` : `${where}/uidMappings`;
  // runc's rule: the kernel could idmap a new filesystem mount too
  // (fsmount), but for those the filesystem's own uid=/gid= options exist.
  if (!bind) throw new PlanError(optAt, 'idmapped mounts are only supported for bind mounts');
  const fields: Rec[] = [];
  if (o.ridmap) fields.push(rec('IDM_RECURSIVE', true));
  if (own) {
    if (!m.uidMappings?.length) throw new PlanError(`${where}/uidMappings`, 'an idmapped mount needs uidMappings along with gidMappings');
    if (!m.gidMappings?.length) throw new PlanError(`${where}/gidMappings`, 'an idmapped mount needs gidMappings along with uidMappings');
    fields.push(...lineRecs('IDM_UID', m.uidMappings, `${where}/uidMappings`), ...lineRecs('IDM_GID', m.gidMappings, `${where}/gidMappings`));
  } else if (def.usernsPath) {
    fields.push(rec('IDM_USERNS', def.usernsPath));
  } else if (def.uidMappings?.length && def.gidMappings?.length) {
    fields.push(...lineRecs('IDM_UID', def.uidMappings, '/linux/uidMappings'), ...lineRecs('IDM_GID', def.gidMappings, '/linux/gidMappings'));
  } else {
    throw new PlanError(optAt, `${m.options?.[optIndex] ?? 'idmap'} needs uidMappings and gidMappings on the mount, or a user namespace`);
  }
  return [rec('M_IDMAP', fields)];
}
