// config.json → the launcher's plan. Pure: everything the launcher will do
// is decided here (and unit-tested without root); the C side only performs.
import path from 'node:path';
import type { Spec, Mount as OciMount, Hook } from '../spec/types.js';
import { CAPS, CLOCK, CLONE, MS, PERSONA, RLIMITS, S_IF } from './linux-consts.js';
import { fsOptions, parseMountOptions } from './mount-options.js';
import { rec, type Rec } from './tlv.js';
import { PlanError } from './plan-error.js';
import { toInt64, toUint64 } from '../spec/numbers.js';
import { cgroupMountRecs } from './cgroup-mount.js';
import { idmapRecs, type IdmapDefault } from './idmap.js';
import { labelMount, mountLabelOf, processLsmRecs, type HostLsm } from './lsm.js';
import type { CgroupLayout } from '../cgroups/host.js';
import { rootlessChecks } from './rootless.js';
import { ioPriorityRecs, memoryPolicyRecs, schedulerRecs } from './sched.js';
import { netDevicesPlan, type NetDeviceMove } from './netdevices.js';

export { PlanError };

export const NS_FLAGS: Readonly<Record<string, number>> = {
  pid: CLONE.NEWPID,
  network: CLONE.NEWNET,
  mount: CLONE.NEWNS,
  ipc: CLONE.NEWIPC,
  uts: CLONE.NEWUTS,
  user: CLONE.NEWUSER,
  cgroup: CLONE.NEWCGROUP,
  time: CLONE.NEWTIME,
};

// setns order: the user namespace first (it grants the rights to join the
// others), the mount namespace last (joining it changes how later paths
// resolve).
const JOIN_ORDER = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

export interface PlanOptions {
  id: string;
  bundle: string;
  fifoPath: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** Extra fds (3..) passed through: --preserve-fds plus LISTEN_FDS. */
  preserveFds?: number;
  /** Set when the caller passes socket-activation fds (LISTEN_FDS). */
  listenFds?: number;
  debug?: boolean;
  /** Kernel's last capability (/proc/sys/kernel/cap_last_cap). */
  capLastCap?: number;
  /** Which LSMs the host has enabled (src/launch/lsm.ts); none when absent. */
  lsm?: HostLsm;
  /** hako's own bounding set (CapBnd of /proc/self/status): what it can grant. */
  hostCapBnd?: bigint;
  /** Whether the host path exists (for /proc/kcore and friends); injectable for tests. */
  exists?: (p: string) => boolean;
  /** The host's cgroup hierarchies, needed for mounts of type cgroup. */
  cgroupLayout?: CgroupLayout;
  /** The container's cgroup directories: what a cgroup mount shows without a cgroup namespace. */
  cgroupDirs?: Record<string, string>;
  /** linux.seccomp compiled to BPF (src/seccomp), loaded by the init last. */
  seccomp?: { bpf: Uint8Array; flags: number };
  /** hako's effective uid when it is not 0 (rootless EUID): the config is checked for what an unprivileged user can do. */
  rootlessEuid?: number;
  /** The new user namespace's /proc/PID/setgroups will say "deny" (src/launch/rootless.ts): the init skips setgroups(2). */
  setgroupsDeny?: boolean;
}

export interface Plan {
  records: Rec[];
  warnings: string[];
  /** Notes for --debug only. */
  debug: string[];
  /** Namespaces to be created, as CLONE_* flags. */
  newNamespaces: number;
  /** Paths of namespaces joined, by type. */
  joined: Record<string, string>;
  userns: boolean;
  rootfs: string;
  /** linux.netDevices: moved by the runtime once the init exists (src/container/netdevices.ts). */
  netDevices: NetDeviceMove[];
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const DEFAULT_DEVICES: ReadonlyArray<{ path: string; major: number; minor: number }> = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/urandom', major: 1, minor: 9 },
  { path: '/dev/tty', major: 5, minor: 0 },
];

/** Container path: absolute, clean, no "..": the launcher resolves it inside the rootfs. */
export function containerPath(p: string, where: string): string {
  const abs = path.posix.normalize('/' + p);
  if (abs.split('/').includes('..')) throw new PlanError(where, `path ${JSON.stringify(p)} escapes the root`);
  return abs.length > 1 && abs.endsWith('/') ? abs.slice(0, -1) : abs;
}

