// root, mounts, maskedPaths and readonlyPaths → plan records. Pure.
import path from 'node:path';
import type { Linux, Mount as OciMount, Root } from '../spec/types.js';
import type { CgroupLayout } from '../cgroups/host.js';
import { cgroupMountRecs } from './cgroup-mount.js';
import { idmapRecs, type IdmapDefault } from './idmap.js';
import { CLONE, MS, PROPAGATION } from './linux-consts.js';
import { labelMount, mountLabelOf, type HostLsm } from './lsm.js';
import { fsOptions, parseMountOptions } from './mount-options.js';
import type { Namespaces } from './namespaces.js';
import { containerPath } from './paths.js';
import { PlanError } from './plan-error.js';
import { rec, type Rec } from './tlv.js';

/** ROOTFS and how the root is entered: chroot without a mount namespace, else pivot (or not) with a propagation. */
export function rootfsRecs(root: Root, rootfs: string, linux: Linux, ns: Namespaces, noPivot: boolean): Rec[] {
  const r: Rec[] = [rec('ROOTFS', rootfs)];
  if (root.readonly) r.push(rec('ROOTFS_READONLY', true));
  if ((ns.newNs & CLONE.NEWNS) === 0 && !ns.joined.mount) {
    // runc's rule: without a mount namespace there is nothing to pivot.
    r.push(rec('ROOT_CHROOT', true));
    return r;
  }
  const prop = linux.rootfsPropagation;
  if (prop !== undefined && (prop as string) !== '') {
    const f = PROPAGATION[prop];
    if (f === undefined) throw new PlanError('/linux/rootfsPropagation', `unknown propagation ${JSON.stringify(prop)}`);
    // The host must never see our mounts: set up under rslave (or the
    // requested shared), then apply the requested mode to the new root.
    r.push(rec('ROOTFS_PROPAGATION', (f & MS.SHARED) !== 0 ? MS.SHARED | MS.REC : MS.SLAVE | MS.REC));
    r.push(rec('ROOTFS_FINAL_PROPAGATION', f));
  } else {
    r.push(rec('ROOTFS_PROPAGATION', MS.SLAVE | MS.REC));
  }
  if (noPivot) r.push(rec('NO_PIVOT', true));
  return r;
}

/** What mounts need to know beyond the mount itself. */
export interface MountContext {
  bundle: string;
  /** The host's cgroup hierarchies, needed for mounts of type cgroup. */
  cgroupLayout?: CgroupLayout;
  /** The container's cgroup directories: what a cgroup mount shows without a cgroup namespace. */
  cgroupDirs?: Record<string, string>;
  /** Which LSMs the host has enabled. */
  lsm: HostLsm;
}

/** MOUNT_LABEL and a MOUNT (or several, for cgroup v1) per entry of `mounts`. */
export function mountsRecs(mounts: readonly OciMount[], linux: Linux, ns: Namespaces, ctx: MountContext): Rec[] {
  const r: Rec[] = [];
  const cgroupns = ns.types.has('cgroup');
  const idmapDefault: IdmapDefault = ns.joined.user ? { usernsPath: ns.joined.user } : { uidMappings: linux.uidMappings, gidMappings: linux.gidMappings };
  // Labels for an LSM the host lacks are refused (lsm.ts says why).
  const mountLabel = mountLabelOf(linux.mountLabel, ctx.lsm);
  if (mountLabel) r.push(rec('MOUNT_LABEL', mountLabel));
  mounts.forEach((m, i) => r.push(...mountRecs(m, i, ctx, cgroupns, idmapDefault, mountLabel)));
  return r;
}

function mountRecs(m: OciMount, i: number, ctx: MountContext, cgroupns: boolean, idmapDefault: IdmapDefault, mountLabel: string | undefined): Rec[] {
  const where = `/mounts/${i}`;
  const target = containerPath(m.destination, `${where}/destination`);
  const o = parseMountOptions(m.options);
  const type = m.type ?? '';
  const bind = o.bind || type === 'bind';
  const fields: Rec[] = [rec('M_TARGET', target)];
  if (bind) {
    if (!m.source) throw new PlanError(`${where}/source`, 'a bind mount needs a source');
    const src = path.isAbsolute(m.source) ? m.source : path.resolve(ctx.bundle, m.source);
    fields.push(rec('M_SOURCE', src), rec('M_FLAGS', MS.BIND | (o.flags & MS.REC)));
    // A bind ignores every flag but MS_BIND|MS_REC: the others take a remount.
    const rest = o.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
    if (rest !== 0) fields.push(rec('M_REMOUNT_FLAGS', rest));
    fields.push(...idmapRecs(m, o, true, idmapDefault, where));
  } else {
    idmapRecs(m, o, false, idmapDefault, where); // refuses an idmapped non-bind
    if (type === '') throw new PlanError(`${where}/type`, 'mount needs a type (or the bind option)');
    // In a user namespace sysfs can only be mounted with a new network
    // namespace; the caller's config decides, the kernel answers.
    if (type === 'cgroup' || type === 'cgroup2') {
      if (!ctx.cgroupLayout) throw new PlanError(`${where}/type`, 'cgroup mount without a known host cgroup layout');
      return cgroupMountRecs(ctx.cgroupLayout, target, o.flags, cgroupns, `${where}`, ctx.cgroupDirs, mountLabel);
    }
    fields.push(rec('M_SOURCE', m.source ?? type), rec('M_FSTYPE', type), rec('M_FLAGS', o.flags & ~MS.REC));
    const labelled = labelMount(type, o.data, mountLabel);
    for (const opt of fsOptions(labelled.data)) fields.push(rec('M_FSOPT', opt));
    if (labelled.xattr) fields.push(rec('M_LABEL', labelled.xattr));
    // runc honours tmpcopyup on tmpfs only and ignores it elsewhere; so do we.
    if (o.tmpcopyup && type === 'tmpfs') fields.push(rec('M_TMPCOPYUP', true));
  }
  for (const p of o.propagation) fields.push(rec('M_PROPAGATION', p));
  if (o.attrSet) fields.push(rec('M_ATTR_SET', o.attrSet));
  if (o.attrClr) fields.push(rec('M_ATTR_CLR', o.attrClr));
  return [rec('MOUNT', fields)];
}

/** linux.maskedPaths and linux.readonlyPaths. */
export function maskRecs(linux: Linux): Rec[] {
  return [
    ...(linux.maskedPaths ?? []).map((p, i) => rec('MASKED_PATH', containerPath(p, `/linux/maskedPaths/${i}`))),
    ...(linux.readonlyPaths ?? []).map((p, i) => rec('READONLY_PATH', containerPath(p, `/linux/readonlyPaths/${i}`))),
  ];
}
