// `kill`: signal the init through a pidfd opened and then checked against
// the recorded start time, so a recycled pid is never signalled.
import { HakoError } from '../errors.js';
import { withContainer } from './access.js';
import type { RuntimeContext } from './context.js';
import type { ContainerRecord } from './store.js';
import { containerCgroup } from './cgroup.js';
import { containerPids, onlyInitReachable, signalPid } from './pids.js';

export interface KillOptions {
  all?: boolean;
  /** The caller already holds the container's lock. */
  locked?: boolean;
}

/**
 * `kill --all` of a stopped container, as runc does it: whatever is left in
 * its cgroup is signalled, and no cgroup (or an empty one) is success. A
 * container that shares a pid namespace (the host's, or a Pod's) keeps
 * running processes after its init died: the exec'd ones, the init's
 * children. containerd's runc shim sends exactly this when such an init
 * exits, and its task delete sends it again, waiting for those processes;
 * a refusal left the CRI's StopContainer waiting for ever.
 */
function signalLeftovers(rec: ContainerRecord, sig: number): void {
  const cg = containerCgroup(rec);
  if (cg?.exists()) cg.killAll(sig);
}

export function killContainer(ctx: RuntimeContext, id: string, sig: number, opts: KillOptions = {}): void {
  // A stopped container's leftovers are signalled with --all only.
  const allow = opts.all ? (['created', 'running', 'paused', 'stopped'] as const) : (['created', 'running', 'paused'] as const);
  withContainer(ctx, id, { lock: !opts.locked, allow, refuse: (_s, prefix) => prefix('container not running') }, ({ rec, status, prefix }) => {
    if (status === 'stopped') {
      signalLeftovers(rec, sig);
      return;
    }
    if (opts.all) {
      const cg = containerCgroup(rec);
      if (cg?.exists()) {
        cg.killAll(sig);
        return;
      }
    }
    if (opts.all) {
      const w = onlyInitReachable(rec);
      if (w) ctx.log('warn', w);
    }
    const pids = opts.all ? containerPids(rec) : [rec.pid];
    let any = false;
    for (const [i, pid] of pids.entries()) {
      any = signalPid(pid, i === 0 ? rec.initStartTime : undefined, sig) || any;
    }
    if (!any) throw new HakoError(prefix('container not running'), 'state');
    // On cgroup v1 a frozen process dies of SIGKILL only once thawed: a
    // killed paused container is thawed, as runc does.
    if (sig === 9 && status === 'paused') {
      try {
        containerCgroup(rec)?.thaw();
      } catch {
        /* the signal is sent; thawing is best effort */
      }
    }
  });
}
