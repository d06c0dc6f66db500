// `events`: the container's cgroup statistics and OOM kills as JSON lines,
// in runc's shape (types.Event): `{"type":"stats","id":...,"data":{...}}`
// and `{"type":"oom","id":...}`.
//
// runc learns of OOM kills through an eventfd (v1) or inotify on
// memory.events (v2); hako polls the OOM kill counter instead, a few times
// a second, which needs no long-lived kernel objects and behaves the same
// on every layout. The stream ends (successfully) when the container
// stops; runc's ends when the cgroup goes away, which for a caller that
// deletes stopped containers is the same moment, a little later.
//
// Nothing is locked: events only reads, and must not keep `delete` or
// `kill` waiting.
import { HakoError, describe } from '../errors.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { statsEventJson, toJson } from '../cgroups/stats.js';
import { ownCgroup, withContainer } from './access.js';
import type { RuntimeContext } from './context.js';
import { statusOf } from './status.js';
import type { Store } from './store.js';

/** How often the OOM counter and the container's status are checked while streaming (at most). */
export const POLL_MS = 200;

function openContainer(ctx: Pick<RuntimeContext, 'root'>, id: string, intervalMs: number): { store: Store; cg: CgroupManager } {
  // runc checks the interval before anything else, even with --stats.
  if (!(intervalMs > 0)) throw new HakoError('duration interval must be greater than 0', 'usage');
  // runc's words.
  const refuse = () => `container with id ${id} is not running`;
  return withContainer(ctx, id, { lock: false, allow: ['creating', 'created', 'running', 'paused'], refuse }, (c) => ({
    store: c.store,
    cg: ownCgroup(c, 'the container has no cgroup of its own, so there are no statistics', (why) => why),
  }));
}

function statsLine(id: string, cg: CgroupManager): string {
  try {
    return statsEventJson(id, cg.stats());
  } catch (e) {
    throw new HakoError(`container ${JSON.stringify(id)}: cannot read the cgroup statistics: ${describe(e)}`);
  }
}

/** `events --stats`: one stats event (a JSON line without the newline). */
export function statsEvent(ctx: Pick<RuntimeContext, 'root'>, id: string, intervalMs = 5000): string {
  const { cg } = openContainer(ctx, id, intervalMs);
  return statsLine(id, cg);
}

/** What `events` streams, to where, until when. */
export interface StreamOptions {
  /** Milliseconds between stats events (the CLI's --interval; 5000 there); more than 0. */
  intervalMs: number;
  /** Receives each event, a JSON line without the newline. */
  emit: (line: string) => void;
  /** Stops the stream early (resolves). */
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * `events`: a stats event every interval (the first after one interval, as
 * runc's ticker) and an oom event whenever the OOM kill count grows, until
 * the container stops or is deleted. Errors reading statistics mid-stream
 * go to ctx.log and the stream goes on, as in runc.
 */
export async function streamEvents(ctx: Pick<RuntimeContext, 'root' | 'log'>, id: string, opts: StreamOptions): Promise<void> {
  const { store, cg } = openContainer(ctx, id, opts.intervalMs);
  const alive = () => {
    let rec;
    try {
      rec = store.read(id);
    } catch {
      return false;
    }
    return rec !== null && statusOf(rec, store.dir(id)) !== 'stopped';
  };
  const oomCount = () => {
    try {
      return cg.oomKillCount();
    } catch {
      return undefined;
    }
  };
  let ooms = oomCount() ?? 0n;
  const checkOom = () => {
    const n = oomCount();
    if (n === undefined) return;
    // One event per kill, as each eventfd/inotify wake-up gives one in runc.
    for (; ooms < n; ooms++) opts.emit(toJson({ type: 'oom', id }));
  };
  let next = Date.now() + opts.intervalMs;
  while (!opts.signal?.aborted) {
    const wait = Math.min(POLL_MS, Math.max(0, next - Date.now()));
    await sleep(wait, opts.signal);
    if (opts.signal?.aborted) break;
    checkOom();
    if (!alive()) {
      // The last kills (the one that stopped it, say) still count.
      checkOom();
      return;
    }
    if (Date.now() >= next) {
      next += opts.intervalMs;
      // Behind by more than an interval (a suspended process): do not burst.
      if (next < Date.now()) next = Date.now() + opts.intervalMs;
      try {
        opts.emit(statsEventJson(id, cg.stats()));
      } catch (e) {
        if (!alive()) return;
        ctx.log('error', `container ${JSON.stringify(id)}: cannot read the cgroup statistics: ${describe(e)}`);
      }
    }
  }
}
