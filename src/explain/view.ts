// The launcher's plan (the records of addon/plan.tags that buildPlan and
// buildExecPlan make) read back into a structured view for `hako
// explain`: what the launcher will do, by section, with names instead of
// numbers. Pure. A record this file does not know yet (a tag added
// later) is shown by its tag name under the process's `other`, so the view
// never hides part of the plan.
import { TAG_NAME, type TagName } from '../launch/plan-tags.js';
import type { Rec, Value } from '../launch/tlv.js';
import {
  capNames,
  clockName,
  fileType,
  ioPriority,
  memPolicyMode,
  mountAttrs,
  msFlags,
  namespaceTypes,
  nodeList,
  octal,
  propagationName,
  rlimitName,
  schedFlagNames,
  schedPolicyName,
  seccompFlagNames,
} from './names.js';

/** A JSON-safe number: exact integers stay numbers, larger ones become decimal strings. */
export type Num = number | string;

export interface NamespacesView {
  new: string[];
  join: Array<{ type: string; path: string }>;
  /** A new user namespace: its maps are written by the runtime before the init is cloned. */
  userNamespaceMaps: boolean;
  /** The runtime is unprivileged (rootless). */
  runtimeUnprivileged: boolean;
  timeOffsets: Array<{ clock: string; secs: Num; nanosecs: number }>;
  loopbackUp: boolean;
}

export interface MountView {
  target: string;
  source?: string;
  type?: string;
  flags: string[];
  /** Filesystem options, one by one (fsconfig's order). */
  options: string[];
  /** Propagation applied after the mount, in order. */
  propagation: string[];
  /** r* options: mount_setattr(AT_RECURSIVE). */
  recursive?: { set: string[]; clear: string[]; propagation?: string };
  /** A bind's flags applied by a remount after it. */
  remount?: string[];
  mkdirMode?: string;
  idmap?: { recursive: boolean; uid: IdMapLine[]; gid: IdMapLine[]; userns?: string };
  /** No mount: a symlink with this text. */
  symlink?: string;
  tmpcopyup?: boolean;
  selinuxLabel?: string;
}

export interface IdMapLine {
  containerID: number;
  hostID: number;
  size: number;
}

export interface DeviceView {
  path: string;
  type: string;
  major: number;
  minor: number;
  mode: string;
  uid: number;
  gid: number;
  /** Bind-mounted from the host (user namespace) rather than made with mknod. */
  bind: boolean;
}

export interface HookView {
  path: string;
  args: string[];
  env: string[];
  timeout?: number;
}

export interface ProcessView {
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[]; umask?: string; setgroupsDenied: boolean };
  rlimits: Array<{ type: string; soft: Num; hard: Num }>;
  oomScoreAdj?: number;
  scheduler?: { policy: string; flags: string[]; nice?: number; priority?: number; runtime?: Num; deadline?: Num; period?: Num };
  ioPriority?: { class: string; priority: number };
  personality?: Num;
  capabilities: { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient: string[] };
  noNewPrivileges: boolean;
  seccomp?: { instructions: number; flags: string[] };
  apparmorProfile?: string;
  apparmorStack?: boolean;
  selinuxLabel?: string;
  /** Extra fds (3..) passed to the process. */
  preserveFds: number;
  /** The session keyring it joins; absent: it keeps the caller's. */
  sessionKeyring?: string;
  setsid: boolean;
  consoleSize?: { width: number; height: number };
  /** Records this view has no field for, by tag name. */
  other: Array<{ tag: string; value: unknown }>;
}

export interface PlanView {
  mode: 'create' | 'exec';
  debugLog: boolean;
  namespaces: NamespacesView;
  /** exec: the init's namespaces the process joins (through its pidfd). */
  execJoin?: string[];
  rootfs?: {
    path: string;
    readonly: boolean;
    propagation?: string;
    finalPropagation?: string;
    pivot: 'pivot_root' | 'move+chroot' | 'chroot';
    mountLabel?: string;
  };
  mounts: MountView[];
  devices: DeviceView[];
  deviceSymlinks: Array<{ link: string; target: string }>;
  maskedPaths: string[];
  readonlyPaths: string[];
  hostname?: string;
  domainname?: string;
  sysctl: Record<string, string>;
  process: ProcessView;
  memoryPolicy?: { mode: string; flags: string[]; nodes: number[] };
  execFifo?: string;
  /** The hooks the init runs itself, in the container (createContainer, startContainer). */
  hooks: { createContainer: HookView[]; startContainer: HookView[] };
}

export function num(v: number | bigint): Num {
  const b = BigInt(v);
  return b <= BigInt(Number.MAX_SAFE_INTEGER) && b >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(b) : b.toString();
}

