// config.json → the launcher's plan. Pure: everything the launcher will do
// is decided here (and unit-tested without root); the C side only performs.
// Each section of the plan has its module: namespaces.ts, rootfs-plan.ts
// (root, mounts, masked paths), devices-plan.ts, sysctl-plan.ts and
// process-plan.ts (the process, shared with exec); this file puts them in
// order and adds what only the init has.
import path from 'node:path';
import type { Hook, Linux, Spec } from '../spec/types.js';
import type { CgroupLayout } from '../cgroups/host.js';
import { deviceRecs } from './devices-plan.js';
import type { HostLsm } from './lsm.js';
import { namespaceRecs, readNamespaces, utsRecs } from './namespaces.js';
import { PlanError } from './plan-error.js';
import { processPlan, type ProcessPlanContext } from './process-plan.js';
import { rootlessChecks } from './rootless-checks.js';
import { maskRecs, mountsRecs, rootfsRecs } from './rootfs-plan.js';
import { memoryPolicyRecs } from './sched.js';
import { sysctlRecs } from './sysctl-plan.js';
import { rec, type Rec } from './tlv.js';
import { CLONE } from './linux-consts.js';
import { netDevicesPlan, type NetDeviceMove } from './netdevices.js';

export { PlanError };
export { NS_FLAGS } from './namespaces.js';
export { containerPath } from './paths.js';
export { capMask, capNames, grantableCaps } from './caps.js';

/** What {@link buildPlan} needs besides config.json: the container and what is known of the host. */
export interface PlanOptions {
  /** The container's id. */
  id: string;
  /** Its bundle, absolute: root.path and bind sources are resolved against it. */
  bundle: string;
  /** The exec FIFO the init waits on until `start`. */
  fifoPath: string;
  /** --no-pivot. */
  noPivot?: boolean;
  /** --no-new-keyring. */
  noNewKeyring?: boolean;
  /** Extra fds (3..) passed through: --preserve-fds plus LISTEN_FDS. */
  preserveFds?: number;
  /** Set when the caller passes socket-activation fds (LISTEN_FDS). */
  listenFds?: number;
  /** --debug: the launcher logs what it does. */
  debug?: boolean;
  /** Kernel's last capability (/proc/sys/kernel/cap_last_cap). */
  capLastCap?: number;
  /** Which LSMs the host has enabled (src/launch/lsm.ts); none when absent. */
  lsm?: HostLsm;
  /** hako's own bounding set (CapBnd of /proc/self/status): what it can grant. */
  hostCapBnd?: bigint;
  /** The host's possible CPUs (highest + 1), for process.execCPUAffinity's check. */
  cpuPossible?: number;
  /** Whether a namespace joined by path is hako's own (the host's): sysctls must not go there. Injectable for tests. */
  isOwnNamespace?: (type: string, path: string) => boolean;
  /** Whether the host path exists (for /proc/kcore and friends); injectable for tests. */
  exists?: (p: string) => boolean;
  /** The host's cgroup hierarchies, needed for mounts of type cgroup. */
  cgroupLayout?: CgroupLayout;
  /** The container's cgroup directories: what a cgroup mount shows without a cgroup namespace. */
  cgroupDirs?: Record<string, string>;
  /** linux.seccomp compiled to BPF (src/seccomp), loaded by the init last. */
  seccomp?: {
    /** The filter program. */
    bpf: Uint8Array;
    /** SECCOMP_FILTER_FLAG_* for seccomp(2). */
    flags: number;
  };
  /** hako's effective uid when it is not 0 (rootless EUID): the config is checked for what an unprivileged user can do. */
  rootlessEuid?: number;
  /** The new user namespace's /proc/PID/setgroups will say "deny" (src/launch/rootless-checks.ts): the init skips setgroups(2). */
  setgroupsDeny?: boolean;
}

