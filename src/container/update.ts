// `update`: change the resource limits of a live container. The request
// (a LinuxResources document from `--resources`, or what runc's flags ask
// for) is merged onto the resources recorded in the state directory's copy
// of config.json, the sections it touches are written to the cgroup, and
// the merged resources are recorded, so that later updates (and anything
// reading the copy) see them.
//
// Merge rules, runc's where runc has one (update.go):
//  - A numeric limit of 0 leaves the setting as it is (runc's drivers skip
//    zeros): memory limit/reservation/swap, cpu shares/quota/period/
//    realtime*, blockIO weight/leafWeight, pids limit. An empty cpus/mems
//    leaves the cpuset as it is. Other fields replace what is recorded.
//  - Only one of cpu quota and period: the other keeps its recorded value
//    (cpu.max needs both).
//  - memory limit -1 without a swap value means memory and swap unlimited.
//  - Lists merge by key: weightDevice/throttle* by major:minor,
//    hugepageLimits by pageSize, network priorities by name; rdma and
//    unified by key.
//  - devices are not updated (runc's update skips them too: the default
//    rules runc and hako add at create are not in the document).
//  - kernel memory is ignored with a warning.
// A section the request touches is written whole from the merged result,
// so the drivers see the related values (memory with swap, quota with
// period) together. If writing fails, the recorded resources of those
// sections are written back, as runc does, and nothing is recorded.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { HakoError, describe, systemReason, toHakoError } from '../errors.js';
import { SpecError } from '../spec/spec-error.js';
import { decodeUtf8, parseJson } from '../spec/json.js';
import { validateResources } from '../spec/load.js';
import type { LinuxBlockIO, LinuxResources, Spec } from '../spec/types.js';
import { ownCgroup, requireStatus, withContainer } from './access.js';
import type { RuntimeContext } from './context.js';
import { CONFIG_FILE, writeAtomic } from './store.js';

/** The name `-` stands for in messages. */
export const STDIN_NAME = 'stdin';

/**
 * Reads and validates a LinuxResources document (`update --resources`):
 * a file, or "-" for standard input. Errors name the file and JSON path.
 */
export function readResourcesDocument(file: string, readStdin: () => string | Uint8Array = () => readFileSync(0)): LinuxResources {
  const name = file === '-' ? STDIN_NAME : file;
  let text: string | Uint8Array;
  try {
    text = file === '-' ? readStdin() : readFileSync(file);
  } catch (e) {
    throw new SpecError(name, '', `cannot read ${file === '-' ? 'standard input' : file}: ${systemReason(e)}`);
  }
  return validateResources(parseJson(typeof text === 'string' ? text : decodeUtf8(text, name), name), name);
}

type Section = 'memory' | 'cpu' | 'pids' | 'blockIO' | 'hugepageLimits' | 'network' | 'rdma' | 'unified';

export interface Merge {
  /** The recorded resources with the request applied (devices as recorded). */
  merged: LinuxResources;
  /** What to write to the cgroup: the touched sections of `merged`. */
  apply: LinuxResources;
  /** The touched sections of the recorded resources: what to write back if writing `apply` fails. */
  restore: LinuxResources;
  warnings: string[];
  /** Parts of the request that were ignored (devices), for the debug log. */
  ignored: string[];
}

const isSet = (v: number | undefined): v is number => v !== undefined && v !== 0;

function mergeBy<T>(old: readonly T[] | undefined, upd: readonly T[] | undefined, key: (x: T) => string): T[] | undefined {
  if (upd === undefined) return old ? [...old] : undefined;
  const out = [...(old ?? [])];
  for (const u of upd) {
    const i = out.findIndex((o) => key(o) === key(u));
    if (i >= 0) out[i] = u;
    else out.push(u);
  }
  return out;
}

const devKey = (d: { major: number; minor: number }) => `${d.major}:${d.minor}`;

/** Copies `upd`'s defined fields listed in `keys` onto `out`; `zeroKeeps` fields only when not 0. Returns whether any was taken. */
function take<T extends object>(out: T, upd: T, keys: ReadonlyArray<keyof T>, zeroKeeps: ReadonlyArray<keyof T> = []): boolean {
  let any = false;
  for (const k of keys) {
    const v = upd[k];
    if (v === undefined) continue;
    if (zeroKeeps.includes(k) && (v === 0 || v === '')) continue;
    out[k] = v;
    any = true;
  }
  return any;
}

