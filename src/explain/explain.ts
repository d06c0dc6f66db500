// `hako explain`: what create (or an exec of a given process) would do
// with a bundle, without doing any of it. Not a second implementation:
// the config is loaded and planned by create's own planContainer (the
// launcher's plan from buildPlan, the cgroup manager, the seccomp filter,
// the user namespace's map writers), the exec plan by buildExecPlan;
// this file reads their results back (view.ts) and runs create's cgroup
// steps against a filesystem that only records (src/cgroups/dry-run.ts).
// It reads the host (the cgroup layout, cap_last_cap, the LSMs, the
// network devices) and writes nothing: no state directory, no cgroup, no
// mount, no process.
import { readlinkSync } from 'node:fs';
import path from 'node:path';
import { toHakoError } from '../errors.js';
import type { RuntimeContext } from '../container/context.js';
import { loadBundle, planContainer, type Prepared } from '../container/create.js';
import { dryRunCgroup, type CgroupDryRun } from './cgroup.js';
import { resolveProcess } from '../container/exec.js';
import { FIFO_FILE, Store } from '../container/store.js';
import { validateId } from '../container/ids.js';
import { buildExecPlan } from '../launch/exec-plan.js';
import { hostProcessFacts } from '../launch/host-facts.js';
import { NS_FLAGS, PlanError } from '../launch/plan.js';
import type { NetDeviceMove } from '../launch/netdevices.js';
import type { Hook, LinuxIDMapping, Spec } from '../spec/types.js';
import { seccompSummary, type SeccompSummary } from './seccomp.js';
import { planView, type HookView, type PlanView } from './view.js';

/** Which bundle `explain` reads, and the flags create (or exec) would be given. */
export interface ExplainOptions {
  /** The directory with config.json (default: the current directory). */
  bundle?: string;
  /** The container id create would be given: it names the cgroup and the session keyring. */
  id?: string;
  /** Explain `exec --process FILE` in the container the bundle makes, instead of create. */
  processFile?: string;
  /** --no-pivot. */
  noPivot?: boolean;
  /** --no-new-keyring. */
  noNewKeyring?: boolean;
  /** --preserve-fds. */
  preserveFds?: number;
  /** --systemd-cgroup. */
  systemdCgroup?: boolean;
}

export interface HooksView {
  prestart: HookView[];
  createRuntime: HookView[];
  createContainer: HookView[];
  startContainer: HookView[];
  poststart: HookView[];
  poststop: HookView[];
}

/** What `explain` found a create (or exec) would do, by section. */
export interface Explanation {
  /** What is explained: the container's create, or an exec of `processFile`. */
  operation: 'create' | 'exec';
  /** The container id it was explained for. */
  id: string;
  /** The bundle, absolute. */
  bundle: string;
  /** config.json as validated. */
  config: Spec;
  /** The launcher's plan, by section (create's, or the exec's). */
  plan: PlanView;
  /** create: the cgroup made and limited; exec: the one joined. null: none (rootless without a writable cgroup). */
  cgroup:
    | CgroupDryRun
    | {
        /** The container's cgroup directories the process joins, by hierarchy ("" for a cgroup2 tree, the v1 controllers otherwise). */
        join: Record<string, string>;
      }
    | null;
  /** linux.seccomp as compiled: its default action and rules (absent without one). */
  seccomp?: SeccompSummary;
  /** Every hook, by kind in the order the lifecycle runs them (the runtime's and the container's). */
  hooks: HooksView;
  /** linux.netDevices: the host's devices moved into the container's network namespace. */
  netDevices: NetDeviceMove[];
  /** The new user namespace's mappings, and who writes them (absent without one). */
  userNamespace?: {
    /** linux.uidMappings. */
    uidMappings: LinuxIDMapping[];
    /** linux.gidMappings. */
    gidMappings: LinuxIDMapping[];
    /** 'kernel' (a write to /proc/PID/uid_map) or 'newuidmap' (rootless, more than one's own id). */
    uidMapWrittenBy: string;
    /** 'kernel' or 'newgidmap', as for uids. */
    gidMapWrittenBy: string;
    /** What /proc/PID/setgroups says in the container. */
    setgroups: 'allow' | 'deny';
  };
  /** What create would warn of, one line each. */
  warnings: string[];
  /** What create would note with --debug. */
  debug: string[];
}

export const DEFAULT_EXPLAIN_ID = 'explain';

function specHooks(hooks: readonly Hook[] | undefined): HookView[] {
  return (hooks ?? []).map((h) => ({ path: h.path, args: [...(h.args ?? [h.path])], env: [...(h.env ?? [])], ...(h.timeout ? { timeout: h.timeout } : {}) }));
}

/** A namespace the container joins by path is joined by exec only when it is not already ours (exec.ts: namespacesToJoin). */
function execJoinFlags(spec: Spec): number {
  let flags = 0;
  for (const ns of spec.linux?.namespaces ?? []) {
    const flag = NS_FLAGS[ns.type] ?? 0;
    if (!ns.path) flags |= flag;
    else if (!sameNamespace(ns.path, ns.type)) flags |= flag;
  }
  return flags;
}

