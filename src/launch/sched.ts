// process.scheduler, process.ioPriority and linux.memoryPolicy: config to
// plan records (pure). The launcher applies them with sched_setattr(2),
// ioprio_set(2) and set_mempolicy(2) in the container, before the
// capabilities are dropped (raising a priority needs CAP_SYS_NICE), as runc
// does; the scheduler and I/O priority are the process's, so `exec` applies
// them too, the memory policy is the container init's.
import type { LinuxIOPriority, LinuxMemoryPolicy, Scheduler } from '../spec/types.js';
import { PlanError } from './plan-error.js';
import { rec, type Rec } from './tlv.js';
import { toUint64 } from '../spec/numbers.js';
import { endianness } from 'node:os';
import { parseList } from '../cgroups/stats.js';

// <linux/sched.h>, <uapi/linux/sched/types.h>
export const SCHED_POLICY: Record<string, number> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};
export const SCHED_FLAG: Record<string, bigint> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01n,
  SCHED_FLAG_RECLAIM: 0x02n,
  SCHED_FLAG_DL_OVERRUN: 0x04n,
  SCHED_FLAG_KEEP_POLICY: 0x08n,
  SCHED_FLAG_KEEP_PARAMS: 0x10n,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20n,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40n,
};
// <linux/ioprio.h>
export const IOPRIO_CLASS: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
const IOPRIO_CLASS_SHIFT = 13;
// <linux/mempolicy.h>
export const MPOL_MODE: Record<string, number> = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
};
export const MPOL_FLAG: Record<string, number> = {
  MPOL_F_NUMA_BALANCING: 1 << 13,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_STATIC_NODES: 1 << 15,
};
/** The kernel's MAX_NUMNODES is at most 1 << 10 (CONFIG_NODES_SHIFT 10). */
const MAX_NODES = 1024;

export function schedulerRecs(s: Scheduler | undefined, where = '/process/scheduler'): Rec[] {
  if (!s) return [];
  const policy = SCHED_POLICY[s.policy];
  if (policy === undefined) throw new PlanError(`${where}/policy`, `unknown policy ${JSON.stringify(s.policy)}`);
  let flags = 0n;
  (s.flags ?? []).forEach((f, i) => {
    const v = SCHED_FLAG[f];
    if (v === undefined) throw new PlanError(`${where}/flags/${i}`, `unknown flag ${JSON.stringify(f)}`);
    flags |= v;
  });
  const nice = s.nice ?? 0;
  if (!Number.isInteger(nice) || nice < -20 || nice > 19) throw new PlanError(`${where}/nice`, `${nice} is not a nice value (-20 to 19)`);
  const priority = s.priority ?? 0;
  const realtime = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
  // sched_setattr's own rules, said here with the JSON path rather than as
  // an EINVAL from inside the container.
  if (!Number.isInteger(priority) || priority < 0 || priority > 99) throw new PlanError(`${where}/priority`, `${priority} is not a priority (0 to 99)`);
  if (realtime && priority < 1) throw new PlanError(`${where}/priority`, `${s.policy} needs a priority from 1 to 99`);
  if (!realtime && priority !== 0) throw new PlanError(`${where}/priority`, `only SCHED_FIFO and SCHED_RR take a priority (${s.policy} needs 0)`);
  const r: Rec[] = [rec('SCH_POLICY', policy), rec('SCH_FLAGS', flags), rec('SCH_NICE', nice), rec('SCH_PRIORITY', priority)];
  const dl = { runtime: s.runtime, deadline: s.deadline, period: s.period };
  if (s.policy === 'SCHED_DEADLINE') {
    if (!s.runtime || !s.deadline) throw new PlanError(where, 'SCHED_DEADLINE needs runtime and deadline (nanoseconds)');
    const runtime = toUint64(s.runtime);
    const deadline = toUint64(s.deadline);
    const period = s.period ? toUint64(s.period) : deadline;
    if (!(runtime <= deadline && deadline <= period)) throw new PlanError(where, 'SCHED_DEADLINE needs runtime <= deadline <= period');
    r.push(rec('SCH_RUNTIME', runtime), rec('SCH_DEADLINE', deadline), rec('SCH_PERIOD', period));
  } else {
    for (const [k, v] of Object.entries(dl)) {
      if (v !== undefined && v !== 0) throw new PlanError(`${where}/${k}`, `only SCHED_DEADLINE takes a ${k}`);
    }
  }
  return [rec('SCHED', r)];
}