/** A record's value as JSON can carry it (bytes by their size, nests as records). */
export function jsonValue(v: Value): unknown {
  if (typeof v === 'bigint') return num(v);
  if (v instanceof Uint8Array) return { bytes: v.byteLength };
  if (Array.isArray(v)) return v.map((r) => ({ tag: nameOf(r), value: jsonValue(r.value) }));
  return v;
}

function nameOf(r: Rec): string {
  return TAG_NAME[r.tag] ?? `tag ${r.tag}`;
}

/** The fields of a nest by tag name: the first value, and all values. */
class Fields {
  constructor(private readonly recs: readonly Rec[]) {}
  get<V extends Value>(name: TagName): V | undefined {
    return this.recs.find((r) => nameOf(r) === name)?.value as V | undefined;
  }
  all<V extends Value>(name: TagName): V[] {
    return this.recs.filter((r) => nameOf(r) === name).map((r) => r.value as V);
  }
}

const U64_MAX = (1n << 64n) - 1n;
const limit = (v: bigint): Num => (v === U64_MAX ? 'unlimited' : num(v));

function idmapLines(f: Fields, name: 'IDM_UID' | 'IDM_GID'): IdMapLine[] {
  return f.all<Rec[]>(name).map((l) => {
    const g = new Fields(l);
    return { containerID: g.get<number>('IDM_CONTAINER')!, hostID: g.get<number>('IDM_HOST')!, size: g.get<number>('IDM_SIZE')! };
  });
}

export function mountView(recs: readonly Rec[]): MountView {
  const f = new Fields(recs);
  const m: MountView = {
    target: f.get<string>('M_TARGET') ?? '',
    flags: msFlags(f.get<bigint>('M_FLAGS') ?? 0n),
    options: f.all<string>('M_FSOPT'),
    propagation: f.all<number>('M_PROPAGATION').map(propagationName),
  };
  const source = f.get<string>('M_SOURCE');
  if (source !== undefined) m.source = source;
  const type = f.get<string>('M_FSTYPE');
  if (type) m.type = type;
  const set = f.get<bigint>('M_ATTR_SET') ?? 0n;
  const clr = f.get<bigint>('M_ATTR_CLR') ?? 0n;
  const prop = f.get<bigint>('M_ATTR_PROPAGATION') ?? 0n;
  if (set || clr || prop) m.recursive = { set: mountAttrs(set), clear: mountAttrs(clr), ...(prop ? { propagation: propagationName(prop) } : {}) };
  const remount = f.get<bigint>('M_REMOUNT_FLAGS');
  if (remount !== undefined) m.remount = msFlags(remount);
  const mode = f.get<number>('M_MKDIR_MODE');
  if (mode !== undefined) m.mkdirMode = octal(mode);
  const idm = f.get<Rec[]>('M_IDMAP');
  if (idm) {
    const g = new Fields(idm);
    const userns = g.get<string>('IDM_USERNS');
    m.idmap = {
      recursive: g.get<boolean>('IDM_RECURSIVE') === true,
      uid: idmapLines(g, 'IDM_UID'),
      gid: idmapLines(g, 'IDM_GID'),
      ...(userns ? { userns } : {}),
    };
  }
  const symlink = f.get<string>('M_SYMLINK');
  if (symlink !== undefined) m.symlink = symlink;
  if (f.get<boolean>('M_TMPCOPYUP')) m.tmpcopyup = true;
  const label = f.get<string>('M_LABEL');
  if (label !== undefined) m.selinuxLabel = label;
  return m;
}

function deviceView(recs: readonly Rec[]): DeviceView {
  const f = new Fields(recs);
  return {
    path: f.get<string>('D_PATH') ?? '',
    type: fileType(f.get<number>('D_TYPE') ?? 0),
    major: f.get<number>('D_MAJOR') ?? 0,
    minor: f.get<number>('D_MINOR') ?? 0,
    mode: octal(f.get<number>('D_MODE') ?? 0),
    uid: f.get<number>('D_UID') ?? 0,
    gid: f.get<number>('D_GID') ?? 0,
    bind: f.get<boolean>('D_BIND') === true,
  };
}

function hookView(recs: readonly Rec[]): HookView {
  const f = new Fields(recs);
  const timeout = f.get<number>('H_TIMEOUT') ?? 0;
  return { path: f.get<string>('H_PATH') ?? '', args: f.all<string>('H_ARG'), env: f.all<string>('H_ENV'), ...(timeout ? { timeout } : {}) };
}