/** Merges an update request onto recorded resources (pure). */
export function mergeResources(recorded: LinuxResources, req: LinuxResources): Merge {
  const old = structuredClone(recorded);
  const merged: LinuxResources = structuredClone(recorded);
  const touched = new Set<Section>();
  const warnings: string[] = [];
  const ignored: string[] = [];

  if (req.devices !== undefined) ignored.push('devices (device rules cannot be updated)');

  const m = req.memory;
  if (m) {
    if (isSet(m.kernel) || isSet(m.kernelTCP)) warnings.push('Kernel memory settings are ignored and will be removed');
    const mem = { ...(merged.memory ?? {}) };
    const numbers = ['limit', 'reservation', 'swap'] as const;
    if (take(mem, m, [...numbers, 'swappiness', 'disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate'], numbers)) {
      // runc: "set swap to unlimited in case the memory is set to
      // unlimited, and swap is not explicitly set".
      if (m.limit === -1 && !isSet(m.swap)) mem.swap = -1;
      merged.memory = mem;
      touched.add('memory');
    }
  }

  const c = req.cpu;
  if (c) {
    const cpu = { ...(merged.cpu ?? {}) };
    const zeroKeeps = ['shares', 'quota', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems'] as const;
    if (take(cpu, c, [...zeroKeeps, 'burst', 'idle'], zeroKeeps)) {
      merged.cpu = cpu;
      touched.add('cpu');
    }
  }

  if (req.pids && isSet(req.pids.limit)) {
    merged.pids = { ...(merged.pids ?? {}), limit: req.pids.limit };
    touched.add('pids');
  }

  const b = req.blockIO;
  if (b) {
    const io: LinuxBlockIO = { ...(merged.blockIO ?? {}) };
    let any = take(io, b, ['weight', 'leafWeight'], ['weight', 'leafWeight']);
    for (const k of ['weightDevice', 'throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const) {
      if (b[k] === undefined || b[k]!.length === 0) continue;
      (io as Record<string, unknown>)[k] = mergeBy<{ major: number; minor: number }>(io[k], b[k], devKey);
      any = true;
    }
    if (any) {
      merged.blockIO = io;
      touched.add('blockIO');
    }
  }

  if (req.hugepageLimits?.length) {
    merged.hugepageLimits = mergeBy(merged.hugepageLimits, req.hugepageLimits, (h) => h.pageSize);
    touched.add('hugepageLimits');
  }

  const n = req.network;
  if (n && (n.classID !== undefined || n.priorities?.length)) {
    const net = { ...(merged.network ?? {}) };
    if (n.classID !== undefined) net.classID = n.classID;
    if (n.priorities?.length) net.priorities = mergeBy(net.priorities, n.priorities, (p) => p.name);
    merged.network = net;
    touched.add('network');
  }

  if (req.rdma && Object.keys(req.rdma).length) {
    merged.rdma = { ...(merged.rdma ?? {}), ...req.rdma };
    touched.add('rdma');
  }

  if (req.unified && Object.keys(req.unified).length) {
    merged.unified = { ...(merged.unified ?? {}), ...req.unified };
    touched.add('unified');
  }

  const pick = (r: LinuxResources, keys: Iterable<Section>): LinuxResources => {
    const out: Record<string, unknown> = {};
    for (const k of keys) if (r[k] !== undefined) out[k] = r[k];
    const res = out as LinuxResources;
    // Kernel memory is ignored (and warned about once, above).
    if (res.memory) {
      const { kernel: _k, kernelTCP: _t, ...rest } = res.memory;
      res.memory = rest;
    }
    return res;
  };
  // On a failure, only what was written before changes back: the recorded
  // unified keys, not the ones this request adds (those have no old value).
  return { merged, apply: pick(merged, touched), restore: pick(old, touched), warnings, ignored };
}

export interface UpdateOptions {
  /** The request's origin for messages: the --resources file, "stdin", or "update flags". */
  source: string;
}

/**
 * Updates a created, running or paused container's resources. `request`
 * may be a function (reading the --resources document), called once the
 * container is known to exist. Warnings (settings the host ignores) go to
 * ctx.log.
 */
export function update(ctx: RuntimeContext, id: string, request: LinuxResources | (() => LinuxResources), opts: UpdateOptions): void {
  withContainer(ctx, id, { lock: true }, (c) => {
    const { store, prefix } = c;
    // As runc: the container must exist before the document is read (so
    // `-r -` does not wait on stdin for nothing), the document must be
    // right before the container's status matters (so it is checked here,
    // not by withContainer).
    const req = typeof request === 'function' ? request() : request;
    requireStatus(c, ['created', 'running', 'paused'], (status) => prefix(`container not running: a ${status} container cannot be updated`));
    const cg = ownCgroup(c, 'the container has no cgroup of its own, so its resources cannot be updated');

    let spec: Spec;
    try {
      spec = JSON.parse(store.readConfigText(id)) as Spec;
    } catch (e) {
      throw new HakoError(prefix(`cannot read the recorded config (${path.join(store.dir(id), CONFIG_FILE)}): ${describe(e)}`));
    }
    const m = mergeResources(spec.linux?.resources ?? {}, req);
    for (const w of m.warnings) ctx.log('warn', prefix(w));
    for (const i of m.ignored) ctx.log('debug', prefix(`update ignores ${i}`));
    if (Object.keys(m.apply).length === 0) return;

    const translate = { source: opts.source, at: '' };
    let warnings: string[];
    try {
      warnings = cg.set(m.apply, translate);
    } catch (e) {
      try {
        cg.set(m.restore, { source: 'the recorded config.json', at: '/linux/resources' });
      } catch (r) {
        ctx.log('warn', prefix(`restoring the previous limits after a failed update: ${describe(r)}`));
      }
      throw toHakoError(e, prefix);
    }
    for (const w of warnings) ctx.log('warn', prefix(w));

    spec.linux = { ...(spec.linux ?? {}), resources: m.merged };
    try {
      writeAtomic(path.join(store.dir(id), CONFIG_FILE), JSON.stringify(spec));
    } catch (e) {
      try {
        cg.set(m.restore, { source: 'the recorded config.json', at: '/linux/resources' });
      } catch {
        /* report the recording error */
      }
      throw new HakoError(prefix(`cannot record the new resources: ${describe(e)}`));
    }
  });
}