export function ioPriorityRecs(p: LinuxIOPriority | undefined, where = '/process/ioPriority'): Rec[] {
  if (!p) return [];
  const cls = IOPRIO_CLASS[p.class];
  if (cls === undefined) throw new PlanError(`${where}/class`, `unknown class ${JSON.stringify(p.class)}`);
  const level = p.priority;
  if (!Number.isInteger(level) || level < 0 || level > 7) throw new PlanError(`${where}/priority`, `${level} is not an I/O priority (0 to 7)`);
  // The idle class has no levels: the kernel takes 0 there.
  return [rec('IOPRIO', (cls << IOPRIO_CLASS_SHIFT) | (cls === IOPRIO_CLASS.IOPRIO_CLASS_IDLE ? 0 : level))];
}

/** "0-3,7" to the node numbers, in order, each once (the cgroup code's list parser). */
export function parseNodeList(list: string, where: string): number[] {
  let ids: number[];
  try {
    ids = parseList(list);
  } catch {
    throw new PlanError(where, `${JSON.stringify(list)} is not a node list (like "0-3,7", ranges going up)`);
  }
  const top = Math.max(-1, ...ids);
  if (top >= MAX_NODES) throw new PlanError(where, `node ${top} is beyond the kernel's ${MAX_NODES} nodes`);
  return [...new Set(ids)].sort((x, y) => x - y);
}

export function memoryPolicyRecs(mp: LinuxMemoryPolicy | undefined, where = '/linux/memoryPolicy'): Rec[] {
  if (!mp) return [];
  const mode = MPOL_MODE[mp.mode];
  if (mode === undefined) throw new PlanError(`${where}/mode`, `unknown mode ${JSON.stringify(mp.mode)}`);
  let flags = 0;
  (mp.flags ?? []).forEach((f, i) => {
    const v = MPOL_FLAG[f];
    if (v === undefined) throw new PlanError(`${where}/flags/${i}`, `unknown flag ${JSON.stringify(f)}`);
    flags |= v;
  });
  const nodes = parseNodeList(mp.nodes ?? '', `${where}/nodes`);
  const takesNone = mp.mode === 'MPOL_DEFAULT' || mp.mode === 'MPOL_LOCAL';
  if (takesNone && nodes.length) throw new PlanError(`${where}/nodes`, `${mp.mode} takes no nodes`);
  if (!takesNone && mp.mode !== 'MPOL_PREFERRED' && !nodes.length) throw new PlanError(`${where}/nodes`, `${mp.mode} needs at least one node`);
  if (takesNone && flags) throw new PlanError(`${where}/flags`, `${mp.mode} takes no flags`);
  return [rec('MEMPOLICY', [rec('MP_MODE', mode | flags), rec('MP_NODES', hostBitmask(nodes))])];
}

/**
 * A kernel bitmap as set_mempolicy(2) and sched_setaffinity(2) read it
 * (a nodemask, a cpu_set_t): 64-bit unsigned longs in host byte order,
 * bit n = node or CPU n; as many words as the highest bit needs, none for
 * no bits.
 */
export function hostBitmask(ids: readonly number[]): Buffer {
  const words = ids.length ? Math.floor(Math.max(...ids) / 64) + 1 : 0;
  const bits = new BigUint64Array(words);
  for (const n of ids) {
    const w = Math.floor(n / 64);
    bits[w] = (bits[w] ?? 0n) | (1n << BigInt(n % 64));
  }
  const le = endianness() === 'LE';
  const mask = Buffer.alloc(words * 8);
  bits.forEach((w, i) => (le ? mask.writeBigUInt64LE(w, i * 8) : mask.writeBigUInt64BE(w, i * 8)));
  return mask;
}