function schedulerView(recs: readonly Rec[]): NonNullable<ProcessView['scheduler']> {
  const f = new Fields(recs);
  const s: NonNullable<ProcessView['scheduler']> = {
    policy: schedPolicyName(f.get<number>('SCH_POLICY') ?? 0),
    flags: schedFlagNames(BigInt(f.get<bigint>('SCH_FLAGS') ?? 0n)),
  };
  const nice = f.get<number>('SCH_NICE');
  if (nice !== undefined) s.nice = nice;
  const prio = f.get<number>('SCH_PRIORITY');
  if (prio !== undefined) s.priority = prio;
  for (const [k, tag] of [
    ['runtime', 'SCH_RUNTIME'],
    ['deadline', 'SCH_DEADLINE'],
    ['period', 'SCH_PERIOD'],
  ] as const) {
    const v = f.get<bigint>(tag);
    if (v !== undefined) s[k] = num(v);
  }
  return s;
}

export function emptyProcess(): ProcessView {
  return {
    args: [],
    env: [],
    cwd: '',
    user: { uid: 0, gid: 0, additionalGids: [], setgroupsDenied: false },
    rlimits: [],
    capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] },
    noNewPrivileges: false,
    preserveFds: 0,
    setsid: false,
    other: [],
  };
}

const CAP_SET = {
  CAP_BOUNDING: 'bounding',
  CAP_EFFECTIVE: 'effective',
  CAP_PERMITTED: 'permitted',
  CAP_INHERITABLE: 'inheritable',
  CAP_AMBIENT: 'ambient',
} as const;

/** One record of "plan: the process" (and its scheduling) into `p`; false when it is not one. */
export function processRecord(p: ProcessView, r: Rec): boolean {
  const name = nameOf(r);
  const v = r.value;
  if (name in CAP_SET) {
    p.capabilities[CAP_SET[name as keyof typeof CAP_SET]] = capNames(BigInt(v as bigint));
    return true;
  }
  switch (name) {
    case 'ARG':
      p.args.push(v as string);
      break;
    case 'ENV':
      p.env.push(v as string);
      break;
    case 'CWD':
      p.cwd = v as string;
      break;
    case 'UID':
      p.user.uid = v as number;
      break;
    case 'GID':
      p.user.gid = v as number;
      break;
    case 'ADDITIONAL_GID':
      p.user.additionalGids.push(v as number);
      break;
    case 'SETGROUPS_DENY':
      p.user.setgroupsDenied = v as boolean;
      break;
    case 'UMASK':
      p.user.umask = octal(v as number);
      break;
    case 'RLIMIT': {
      const f = new Fields(v as Rec[]);
      p.rlimits.push({
        type: rlimitName(f.get<number>('RL_TYPE') ?? -1),
        soft: limit(BigInt(f.get<bigint>('RL_SOFT') ?? 0n)),
        hard: limit(BigInt(f.get<bigint>('RL_HARD') ?? 0n)),
      });
      break;
    }
    case 'OOM_SCORE_ADJ':
      p.oomScoreAdj = v as number;
      break;
    case 'SCHED':
      p.scheduler = schedulerView(v as Rec[]);
      break;
    case 'IOPRIO':
      p.ioPriority = ioPriority(v as number);
      break;
    case 'PERSONALITY':
      p.personality = num(v as bigint);
      break;
    case 'NO_NEW_PRIVS':
      p.noNewPrivileges = v as boolean;
      break;
    case 'SECCOMP_BPF':
      p.seccomp = { instructions: (v as Uint8Array).byteLength / 8, flags: p.seccomp?.flags ?? [] };
      break;
    case 'SECCOMP_FLAGS':
      p.seccomp = { instructions: p.seccomp?.instructions ?? 0, flags: seccompFlagNames(v as number) };
      break;
    case 'APPARMOR_PROFILE':
      p.apparmorProfile = v as string;
      break;
    case 'APPARMOR_STACK':
      p.apparmorStack = v as boolean;
      break;
    case 'SELINUX_LABEL':
      p.selinuxLabel = v as string;
      break;
    case 'PRESERVE_FDS':
      p.preserveFds = v as number;
      break;
    case 'KEYRING_NAME':
      p.sessionKeyring = v as string;
      break;
    case 'NEW_KEYRING':
      break; // its name says it (KEYRING_NAME)
    case 'SETSID':
      p.setsid = v as boolean;
      break;
    case 'CONSOLE_WIDTH':
      p.consoleSize = { width: v as number, height: p.consoleSize?.height ?? 0 };
      break;
    case 'CONSOLE_HEIGHT':
      p.consoleSize = { width: p.consoleSize?.width ?? 0, height: v as number };
      break;
    default:
      return false;
  }
  return true;
}

function emptyView(): PlanView {
  return {
    mode: 'create',
    debugLog: false,
    namespaces: { new: [], join: [], userNamespaceMaps: false, runtimeUnprivileged: false, timeOffsets: [], loopbackUp: false },
    mounts: [],
    devices: [],
    deviceSymlinks: [],
    maskedPaths: [],
    readonlyPaths: [],
    sysctl: {},
    process: emptyProcess(),
    hooks: { createContainer: [], startContainer: [] },
  };
}