const NS_FILE: Readonly<Record<string, string>> = { mount: 'mnt', network: 'net' };

function sameNamespace(p: string, type: string): boolean {
  try {
    return readlinkSync(p) === readlinkSync(`/proc/self/ns/${NS_FILE[type] ?? type}`);
  } catch {
    return false;
  }
}

/** The exec of `processFile` in the container `p` describes: its plan, as exec builds it. */
function execPlanOf(p: Prepared, id: string, opts: ExplainOptions): { view: PlanView; warnings: string[]; debug: string[] } {
  const { spec, prefix } = p;
  const proc = resolveProcess(spec, { args: [], processFile: opts.processFile });
  const types = new Set((spec.linux?.namespaces ?? []).map((n) => n.type));
  try {
    const plan = buildExecPlan(spec, proc, {
      id,
      rootfs: p.plan.rootfs,
      joinNamespaces: execJoinFlags(spec),
      mountNamespace: types.has('mount'),
      preserveFds: Math.max(0, opts.preserveFds ?? 0),
      noNewKeyring: opts.noNewKeyring === true,
      setgroupsDeny: p.maps?.setgroupsDeny === true,
      seccomp: p.seccomp,
      ...hostProcessFacts(),
    });
    return { view: planView(plan.records), warnings: plan.warnings.map(prefix), debug: plan.debug.map(prefix) };
  } catch (e) {
    throw e instanceof PlanError ? toHakoError(e, prefix) : e;
  }
}

function cgroupOf(p: Prepared, exec: boolean): Explanation['cgroup'] {
  if (!p.cgm) return null;
  if (exec) return { join: p.cgm.dirs };
  try {
    return dryRunCgroup(p.cgm, p.spec, { skipDevices: p.who.euid !== 0 || p.who.inUserns });
  } catch (e) {
    throw toHakoError(e, p.prefix);
  }
}

function userNamespaceOf(p: Prepared): Explanation['userNamespace'] {
  if (!p.maps) return undefined;
  const linux = p.spec.linux ?? {};
  return {
    uidMappings: linux.uidMappings ?? [],
    gidMappings: linux.gidMappings ?? [],
    uidMapWrittenBy: p.maps.uid,
    gidMapWrittenBy: p.maps.gid,
    setgroups: p.maps.setgroupsDeny ? 'deny' : 'allow',
  };
}

/** What create (or, with processFile, exec) would do with the bundle; changes nothing. Throws HakoError as create does. */
export function explainBundle(ctx: RuntimeContext, opts: ExplainOptions = {}): Explanation {
  const id = opts.id ?? DEFAULT_EXPLAIN_ID;
  validateId(id);
  const warnings: string[] = [];
  const debug: string[] = [];
  const quiet: RuntimeContext = { ...ctx, log: (level, msg) => (level === 'warn' ? warnings : level === 'debug' ? debug : warnings).push(msg) };
  const fifoPath = path.join(new Store(ctx.root).dir(id), FIFO_FILE);
  const createOpts = {
    bundle: opts.bundle,
    noPivot: opts.noPivot,
    noNewKeyring: opts.noNewKeyring,
    preserveFds: Math.max(0, opts.preserveFds ?? 0),
    systemdCgroup: opts.systemdCgroup,
  };
  const p = planContainer(quiet, id, createOpts, fifoPath, loadBundle(id, opts.bundle));
  const exec = opts.processFile !== undefined;
  let plan = planView(p.plan.records);
  if (exec) {
    const e = execPlanOf(p, id, opts);
    plan = e.view;
    warnings.push(...e.warnings);
    debug.push(...e.debug);
  }
  const cgroup = cgroupOf(p, exec);
  if (cgroup && 'warnings' in cgroup) warnings.push(...cgroup.warnings.map(p.prefix));
  const hooks = p.spec.hooks ?? {};
  const initPlan = exec ? planView(p.plan.records) : plan;
  return {
    operation: exec ? 'exec' : 'create',
    id,
    bundle: p.bundle,
    config: p.spec,
    plan,
    cgroup,
    ...(p.spec.linux?.seccomp && p.seccomp ? { seccomp: seccompSummary(p.spec.linux.seccomp, p.seccomp) } : {}),
    hooks: {
      prestart: specHooks(hooks.prestart),
      createRuntime: specHooks(hooks.createRuntime),
      createContainer: initPlan.hooks.createContainer,
      startContainer: initPlan.hooks.startContainer,
      poststart: specHooks(hooks.poststart),
      poststop: specHooks(hooks.poststop),
    },
    netDevices: p.plan.netDevices,
    ...(p.maps ? { userNamespace: userNamespaceOf(p) } : {}),
    warnings,
    debug,
  };
}
