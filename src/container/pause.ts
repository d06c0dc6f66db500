// `pause` and `resume`: freeze every process of the container through its
// cgroup (waiting until the kernel reports it frozen) and thaw it again.
// The status is not recorded: `state` reads the freezer (status.ts), so it
// shows `paused` exactly while the cgroup is frozen.
//
// runc lets a created container be paused too; hako refuses, because its
// status reads exec.fifo before the freezer (a frozen created container
// would still say `created`, and `start` could not run it). Neither podman
// nor containerd pauses a created container.
import { HakoError, describe } from '../errors.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { ownCgroup, withContainer, type Opened } from './access.js';
import type { RuntimeContext } from './context.js';
import type { Status } from './status.js';

/** The container's cgroup, which pause and resume need. */
function manager(c: Opened, verb: string): CgroupManager {
  return ownCgroup(c, `cannot ${verb}: the container has no cgroup of its own`, (why) => `cannot ${verb}: ${why}`);
}

export function pause(ctx: RuntimeContext, id: string): void {
  // runc's words (ErrNotRunning); podman and containerd match them.
  const refuse = (status: Status, prefix: (m: string) => string) =>
    prefix(`container not running${status === 'paused' ? ' (it is already paused)' : ` (it is ${status})`}`);
  withContainer(ctx, id, { lock: true, allow: ['running'], refuse }, (c) => {
    const cg = manager(c, 'pause');
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
      throw new HakoError(c.prefix(describe(e)));
    }
  });
}

export function resume(ctx: RuntimeContext, id: string): void {
  withContainer(ctx, id, { lock: true, allow: ['paused'], refuse: (status, prefix) => prefix(`container not paused (it is ${status})`) }, (c) => {
    const cg = manager(c, 'resume');
    try {
      cg.thaw();
    } catch (e) {
      throw new HakoError(c.prefix(describe(e)));
    }
  });
}
