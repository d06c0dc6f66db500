// `delete`: remove a stopped container's state (and, with --force, stop it
// first), then run the poststop hooks. A failing poststop hook warns.
import { HakoError, notFound } from '../errors.js';
import { runHooksAll } from '../hooks/run.js';
import type { Spec } from '../spec/types.js';
import type { RuntimeContext } from './context.js';
import { containerPids, onlyInitReachable } from './kill.js';
import { containerCgroup } from './cgroup.js';
import { native } from '../native.js';
import { isAlive } from './proc.js';
import { ociState, statusOf } from './status.js';
import { Store, type ContainerRecord } from './store.js';

export interface DeleteOptions {
  force?: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function killAll(rec: ContainerRecord): Promise<void> {
  const cg = containerCgroup(rec);
  // The cgroup holds every process (cgroup.kill, or freeze-signal-thaw);
  // without one, the pid namespace is the container.
  if (cg?.exists()) cg.killAll(9);
  else {
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
  for (let i = 0; i < 1000 && isAlive(rec.pid, rec.initStartTime); i++) await sleep(i < 20 ? 1 : 10);
  if (isAlive(rec.pid, rec.initStartTime)) throw new HakoError(`container ${JSON.stringify(rec.id)}: init ${rec.pid} did not die after SIGKILL`);
}

export async function deleteContainer(ctx: RuntimeContext, id: string, opts: DeleteOptions = {}): Promise<void> {
  const store = new Store(ctx.root);
  let lock;
  try {
    lock = store.lock(id);
  } catch (e) {
    // Both podman and containerd send a redundant `delete --force`.
    if (opts.force && e instanceof HakoError && e.kind === 'not-found') return;
    throw e;
  }
  try {
    const rec = store.read(id);
    if (!rec) {
      if (opts.force) return;
      throw notFound(id);
    }
    const dir = store.dir(id);
    const status = statusOf(rec, dir);
    if (status !== 'stopped') {
      if (!opts.force) {
        throw new HakoError(`container ${JSON.stringify(id)}: cannot delete a container that is not stopped: ${status}`, 'state');
      }
      const w = onlyInitReachable(rec);
      if (w) ctx.log('warn', w);
      await killAll(rec);
    }
    let spec: Spec | null = null;
    try {
      spec = JSON.parse(store.readConfigText(id)) as Spec;
    } catch {
      /* a create that died early wrote no config */
    }
    const cg = containerCgroup(rec);
    if (cg) {
      // Processes that outlived the init (no pid namespace) keep the
      // cgroup busy: a forced delete ends them too.
      if (opts.force && cg.exists() && cg.pids().length) cg.killAll(9);
      // Even when the directory is gone (a missing one is success): a
      // systemd unit can outlive its cgroup (a failed scope stays loaded
      // until it is reset).
      cg.destroy();
    }
    store.remove(id);
    if (spec?.hooks?.poststop?.length) {
      const errors = await runHooksAll('poststop', spec.hooks.poststop, JSON.stringify(ociState(rec, 'stopped')));
      for (const e of errors) ctx.log('warn', `container ${JSON.stringify(id)}: ${e.message}`);
    }
  } finally {
    lock.release();
  }
}
