// linux.namespaces (and what hangs on them: id mappings, time offsets, the
// loopback of a new network namespace, hostname and domainname) → plan
// records. Pure.
import type { Linux, Spec } from '../spec/types.js';
import { toInt64 } from '../spec/numbers.js';
import { CLOCK, CLONE } from './linux-consts.js';
import { PlanError } from './plan-error.js';
import { rec, type Rec } from './tlv.js';

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

/** The container's namespaces, as the other sections of the plan ask about them. */
export interface Namespaces {
  /** Namespaces to be created, as CLONE_* flags. */
  newNs: number;
  /** Paths of namespaces joined, by type. */
  joined: Record<string, string>;
  /** Types named in linux.namespaces, new or joined. */
  types: ReadonlySet<string>;
}

/** linux.namespaces read and checked: each type known and given once. */
export function readNamespaces(linux: Linux): Namespaces {
  let newNs = 0;
  const joined: Record<string, string> = {};
  const types = new Set<string>();
  (linux.namespaces ?? []).forEach((ns, i) => {
    const flag = NS_FLAGS[ns.type];
    if (flag === undefined) throw new PlanError(`/linux/namespaces/${i}/type`, `unknown namespace type ${JSON.stringify(ns.type)}`);
    if (types.has(ns.type)) throw new PlanError(`/linux/namespaces/${i}/type`, `namespace ${ns.type} given twice`);
    types.add(ns.type);
    if (ns.path) joined[ns.type] = ns.path;
    else newNs |= flag;
  });
  return { newNs, joined, types };
}

/**
 * NS_JOIN (in JOIN_ORDER), NS_NEW, the user namespace's maps, time offsets
 * and the loopback. `rootless`: hako's euid is not 0, and rootlessChecks
 * made sure there is a user namespace: the launcher re-execs inside it so
 * that we can still reach the init (nsenter.c).
 */
export function namespaceRecs(linux: Linux, ns: Namespaces, rootless: boolean): Rec[] {
  const r: Rec[] = [];
  for (const t of JOIN_ORDER) {
    if (ns.joined[t]) r.push(rec('NS_JOIN', [rec('NS_TYPE', NS_FLAGS[t]!), rec('NS_PATH', ns.joined[t]!)]));
  }
  if (ns.newNs) r.push(rec('NS_NEW', ns.newNs));
  if ((ns.newNs & CLONE.NEWUSER) !== 0) {
    if (!linux.uidMappings?.length || !linux.gidMappings?.length) {
      throw new PlanError('/linux/uidMappings', 'a new user namespace needs uidMappings and gidMappings');
    }
    r.push(rec('USERNS_MAPS', true));
  } else if (linux.uidMappings?.length || linux.gidMappings?.length) {
    throw new PlanError('/linux/uidMappings', 'mappings need a new user namespace in /linux/namespaces');
  }
  if (rootless) r.push(rec('RUNTIME_UNPRIVILEGED', true));
  r.push(...timeOffsetRecs(linux, ns));
  // A network namespace of its own starts with lo down; runc (its
  // "loopback" network, added for every new netns) and crun bring it up, and
  // programs in the box expect 127.0.0.1 to answer.
  if ((ns.newNs & CLONE.NEWNET) !== 0) r.push(rec('LOOPBACK_UP', true));
  return r;
}

function timeOffsetRecs(linux: Linux, ns: Namespaces): Rec[] {
  if (!linux.timeOffsets || !Object.keys(linux.timeOffsets).length) return [];
  if ((ns.newNs & CLONE.NEWTIME) === 0) throw new PlanError('/linux/timeOffsets', 'time offsets need a new time namespace');
  return Object.entries(linux.timeOffsets).map(([clock, off]) => {
    const id = clock === 'monotonic' ? CLOCK.MONOTONIC : clock === 'boottime' ? CLOCK.BOOTTIME : -1;
    if (id < 0) throw new PlanError(`/linux/timeOffsets/${clock}`, 'only monotonic and boottime clocks have offsets');
    return rec('TIME_OFFSET', [rec('TO_CLOCK', id), rec('TO_SECS', toInt64(off.secs ?? 0)), rec('TO_NSECS', off.nanosecs ?? 0)]);
  });
}

/** hostname and domainname: they need a uts namespace, new or joined. */
export function utsRecs(spec: Spec, ns: Namespaces): Rec[] {
  const r: Rec[] = [];
  const uts = (ns.newNs & CLONE.NEWUTS) !== 0 || !!ns.joined.uts;
  if (spec.hostname !== undefined && spec.hostname !== '') {
    if (!uts) throw new PlanError('/hostname', 'setting the hostname needs a uts namespace');
    r.push(rec('HOSTNAME', spec.hostname));
  }
  if (spec.domainname !== undefined && spec.domainname !== '') {
    if (!uts) throw new PlanError('/domainname', 'setting the domainname needs a uts namespace');
    r.push(rec('DOMAINNAME', spec.domainname));
  }
  return r;
}
