// process.execCPUAffinity (runtime-spec 1.2.1, config.md): the CPUs an
// exec'd process's setup runs on before it joins the container's cgroup
// (`initial`), and the ones it runs on after (`final`). Pure.
//
// What the spec and runc say, and what follows here:
//  - "This setting is not applicable to the container's init process": the
//    init's plan carries none; create still checks config.json's lists, which
//    are the default of every later exec (runc 1.3: a process.json naming
//    none, or exec's flags, take config.json's).
//  - A process.json with a non-empty list replaces config.json's object as a
//    whole, as in runc (its `initial` alone leaves no `final`).
//  - `final` omitted or empty: the runtime "SHOULD NOT change process' CPU
//    affinity after the process is moved to container's cgroup" (the kernel
//    decides: newer kernels keep the initial mask within the cpuset, older
//    ones reset it to the cpuset). `initial` omitted: the launcher keeps the
//    affinity hako was started with.
//  - The list format is the kernel's ("0-3,7"); as runc reads it, spaces
//    around an element and empty elements ("0,,1") are allowed.
import type { CPUAffinity, Process } from '../spec/types.js';
import { PlanError } from './plan-error.js';
import { hostBitmask } from './sched.js';
import { rec, type Rec } from './tlv.js';

/** CONFIG_NR_CPUS's largest value (x86-64 MAXSMP): the limit when the host's possible CPUs are unknown. */
export const MAX_CPUS = 8192;

/**
 * The CPUs of `list`, ascending, each once; undefined for an empty list
 * (the spec's "omitted or empty"). `possible`: the host's possible CPUs
 * (/sys/devices/system/cpu/possible, max + 1): a CPU at or beyond it can
 * never run anything, so naming it is an error, not a silent no-op.
 */
export function parseCpuList(list: string, where: string, possible: number | undefined): number[] | undefined {
  if (list === '') return undefined;
  const limit = possible ?? MAX_CPUS;
  const cpus = new Set<number>();
  for (const raw of list.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new PlanError(where, `${JSON.stringify(list)}: ${JSON.stringify(part)} is neither a CPU nor a range such as 0-3`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from > to) throw new PlanError(where, `${JSON.stringify(list)}: the range ${part} goes down`);
    if (to >= limit)
      throw new PlanError(
        where,
        `${JSON.stringify(list)}: CPU ${to} is beyond ${possible === undefined ? `the ${MAX_CPUS} CPUs a kernel can have` : `this host's possible CPUs (0-${limit - 1})`}`,
      );
    for (let c = from; c <= to; c++) cpus.add(c);
  }
  if (cpus.size === 0) throw new PlanError(where, `${JSON.stringify(list)} names no CPU`);
  return [...cpus].sort((a, b) => a - b);
}

export interface ParsedAffinity {
  initial?: number[];
  final?: number[];
}

/** Both lists of an execCPUAffinity object, checked; undefined when it names no CPU at all. */
export function parseAffinity(a: CPUAffinity | undefined | null, possible: number | undefined, where = '/process/execCPUAffinity'): ParsedAffinity | undefined {
  if (!a) return undefined;
  const initial = parseCpuList(a.initial ?? '', `${where}/initial`, possible);
  const final = parseCpuList(a.final ?? '', `${where}/final`, possible);
  if (!initial && !final) return undefined;
  return { initial, final };
}

export type AffinityRole = 'init' | 'exec';

/**
 * The plan records of the process's CPU affinity: CPU_AFFINITY_INITIAL,
 * CPU_AFFINITY_FINAL (addon/plan.tags), none for the init. `container`:
 * config.json's process, whose lists an exec'd process naming none takes.
 */
export function cpuAffinityRecs(proc: Process, role: AffinityRole, container: Process | undefined, possible: number | undefined, debug: string[] = []): Rec[] {
  const own = parseAffinity(proc.execCPUAffinity, possible);
  if (role === 'init') {
    if (own) debug.push('process.execCPUAffinity: not applied to the init (runtime-spec: not applicable to it); the default of every exec');
    return [];
  }
  const aff = own ?? parseAffinity(container?.execCPUAffinity, possible);
  if (!aff) return [];
  const r: Rec[] = [];
  if (aff.initial) r.push(rec('CPU_AFFINITY_INITIAL', hostBitmask(aff.initial)));
  if (aff.final) r.push(rec('CPU_AFFINITY_FINAL', hostBitmask(aff.final)));
  return r;
}

/** The highest CPU of a kernel list such as /sys/devices/system/cpu/possible ("0-1", "0-3,8-11") plus one; undefined if unreadable. */
export function cpuCountOfList(text: string): number | undefined {
  try {
    const cpus = parseCpuList(text.trim(), '/sys/devices/system/cpu/possible', MAX_CPUS);
    return cpus ? cpus[cpus.length - 1]! + 1 : undefined;
  } catch {
    return undefined;
  }
}