export function capMask(names: readonly string[] | undefined, where: string, warnings: string[], last = 40): bigint {
  let m = 0n;
  for (const n of names ?? []) {
    const bit = CAPS[n.toUpperCase()];
    if (bit === undefined) {
      warnings.push(`${where}: unknown capability ${JSON.stringify(n)} ignored`);
      continue;
    }
    if (bit > last) {
      warnings.push(`${where}: capability ${n} is not supported by this kernel, ignored`);
      continue;
    }
    m |= 1n << BigInt(bit);
  }
  return m;
}

/**
 * A capability this process cannot grant (outside its own bounding set,
 * `hostCapBnd`) is a warning and left out, as the spec's SHOULD asks, not a
 * failure: capset would refuse the whole set.
 */
export function grantableCaps(mask: bigint, hostCapBnd: bigint | undefined, where: string, warnings: string[]): bigint {
  const grantable = hostCapBnd ?? ~0n;
  const lost = mask & ~grantable;
  if (lost) warnings.push(`${where}: ${capNames(lost).join(', ')} cannot be granted here (not in hako's bounding set), left out`);
  return mask & grantable;
}

export function capNames(mask: bigint): string[] {
  return Object.entries(CAPS)
    .filter(([, n]) => (mask & (1n << BigInt(n))) !== 0n)
    .map(([name]) => name);
}

function hookRecs(tagName: 'HOOK_CREATE_CONTAINER' | 'HOOK_START_CONTAINER', hooks: readonly Hook[] | undefined): Rec[] {
  return (hooks ?? []).map((h) =>
    rec(tagName, [
      rec('H_PATH', h.path),
      ...(h.args ?? [h.path]).map((a) => rec('H_ARG', a)),
      ...(h.env ?? []).map((e) => rec('H_ENV', e)),
      rec('H_TIMEOUT', h.timeout ?? 0),
    ]),
  );
}

function mountRecs(m: OciMount, i: number, opts: PlanOptions, cgroupns: boolean, idmapDefault: IdmapDefault, mountLabel: string | undefined): Rec[] {
  const bundle = opts.bundle;
  const where = `/mounts/${i}`;
  const target = containerPath(m.destination, `${where}/destination`);
  const o = parseMountOptions(m.options);
  const type = m.type ?? '';
  const bind = o.bind || type === 'bind';
  const fields: Rec[] = [rec('M_TARGET', target)];
  if (!bind) idmapRecs(m, o, false, idmapDefault, where); // refuses an idmapped non-bind
  if (bind) {
    if (!m.source) throw new PlanError(`${where}/source`, 'a bind mount needs a source');
    const src = path.isAbsolute(m.source) ? m.source : path.resolve(bundle, m.source);
    let flags = MS.BIND | (o.flags & MS.REC);
    fields.push(rec('M_SOURCE', src), rec('M_FLAGS', flags));
    // A bind ignores every flag but MS_BIND|MS_REC: the others take a remount.
    const rest = o.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
    if (rest !== 0) fields.push(rec('M_REMOUNT_FLAGS', rest));
    fields.push(...idmapRecs(m, o, true, idmapDefault, where));
    flags = 0;
  } else {
    if (type === '') throw new PlanError(`${where}/type`, 'mount needs a type (or the bind option)');
    const fstype = type;
    const data = o.data;
    // In a user namespace sysfs can only be mounted with a new network
    // namespace; the caller's config decides, the kernel answers.
    if (fstype === 'cgroup' || fstype === 'cgroup2') {
      if (!opts.cgroupLayout) throw new PlanError(`${where}/type`, 'cgroup mount without a known host cgroup layout');
      return cgroupMountRecs(opts.cgroupLayout, target, o.flags, cgroupns, `${where}`, opts.cgroupDirs, mountLabel);
    }
    fields.push(rec('M_SOURCE', m.source ?? fstype), rec('M_FSTYPE', fstype), rec('M_FLAGS', o.flags & ~MS.REC));
    const labelled = labelMount(fstype, data, mountLabel);
    for (const opt of fsOptions(labelled.data)) fields.push(rec('M_FSOPT', opt));
    if (labelled.xattr) fields.push(rec('M_LABEL', labelled.xattr));
    // runc honours tmpcopyup on tmpfs only and ignores it elsewhere; so do we.
    if (o.tmpcopyup && fstype === 'tmpfs') fields.push(rec('M_TMPCOPYUP', true));
  }
  for (const p of o.propagation) fields.push(rec('M_PROPAGATION', p));
  if (o.attrSet) fields.push(rec('M_ATTR_SET', o.attrSet));
  if (o.attrClr) fields.push(rec('M_ATTR_CLR', o.attrClr));
  return [rec('MOUNT', fields)];
}