type Rootfs = NonNullable<PlanView['rootfs']>;
const rootfsOf = (v: PlanView): Rootfs => (v.rootfs ??= { path: '', readonly: false, pivot: 'pivot_root' });

/** One record of the namespaces, rootfs, devices or identity sections into `v`; false when it is none of those. */
function containerRecord(v: PlanView, r: Rec): boolean {
  const val = r.value;
  const ns = v.namespaces;
  switch (nameOf(r)) {
    case 'MODE':
      v.mode = val === 2 ? 'exec' : 'create';
      break;
    case 'LOG_LEVEL':
      v.debugLog = val === 1;
      break;
    case 'NS_JOIN': {
      const f = new Fields(val as Rec[]);
      ns.join.push({ type: namespaceTypes(f.get<number>('NS_TYPE') ?? 0).join(',') || 'unknown', path: f.get<string>('NS_PATH') ?? '' });
      break;
    }
    case 'NS_NEW':
      ns.new = namespaceTypes(val as bigint);
      break;
    case 'USERNS_MAPS':
      ns.userNamespaceMaps = val as boolean;
      break;
    case 'RUNTIME_UNPRIVILEGED':
      ns.runtimeUnprivileged = val as boolean;
      break;
    case 'TIME_OFFSET': {
      const f = new Fields(val as Rec[]);
      ns.timeOffsets.push({
        clock: clockName(f.get<number>('TO_CLOCK') ?? 0),
        secs: num(f.get<bigint>('TO_SECS') ?? 0n),
        nanosecs: f.get<number>('TO_NSECS') ?? 0,
      });
      break;
    }
    case 'LOOPBACK_UP':
      ns.loopbackUp = val as boolean;
      break;
    case 'EXEC_NS':
      v.execJoin = namespaceTypes(val as bigint);
      break;
    case 'ROOTFS':
      rootfsOf(v).path = val as string;
      break;
    case 'ROOTFS_READONLY':
      rootfsOf(v).readonly = val as boolean;
      break;
    case 'ROOTFS_PROPAGATION':
      rootfsOf(v).propagation = propagationName(val as number);
      break;
    case 'ROOTFS_FINAL_PROPAGATION':
      if (val) rootfsOf(v).finalPropagation = propagationName(val as number);
      break;
    case 'NO_PIVOT':
      if (val) rootfsOf(v).pivot = 'move+chroot';
      break;
    case 'ROOT_CHROOT':
      if (val) rootfsOf(v).pivot = 'chroot';
      break;
    case 'MOUNT_LABEL':
      rootfsOf(v).mountLabel = val as string;
      break;
    case 'MOUNT':
      v.mounts.push(mountView(val as Rec[]));
      break;
    case 'DEVICE':
      v.devices.push(deviceView(val as Rec[]));
      break;
    case 'DEV_SYMLINK': {
      const f = new Fields(val as Rec[]);
      v.deviceSymlinks.push({ link: f.get<string>('SL_LINK') ?? '', target: f.get<string>('SL_TARGET') ?? '' });
      break;
    }
    case 'MASKED_PATH':
      v.maskedPaths.push(val as string);
      break;
    case 'READONLY_PATH':
      v.readonlyPaths.push(val as string);
      break;
    case 'HOSTNAME':
      v.hostname = val as string;
      break;
    case 'DOMAINNAME':
      v.domainname = val as string;
      break;
    case 'SYSCTL': {
      const f = new Fields(val as Rec[]);
      v.sysctl[f.get<string>('SC_KEY') ?? ''] = f.get<string>('SC_VALUE') ?? '';
      break;
    }
    default:
      return false;
  }
  return true;
}

/** The init's own records: its memory policy, exec.fifo and the hooks it runs. */
function initRecord(v: PlanView, r: Rec): boolean {
  const val = r.value;
  switch (nameOf(r)) {
    case 'MEMPOLICY': {
      const f = new Fields(val as Rec[]);
      v.memoryPolicy = { ...memPolicyMode(f.get<number>('MP_MODE') ?? 0), nodes: nodeList(f.get<Uint8Array>('MP_NODES') ?? new Uint8Array()) };
      break;
    }
    case 'EXEC_FIFO':
      v.execFifo = val as string;
      break;
    case 'HOOK_CREATE_CONTAINER':
      v.hooks.createContainer.push(hookView(val as Rec[]));
      break;
    case 'HOOK_START_CONTAINER':
      v.hooks.startContainer.push(hookView(val as Rec[]));
      break;
    default:
      return false;
  }
  return true;
}

/** The plan's records (create's or exec's), read into sections. */
export function planView(records: readonly Rec[]): PlanView {
  const v = emptyView();
  for (const r of records) {
    if (containerRecord(v, r) || initRecord(v, r) || processRecord(v.process, r)) continue;
    v.process.other.push({ tag: nameOf(r), value: jsonValue(r.value) });
  }
  return v;
}
