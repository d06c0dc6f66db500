// `delete`: remove a stopped container's state (and, with --force, stop it
// first), then run the poststop hooks. A failing poststop hook warns.
//
// It works from whatever evidence is left (store.ts): the record (or its
// copy), else the cgroup the config and the id name. A create that died
// half-way (its record still says "creating", its creator is gone) is
// removed by a plain delete too, with whatever it had made: it never
// became a container anyone else manages.
import { HakoError, describe, inContainer, notFound } from '../errors.js';
import { runHooksAll } from '../hooks/run.js';
import type { Spec } from '../spec/types.js';
import type { CgroupManager } from '../cgroups/manager.js';
import type { RuntimeContext } from './context.js';
import { containerPids, onlyInitReachable, signalPid } from './pids.js';
import { removeParents } from './cgroup-parents.js';
import { unmountCreated } from './rootfs-mounts.js';
import { containerCgroup, plannedCgroup, unitRecord } from './cgroup.js';
import { native } from '../native.js';
import { CLONE } from '../launch/linux-consts.js';
import { isAlive } from './proc.js';
import { rootlessByDefault } from './rootless-identity.js';
import { ociState, statusOf } from './status.js';
import { storeFor, type ContainerRecord } from './store.js';

/** How `remove` (`delete`) treats a container that is not stopped. */
export interface DeleteOptions {
  /** --force: a container still running is killed (SIGKILL) and removed; without it, one that is not stopped is refused (kind 'state'). */
  force?: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The cgroup create would have made for this config and id: the last
 * evidence when no record is left. Relative cgroupsPaths resolve against
 * our own cgroup, as at create, so this finds it when delete runs where
 * create ran (the clients do).
 */
export function derivedCgroup(spec: Spec | null, id: string, ctx: RuntimeContext): CgroupManager | null {
  const cgroupsPath = spec?.linux?.cgroupsPath;
  // cgroupfs refuses the slice:prefix:name form, so it names a systemd unit.
  const systemd = typeof cgroupsPath === 'string' && /^([^:/]*\.slice|):[^:/]*:[^:/]+$/.test(cgroupsPath);
  try {
    const planned = plannedCgroup(spec ?? ({} as Spec), id, { rootless: ctx.rootless ?? rootlessByDefault(), systemd }).manager;
    return planned ? containerCgroup({ cgroup: planned.dirs, systemd: unitRecord(planned) }) : null;
  } catch (e) {
    ctx.log('warn', `container ${JSON.stringify(id)}: cannot tell its cgroup from ${spec ? 'its config' : 'its id'}: ${describe(e)}`);
    return null;
  }
}

/** The cgroup's processes that still run (not exiting, not zombies). */
function cgroupPids(cg: CgroupManager | null): number[] {
  try {
    return cg?.exists() ? cg.pids().filter((p) => isAlive(p)) : [];
  } catch {
    return [];
  }
}

/**
 * The container did not make its own pid namespace (it runs in the host's
 * or joined one by path): its processes do not die with its init.
 */
const sharesPidNamespace = (rec: ContainerRecord | undefined) => rec !== undefined && (rec.newNamespaces & CLONE.NEWPID) === 0;

/** The recorded init, told by its start time (never a recycled pid). */
const initAlive = (rec: ContainerRecord | undefined) => rec !== undefined && isAlive(rec.pid, rec.initStartTime);

async function stopAll(id: string, rec: ContainerRecord | undefined, cg: CgroupManager | null): Promise<void> {
  if (rec && initAlive(rec)) signalPid(rec.pid, rec.initStartTime, 9);
  // The cgroup holds every process (cgroup.kill, or freeze-signal-thaw);
  // without one, the pid namespace is the container.
  if (cg?.exists()) cg.killAll(9);
  else if (rec) {
    for (const pid of containerPids(rec)) {
      try {
        native().kill(pid, 9);
      } catch {
        /* gone */
      }
    }
  }
  // The init is reaped by its parent (the caller's subreaper); dead is
  // enough for us: a zombie counts as stopped.
  // The others only need to be on their way out for the cgroup's removal,
  // which waits for the last ones.
  const busy = () => initAlive(rec) || cgroupPids(cg).length > 0;
  for (let i = 0; i < 1000 && busy(); i++) await sleep(i < 20 ? 1 : 10);
  if (initAlive(rec)) throw new HakoError(`container ${JSON.stringify(id)}: init ${rec!.pid} did not die after SIGKILL`);
}

export async function deleteContainer(ctx: RuntimeContext, id: string, opts: DeleteOptions = {}): Promise<void> {
  const store = storeFor(ctx);
  const prefix = inContainer(id);
  store.dir(id); // the id is checked before anything else
  // Work directories of creates and deletes killed half-way.
  store.sweep();
  let lock;
  try {
    lock = store.lock(id);
  } catch (e) {
    // Both podman and containerd send a redundant `delete --force`.
    if (opts.force && e instanceof HakoError && e.kind === 'not-found') return;
    throw e;
  }
  try {
    const entry = store.load(id);
    if (!entry) {
      if (opts.force) return;
      throw notFound(id);
    }
    const rec = entry.rec;
    if (entry.warning) ctx.log('warn', entry.warning);
    if (entry.damage !== undefined) ctx.log('warn', prefix(`its state cannot be read (${entry.damage}); removing what its config and id name`));
    let spec: Spec | null = null;
    try {
      spec = store.readConfig(id);
    } catch {
      /* damaged or missing: the record (or the id) says the rest */
    }
    const cg = rec ? containerCgroup(rec) : derivedCgroup(spec, id, ctx);
    const status = rec ? statusOf(rec, store.dir(id)) : 'stopped';
    if (status !== 'stopped' && !opts.force) {
      throw new HakoError(prefix(`cannot delete a container that is not stopped: ${status}`), 'state');
    }
    // A create that died half-way: nobody else will finish or undo it.
    const leftover = rec?.creating !== undefined && status === 'stopped';
    const running = initAlive(rec) || cgroupPids(cg).length > 0;
    if (running) {
      // Processes outlived the init of a container in a shared pid
      // namespace: runc's delete kills them (its destroy does), and the
      // runc shim counts on it. Else the record no longer names the init:
      // say so at once rather than wait on a busy cgroup.
      if (!opts.force && !leftover && !(status === 'stopped' && sharesPidNamespace(rec))) {
        throw new HakoError(prefix('cannot delete a container that is not stopped: processes are still in its cgroup (use delete --force)'), 'state');
      }
      if (rec) {
        const w = onlyInitReachable(rec);
        if (w) ctx.log('warn', w);
      }
      await stopAll(id, rec, cg);
    }
    // Even when the directory is gone (a missing one is success): a
    // systemd unit can outlive its cgroup (a failed scope stays loaded
    // until it is reset).
    // The mounts it made in our mount table (no mount namespace of its own).
    if (rec?.rootfsMounts) for (const w of unmountCreated(rec.rootfsMounts)) ctx.log('warn', prefix(w));
    cg?.destroy();
    // Parents it made for a nested cgroupsPath, unless in use by now.
    removeParents(rec?.cgroupParents);
    store.remove(id);
    if (spec?.hooks?.poststop?.length) {
      if (!rec) {
        ctx.log('warn', prefix('poststop hooks not run: there is no record to give them'));
      } else {
        const errors = await runHooksAll('poststop', spec.hooks.poststop, JSON.stringify(ociState(rec, 'stopped')));
        for (const e of errors) ctx.log('warn', prefix(e.message));
      }
    }
  } finally {
    lock.release();
  }
}