/** The launcher's plan: what it does, in order, to make the container's init. */
export interface Plan {
  /** The plan protocol's records (addon/plan.tags), as sent to the launcher. */
  records: Rec[];
  /** What the config asks for that is ignored or weakened here, one line each. */
  warnings: string[];
  /** Notes for --debug only. */
  debug: string[];
  /** Namespaces to be created, as CLONE_* flags. */
  newNamespaces: number;
  /** Paths of namespaces joined, by type. */
  joined: Record<string, string>;
  /** Whether the container gets a new user namespace. */
  userns: boolean;
  /** root.path resolved against the bundle. */
  rootfs: string;
  /** linux.netDevices: moved by the runtime once the init exists (src/container/netdevices.ts). */
  netDevices: NetDeviceMove[];
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const NO_LSM: HostLsm = { apparmor: false, selinux: false, apparmorConfined: false };

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

// runtime.md#create: a property that cannot be applied is an error, not
// something to skip. These are not implemented yet.
function refuseUnsupported(linux: Linux): void {
  const unsupported: Array<[unknown, string]> = [[linux.intelRdt, '/linux/intelRdt']];
  for (const [v, pointer] of unsupported) {
    if (v !== undefined && v !== null && v !== '') throw new PlanError(pointer, 'is not supported by hako yet');
  }
}

/** The process translation's context for the init (process-plan.ts lists how it differs from an exec'd process's). */
export function initProcessContext(spec: Spec, opts: PlanOptions): ProcessPlanContext {
  return {
    role: { kind: 'init', listenFds: opts.listenFds },
    id: opts.id,
    personality: spec.linux?.personality,
    containerProcess: spec.process,
    preserveFds: opts.preserveFds,
    noNewKeyring: opts.noNewKeyring,
    setgroupsDeny: opts.setgroupsDeny,
    seccomp: opts.seccomp,
    capLastCap: opts.capLastCap,
    hostCapBnd: opts.hostCapBnd,
    lsm: opts.lsm,
    cpuPossible: opts.cpuPossible,
  };
}

/**
 * config.json as the launcher's plan, checked: does nothing itself (the
 * container's create sends it to the launcher). Throws where the config
 * cannot be carried out, naming its JSON path.
 */
export function buildPlan(spec: Spec, opts: PlanOptions): Plan {
  const linux = spec.linux ?? {};
  const proc = spec.process;
  if (!proc) throw new PlanError('/process', 'is required to create a container');
  if (!spec.root?.path) throw new PlanError('/root/path', 'is required');
  refuseUnsupported(linux);
  if (opts.rootlessEuid !== undefined) rootlessChecks(spec, opts.rootlessEuid, opts.setgroupsDeny === true);

  const r: Rec[] = [rec('MODE', 1)];
  if (opts.debug) r.push(rec('LOG_LEVEL', 1));
  const ns = readNamespaces(linux);
  r.push(...namespaceRecs(linux, ns, opts.rootlessEuid !== undefined), ...utsRecs(spec, ns));
  const netDevices = netDevicesPlan(linux.netDevices, {
    newNet: (ns.newNs & CLONE.NEWNET) !== 0,
    joinedNet: ns.joined.network,
    rootless: opts.rootlessEuid !== undefined,
  });
  const rootfs = path.resolve(opts.bundle, spec.root.path);
  const mounts = spec.mounts ?? [];
  r.push(...rootfsRecs(spec.root, rootfs, linux, ns, opts.noPivot === true));
  r.push(...mountsRecs(mounts, linux, ns, { bundle: opts.bundle, cgroupLayout: opts.cgroupLayout, cgroupDirs: opts.cgroupDirs, lsm: opts.lsm ?? NO_LSM }));
  const userns = ns.types.has('user');
  r.push(...deviceRecs(mounts, linux.devices, userns, opts.exists ?? (() => false)));
  r.push(...maskRecs(linux), ...sysctlRecs(linux.sysctl, ns, opts.isOwnNamespace));

  const p = processPlan(proc, initProcessContext(spec, opts));
  // The init's alone: the memory policy (its children inherit it), the
  // fifo that start writes, the hooks it runs.
  r.push(...p.records, ...memoryPolicyRecs(linux.memoryPolicy), rec('EXEC_FIFO', opts.fifoPath));
  r.push(...hookRecs('HOOK_CREATE_CONTAINER', spec.hooks?.createContainer));
  r.push(...hookRecs('HOOK_START_CONTAINER', spec.hooks?.startContainer));

  return { records: r, warnings: p.warnings, debug: p.debug, newNamespaces: ns.newNs, joined: ns.joined, userns, rootfs, netDevices };
}
