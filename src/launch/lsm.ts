// LSM labels: which Linux security modules the host runs, and what the plan
// asks the launcher to write for them (addon/launcher/lsm.c performs it).
// Pure but for hostLsm(), which reads the real files; everything else takes
// what it needs as arguments and is unit-tested without root.
import { readFileSync } from 'node:fs';
import { rec, type Rec } from './tlv.js';
import { PlanError } from './plan-error.js';

export interface HostLsm {
  apparmor: boolean;
  /** SELinux with a policy loaded: without one there are no labels to give. */
  selinux: boolean;
  /** hako itself runs under an AppArmor profile (crun's test: anything but exactly "unconfined"). */
  apparmorConfined: boolean;
}

/** A file's text, or undefined when it cannot be read (missing, or EINVAL from an LSM that is not there). */
export type ReadText = (path: string) => string | undefined;

const clean = (s: string | undefined) => s?.replace(/\0/g, '').trim();

/**
 * The host's LSMs, from files that a fake tree can stand in for.
 * - The kernel's own list, /sys/kernel/security/lsm, when securityfs is
 *   mounted; without it, AppArmor's module parameter (crun's test; runc's
 *   IsEnabled also wants securityfs, but the kernel enforces profiles
 *   whether or not it is mounted).
 * - SELinux as go-selinux (runc) sees it: selinuxfs mounted and the process
 *   labelled with something else than "kernel" (no policy loaded yet).
 */
export function detectLsm(read: ReadText): HostLsm {
  const list = clean(read('/sys/kernel/security/lsm'))?.split(',');
  const apparmor = list ? list.includes('apparmor') : clean(read('/sys/module/apparmor/parameters/enabled')) === 'Y';
  const current = clean(read('/proc/self/attr/current'));
  const selinux =
    (list ? list.includes('selinux') : true) &&
    read('/sys/fs/selinux/enforce') !== undefined &&
    current !== undefined &&
    current !== '' &&
    current !== 'kernel';
  // attr/apparmor/ exists since Linux 5.1; before, attr/current is AppArmor's.
  const self = apparmor ? clean(read('/proc/self/attr/apparmor/current') ?? read('/proc/self/attr/current')) : undefined;
  return { apparmor, selinux, apparmorConfined: self !== undefined && self !== 'unconfined' };
}

function readText(p: string): string | undefined {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

let cached: HostLsm | undefined;
/** This host's LSMs (read once per command). */
export function hostLsm(): HostLsm {
  return (cached ??= detectLsm(readText));
}

// On a host without the LSM a label asks for confinement that cannot be
// given. runc fails: its validator refuses selinuxLabel ("selinux label is
// specified in config, but selinux is disabled or not supported"), its
// write of "exec <profile>" to attr/exec fails with EINVAL, and mountLabel
// turns into context= options the kernel rejects (go-selinux's
// FormatMountLabel no longer checks). crun skips all three silently
// (set_apparmor_profile, set_selinux_label, add_selinux_mount_label return
// early). hako refuses, like runc and like containerd and the kubelet for
// the same request, but before anything starts and saying why: clients that
// follow the host (Docker, podman, CRI) only ask where the LSM is on.
const NOT_ON = { apparmor: 'AppArmor is not enabled on this host', selinux: 'SELinux is not enabled on this host' };

function checkLabel(label: string, where: string): string {
  // It travels quoted in mount data and as one write to procfs.
  if (/["\n\0]/.test(label)) throw new PlanError(where, `${JSON.stringify(label)} is not a label`);
  return label;
}

export interface ProcessLabels {
  apparmorProfile?: string;
  selinuxLabel?: string;
  noNewPrivileges?: boolean;
}

/** APPARMOR_PROFILE (+ APPARMOR_STACK) and SELINUX_LABEL for a process. */
export function processLsmRecs(proc: ProcessLabels, host: HostLsm): Rec[] {
  const r: Rec[] = [];
  if (proc.apparmorProfile) {
    if (!host.apparmor) throw new PlanError('/process/apparmorProfile', NOT_ON.apparmor);
    r.push(rec('APPARMOR_PROFILE', checkLabel(proc.apparmorProfile, '/process/apparmorProfile')));
    // Under no_new_privs a confined task may only move to a subset of its
    // confinement: an "exec" transition would fail at execve, a stack (its
    // profile and ours) cannot (crun's rule).
    if (proc.noNewPrivileges && host.apparmorConfined) r.push(rec('APPARMOR_STACK', true));
  }
  if (proc.selinuxLabel) {
    if (!host.selinux) throw new PlanError('/process/selinuxLabel', NOT_ON.selinux);
    r.push(rec('SELINUX_LABEL', checkLabel(proc.selinuxLabel, '/process/selinuxLabel')));
  }
  return r;
}

/** linux.mountLabel checked against the host: the label to put on mounts, or undefined. */
export function mountLabelOf(label: string | undefined, host: HostLsm): string | undefined {
  if (!label) return undefined;
  if (!host.selinux) throw new PlanError('/linux/mountLabel', NOT_ON.selinux);
  return checkLabel(label, '/linux/mountLabel');
}

// The SELinux mount options; a mount that names one already keeps its own
// (a second one would make the kernel refuse the mount).
const CONTEXT_OPTS = /^(context|fscontext|defcontext|rootcontext)=/;

// Filesystems that get no context=: proc and sysfs are the kernel's
// (runc leaves them alone), mqueue and cgroup hierarchies share their
// superblock with the host's or the namespace's, whose settings a mount
// cannot change.
const NO_CONTEXT = new Set(['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2']);

/**
 * How a mount of `fstype` carries the mountLabel (runc's mountToRootfs:
 * label.FormatMountLabel on the data, except mqueue which is labelled
 * through its root's xattr). Binds take no data and are not relabelled.
 */
export function labelMount(fstype: string, data: readonly string[], label: string | undefined): { data: string[]; xattr?: string } {
  if (!label || fstype === '' || fstype === 'bind') return { data: [...data] };
  if (fstype === 'mqueue') return { data: [...data], xattr: label };
  if (NO_CONTEXT.has(fstype) || data.some((d) => CONTEXT_OPTS.test(d))) return { data: [...data] };
  return { data: [...data, `context="${label}"`] };
}