/** True when a bind mount of /dev (from the host or elsewhere) replaces our device setup. */
function devIsBound(mounts: readonly OciMount[]): boolean {
  return mounts.some((m) => {
    if (containerPath(m.destination, '') !== '/dev') return false;
    return m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
  });
}

const PROPAGATION: Readonly<Record<string, number>> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

// sysctl keys that are namespaced, and by which namespace (runc's rule).
function sysctlNeeds(key: string): 'ipc' | 'network' | 'uts' | null {
  if (/^kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)$/.test(key) || key.startsWith('fs.mqueue.')) return 'ipc';
  if (key.startsWith('net.')) return 'network';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  return null;
}

export function buildPlan(spec: Spec, opts: PlanOptions): Plan {
  const warnings: string[] = [];
  const debug: string[] = [];
  const r: Rec[] = [rec('MODE', 1)];
  if (opts.debug) r.push(rec('LOG_LEVEL', 1));
  const linux = spec.linux ?? {};
  const proc = spec.process;
  if (!proc) throw new PlanError('/process', 'is required to create a container');
  if (!spec.root?.path) throw new PlanError('/root/path', 'is required');
  if (!proc.args || proc.args.length === 0) throw new PlanError('/process/args', 'must name the program to run');

  // runtime.md#create: a property that cannot be applied is an error, not
  // something to skip. These are not implemented yet.
  const unsupported: Array<[unknown, string]> = [
    [proc.execCPUAffinity, '/process/execCPUAffinity'],
    [linux.intelRdt, '/linux/intelRdt'],
  ];
  for (const [v, pointer] of unsupported) {
    if (v !== undefined && v !== null && v !== '') throw new PlanError(pointer, 'is not supported by hako yet');
  }

  if (opts.rootlessEuid !== undefined) rootlessChecks(spec, opts.rootlessEuid, opts.setgroupsDeny === true);

  // Namespaces.
  let newNs = 0;
  const joined: Record<string, string> = {};
  const seen = new Set<string>();
  (linux.namespaces ?? []).forEach((ns, i) => {
    const flag = NS_FLAGS[ns.type];
    if (flag === undefined) throw new PlanError(`/linux/namespaces/${i}/type`, `unknown namespace type ${JSON.stringify(ns.type)}`);
    if (seen.has(ns.type)) throw new PlanError(`/linux/namespaces/${i}/type`, `namespace ${ns.type} given twice`);
    seen.add(ns.type);
    if (ns.path) joined[ns.type] = ns.path;
    else newNs |= flag;
  });
  const has = (t: string) => seen.has(t);
  const newUser = (newNs & CLONE.NEWUSER) !== 0;
  const userns = has('user');
  for (const t of JOIN_ORDER) {
    if (joined[t]) r.push(rec('NS_JOIN', [rec('NS_TYPE', NS_FLAGS[t]!), rec('NS_PATH', joined[t]!)]));
  }
  if (newNs) r.push(rec('NS_NEW', newNs));
  if (newUser) {
    if (!linux.uidMappings?.length || !linux.gidMappings?.length) {
      throw new PlanError('/linux/uidMappings', 'a new user namespace needs uidMappings and gidMappings');
    }
    r.push(rec('USERNS_MAPS', true));
  } else if (linux.uidMappings?.length || linux.gidMappings?.length) {
    throw new PlanError('/linux/uidMappings', 'mappings need a new user namespace in /linux/namespaces');
  }
  // rootlessChecks made sure there is a user namespace: the launcher
  // re-execs inside it so that we can still reach the init (nsenter.c).
  if (opts.rootlessEuid !== undefined) r.push(rec('RUNTIME_UNPRIVILEGED', true));
  if (linux.timeOffsets && Object.keys(linux.timeOffsets).length) {
    if ((newNs & CLONE.NEWTIME) === 0) throw new PlanError('/linux/timeOffsets', 'time offsets need a new time namespace');
    for (const [clock, off] of Object.entries(linux.timeOffsets)) {
      const id = clock === 'monotonic' ? CLOCK.MONOTONIC : clock === 'boottime' ? CLOCK.BOOTTIME : -1;
      if (id < 0) throw new PlanError(`/linux/timeOffsets/${clock}`, 'only monotonic and boottime clocks have offsets');
      r.push(rec('TIME_OFFSET', [rec('TO_CLOCK', id), rec('TO_SECS', toInt64(off.secs ?? 0)), rec('TO_NSECS', off.nanosecs ?? 0)]));
    }
  }

  // A network namespace of its own starts with lo down; runc (its
  // "loopback" network, added for every new netns) and crun bring it up, and
  // programs in the box expect 127.0.0.1 to answer.
  if ((newNs & CLONE.NEWNET) !== 0) r.push(rec('LOOPBACK_UP', true));
  const netDevices = netDevicesPlan(linux.netDevices, { newNet: (newNs & CLONE.NEWNET) !== 0, joinedNet: joined.network, rootless: opts.rootlessEuid !== undefined });

  // Identity.
  if (spec.hostname !== undefined && spec.hostname !== '') {
    if ((newNs & CLONE.NEWUTS) === 0 && !joined.uts) throw new PlanError('/hostname', 'setting the hostname needs a uts namespace');
    r.push(rec('HOSTNAME', spec.hostname));
  }
  if (spec.domainname !== undefined && spec.domainname !== '') {
    if ((newNs & CLONE.NEWUTS) === 0 && !joined.uts) throw new PlanError('/domainname', 'setting the domainname needs a uts namespace');
    r.push(rec('DOMAINNAME', spec.domainname));
  }

  // Root filesystem.
  const rootfs = path.resolve(opts.bundle, spec.root.path);
  const mountNs = (newNs & CLONE.NEWNS) !== 0;
  r.push(rec('ROOTFS', rootfs));
  if (spec.root.readonly) r.push(rec('ROOTFS_READONLY', true));
  if (!mountNs && !joined.mount) {
    // runc's rule: without a mount namespace there is nothing to pivot.
    r.push(rec('ROOT_CHROOT', true));
  } else {
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
    if (opts.noPivot) r.push(rec('NO_PIVOT', true));
  }
  const mounts = spec.mounts ?? [];
  const cgroupns = has('cgroup');
  const idmapDefault: IdmapDefault = joined.user ? { usernsPath: joined.user } : { uidMappings: linux.uidMappings, gidMappings: linux.gidMappings };
  // Labels for an LSM the host lacks are refused (lsm.ts says why).
  const host = opts.lsm ?? { apparmor: false, selinux: false, apparmorConfined: false };
  const mountLabel = mountLabelOf(linux.mountLabel, host);
  if (mountLabel) r.push(rec('MOUNT_LABEL', mountLabel));
  mounts.forEach((m, i) => r.push(...mountRecs(m, i, opts, cgroupns, idmapDefault, mountLabel)));

  // Devices: the defaults, then linux.devices (which may override them).
  const bindDevices = userns;
  if (!devIsBound(mounts)) {
    const devs = new Map<string, Rec>();
    for (const d of DEFAULT_DEVICES) {
      devs.set(d.path, deviceRec(d.path, S_IF.CHR, d.major, d.minor, 0o666, 0, 0, bindDevices));
    }
    (linux.devices ?? []).forEach((d, i) => {
      const p = containerPath(d.path, `/linux/devices/${i}/path`);
      const t = d.type === 'c' || d.type === 'u' ? S_IF.CHR : d.type === 'b' ? S_IF.BLK : d.type === 'p' ? S_IF.FIFO : -1;
      if (t < 0) throw new PlanError(`/linux/devices/${i}/type`, `unknown device type ${JSON.stringify(d.type)}`);
      if (t !== S_IF.FIFO && (d.major === undefined || d.minor === undefined)) throw new PlanError(`/linux/devices/${i}`, 'character and block devices need major and minor');
      // The kernel's device numbers: 12 bits of major, 20 of minor (larger
      // ones would be cut to name another device).
      if (d.major !== undefined && (d.major < 0 || d.major > MAX_MAJOR)) throw new PlanError(`/linux/devices/${i}/major`, `must be between 0 and ${MAX_MAJOR}`);
      if (d.minor !== undefined && (d.minor < 0 || d.minor > MAX_MINOR)) throw new PlanError(`/linux/devices/${i}/minor`, `must be between 0 and ${MAX_MINOR}`);
      devs.set(p, deviceRec(p, t, d.major ?? 0, d.minor ?? 0, (d.fileMode ?? 0o666) & 0o7777, d.uid ?? 0, d.gid ?? 0, bindDevices && t !== S_IF.FIFO));
    });
    r.push(...devs.values());
    const links: Array<[string, string]> = [
      ['/proc/self/fd', '/dev/fd'],
      ['/proc/self/fd/0', '/dev/stdin'],
      ['/proc/self/fd/1', '/dev/stdout'],
      ['/proc/self/fd/2', '/dev/stderr'],
    ];
    if ((opts.exists ?? (() => false))('/proc/kcore')) links.push(['/proc/kcore', '/dev/core']);
    // The container's own devpts instance provides ptmx.
    links.push(['pts/ptmx', '/dev/ptmx']);
    for (const [target, link] of links) r.push(rec('DEV_SYMLINK', [rec('SL_TARGET', target), rec('SL_LINK', link)]));
  }

  for (const [i, p] of (linux.maskedPaths ?? []).entries()) r.push(rec('MASKED_PATH', containerPath(p, `/linux/maskedPaths/${i}`)));
  for (const [i, p] of (linux.readonlyPaths ?? []).entries()) r.push(rec('READONLY_PATH', containerPath(p, `/linux/readonlyPaths/${i}`)));

  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    if (key.includes('/') || key.split('.').some((s) => s === '' || s === '..')) throw new PlanError(`/linux/sysctl/${key}`, 'not a sysctl name');
    const need = sysctlNeeds(key);
    if (need === null) throw new PlanError(`/linux/sysctl/${key}`, 'is not namespaced: setting it would change the host');
    if (!has(need)) throw new PlanError(`/linux/sysctl/${key}`, `needs a ${need} namespace`);
    r.push(rec('SYSCTL', [rec('SC_KEY', key), rec('SC_VALUE', String(value))]));
  }

  // The process.
  for (const a of proc.args) r.push(rec('ARG', a));
  const env = [...(proc.env ?? [])];
  const listen = opts.listenFds ?? 0;
  if (listen > 0) {
    // Socket activation: the fds follow stdio, and the process is pid 1 of
    // its namespace (or we could not know its pid in advance).
    env.push(`LISTEN_FDS=${listen}`, `LISTEN_PID=1`);
  }
  for (const e of env) r.push(rec('ENV', e));
  const cwd = proc.cwd;
  if (!cwd || !cwd.startsWith('/')) throw new PlanError('/process/cwd', 'must be an absolute path');
  r.push(rec('CWD', containerPath(cwd, '/process/cwd')));
  const user = proc.user ?? { uid: 0, gid: 0 };
  r.push(rec('UID', user.uid), rec('GID', user.gid));
  for (const g of user.additionalGids ?? []) r.push(rec('ADDITIONAL_GID', g));
  if (opts.setgroupsDeny) r.push(rec('SETGROUPS_DENY', true));
  if (user.umask !== undefined) r.push(rec('UMASK', user.umask));
  const seenRl = new Set<string>();
  (proc.rlimits ?? []).forEach((l, i) => {
    const n = RLIMITS[l.type];
    if (n === undefined) throw new PlanError(`/process/rlimits/${i}/type`, `unknown rlimit ${JSON.stringify(l.type)}`);
    if (seenRl.has(l.type)) throw new PlanError(`/process/rlimits/${i}/type`, `${l.type} given twice`);
    seenRl.add(l.type);
    const soft = toUint64(l.soft);
    const hard = toUint64(l.hard);
    if (soft > hard) throw new PlanError(`/process/rlimits/${i}`, `${l.type}: soft limit above hard limit`);
    r.push(rec('RLIMIT', [rec('RL_TYPE', n), rec('RL_SOFT', soft), rec('RL_HARD', hard)]));
  });
  if (proc.oomScoreAdj !== undefined) r.push(rec('OOM_SCORE_ADJ', proc.oomScoreAdj));
  r.push(...schedulerRecs(proc.scheduler), ...ioPriorityRecs(proc.ioPriority), ...memoryPolicyRecs(linux.memoryPolicy));
  if (linux.personality) {
    const dom = linux.personality.domain;
    const base = dom === 'LINUX' ? PERSONA.LINUX : dom === 'LINUX32' ? PERSONA.LINUX32 : -1;
    if (base < 0) throw new PlanError('/linux/personality/domain', `unknown domain ${JSON.stringify(dom)}`);
    if (linux.personality.flags?.length) throw new PlanError('/linux/personality/flags', 'personality flags are not supported');
    r.push(rec('PERSONALITY', base));
  }
  const caps = proc.capabilities ?? {};
  const last = opts.capLastCap ?? 40;
  const limit = (mask: bigint, where: string): bigint => grantableCaps(mask, opts.hostCapBnd, where, warnings);
  const permitted = limit(capMask(caps.permitted, '/process/capabilities/permitted', warnings, last), '/process/capabilities/permitted');
  const inheritable = limit(capMask(caps.inheritable, '/process/capabilities/inheritable', warnings, last), '/process/capabilities/inheritable');
  let ambient = limit(capMask(caps.ambient, '/process/capabilities/ambient', warnings, last), '/process/capabilities/ambient');
  // The kernel raises an ambient capability only if it is permitted and
  // inheritable. runc's own default config asks for ambient capabilities
  // without inheritable ones, and runc carries on silently: so do we, with
  // a debug note rather than a warning on every run.
  const unraisable = ambient & ~(permitted & inheritable);
  if (unraisable) {
    debug.push(`/process/capabilities/ambient: ${capNames(unraisable).join(', ')} not both permitted and inheritable: not raised`);
    ambient &= permitted & inheritable;
  }
  r.push(
    rec('CAP_BOUNDING', limit(capMask(caps.bounding, '/process/capabilities/bounding', warnings, last), '/process/capabilities/bounding')),
    rec('CAP_EFFECTIVE', limit(capMask(caps.effective, '/process/capabilities/effective', warnings, last), '/process/capabilities/effective')),
    rec('CAP_PERMITTED', permitted),
    rec('CAP_INHERITABLE', inheritable),
    rec('CAP_AMBIENT', ambient),
  );
  if (proc.noNewPrivileges) r.push(rec('NO_NEW_PRIVS', true));
  if (opts.seccomp) r.push(rec('SECCOMP_BPF', opts.seccomp.bpf), rec('SECCOMP_FLAGS', opts.seccomp.flags));
  r.push(...processLsmRecs(proc, host));
  r.push(rec('PRESERVE_FDS', (opts.preserveFds ?? 0) + listen));
  r.push(rec('EXEC_FIFO', opts.fifoPath));
  if (!opts.noNewKeyring) {
    r.push(rec('NEW_KEYRING', true), rec('KEYRING_NAME', `_ses.${opts.id}`));
  }
  r.push(rec('SETSID', true));
  // The pty itself needs a console socket, which create passes as CONSOLE_FD.
  if (proc.terminal && proc.consoleSize?.width && proc.consoleSize.height) {
    r.push(rec('CONSOLE_WIDTH', proc.consoleSize.width), rec('CONSOLE_HEIGHT', proc.consoleSize.height));
  }

  r.push(...hookRecs('HOOK_CREATE_CONTAINER', spec.hooks?.createContainer));
  r.push(...hookRecs('HOOK_START_CONTAINER', spec.hooks?.startContainer));

  return { records: r, warnings, debug, newNamespaces: newNs, joined, userns, rootfs, netDevices };
}

const MAX_MAJOR = 0xfff;
const MAX_MINOR = 0xfffff;

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
