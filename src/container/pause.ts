// `pause` and `resume`: freeze every process of the container through its
// cgroup (waiting until the kernel reports it frozen) and thaw it again.
// The status is not recorded: `state` reads the freezer (status.ts), so it
// shows `paused` exactly while the cgroup is frozen.
//
// runc lets a created container be paused too; hako refuses, because its
// status reads exec.fifo before the freezer (a frozen created container
// would still say `created`, and `start` could not run it). Neither podman
// nor containerd pauses a created container.
import { HakoError, describe, notFound } from '../errors.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { containerCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';
import { statusOf, type Status } from './status.js';
import { storeFor, type ContainerRecord } from './store.js';

function withContainer(ctx: RuntimeContext, id: string, verb: string, fn: (rec: ContainerRecord, status: Status, cg: () => CgroupManager) => void): void {
  const store = storeFor(ctx);
  const lock = store.lock(id);
  const where = (m: string) => `container ${JSON.stringify(id)}: ${m}`;
  try {
    const rec = store.read(id);
    if (!rec) throw notFound(id);
    const status = statusOf(rec, store.dir(id));
    fn(rec, status, () => {
      let cg: CgroupManager | null;
      try {
        cg = containerCgroup(rec);
      } catch (e) {
        throw new HakoError(where(`cannot ${verb}: ${describe(e)}`));
      }
      if (!cg || !cg.exists()) throw new HakoError(where(`cannot ${verb}: the container has no cgroup of its own`), 'state');
      return cg;
    });
  } finally {
    lock.release();
  }
}

export function pause(ctx: RuntimeContext, id: string): void {
  const where = (m: string) => `container ${JSON.stringify(id)}: ${m}`;
  withContainer(ctx, id, 'pause', (_rec, status, manager) => {
    // runc's words (ErrNotRunning); podman and containerd match them.
    if (status !== 'running') throw new HakoError(where(`container not running${status === 'paused' ? ' (it is already paused)' : ` (it is ${status})`}`), 'state');
    const cg = manager();
    try {
      cg.freeze();
    } catch (e) {
      // The manager thaws what it could not freeze; make sure of it, since
      // a frozen cgroup nobody knows about hangs every process in it.
      try {
        cg.thaw();
      } catch {
        /* report the freeze error */
      }
      throw new HakoError(where(describe(e)));
    }
  });
}

export function resume(ctx: RuntimeContext, id: string): void {
  const where = (m: string) => `container ${JSON.stringify(id)}: ${m}`;
  withContainer(ctx, id, 'resume', (_rec, status, manager) => {
    if (status !== 'paused') throw new HakoError(where(`container not paused (it is ${status})`), 'state');
    const cg = manager();
    try {
      cg.thaw();
    } catch (e) {
      throw new HakoError(where(describe(e)));
    }
  });
}
