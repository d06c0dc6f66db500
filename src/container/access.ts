// What every operation on an existing container starts with: open the
// store, lock the container (unless the operation only reads, or its
// caller holds the lock already), read its record ("does not exist" when
// there is none), derive its status and refuse the statuses the operation
// cannot run in. One place, so that every operation refuses the same way
// and none forgets to release the lock.
import { HakoError, describe, inContainer, notFound } from '../errors.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { containerCgroup } from './cgroup.js';
import type { RuntimeContext } from './context.js';
import { statusOf, type Status } from './status.js';
import { storeFor, type ContainerRecord, type Store } from './store.js';

export type AccessOptions = {
  /**
   * Hold the container's lock while the operation runs. False: it only
   * reads (events, ps), or its caller holds the lock already.
   */
  lock: boolean;
} & (
  | { allow?: undefined; refuse?: undefined }
  | {
      /** The statuses the operation runs in; any other is refused before it starts. */
      allow: readonly Status[];
      /** The whole message of that refusal (runc's words where clients match them); `prefix` names the container. */
      refuse: (status: Status, prefix: (m: string) => string) => string;
    }
);

/** The container as an operation finds it. */
export interface Opened {
  readonly id: string;
  readonly store: Store;
  readonly rec: ContainerRecord;
  /** Its state directory. */
  readonly dir: string;
  /** Derived when first asked (status.ts: from the world, not the record), then fixed. */
  readonly status: Status;
  /** A message about this container: `container "id": m`. */
  prefix(m: string): string;
  /** Releases the lock early (exec, once its process is in); releasing again is harmless. */
  unlock(): void;
}

/** Refuses (kind 'state') the container's status unless it is in `allow`. */
export function requireStatus(c: Opened, allow: readonly Status[], refuse: (status: Status, prefix: (m: string) => string) => string): void {
  if (!allow.includes(c.status)) throw new HakoError(refuse(c.status, c.prefix), 'state');
}

/**
 * Runs `fn` on the container `id`, under its lock if asked, releasing the
 * lock when `fn` returns or, for an async `fn`, when its promise settles.
 */
export function withContainer<T>(
  ctx: Pick<RuntimeContext, 'root'> & Partial<Pick<RuntimeContext, 'log'>>,
  id: string,
  opts: AccessOptions,
  fn: (c: Opened) => T,
): T {
  const store = storeFor(ctx);
  const lock = opts.lock ? store.lock(id) : null;
  let settling = false;
  try {
    const rec = store.read(id);
    if (!rec) throw notFound(id);
    const dir = store.dir(id);
    let status: Status | undefined;
    const c: Opened = {
      id,
      store,
      rec,
      dir,
      get status() {
        return (status ??= statusOf(rec, dir));
      },
      prefix: inContainer(id),
      unlock: () => lock?.release(),
    };
    if (opts.allow) requireStatus(c, opts.allow, opts.refuse);
    const out = fn(c);
    if (lock && out instanceof Promise) {
      settling = true;
      return out.finally(() => lock.release()) as T;
    }
    return out;
  } finally {
    if (!settling) lock?.release();
  }
}

/**
 * The container's own cgroup, for operations that act on it (pause,
 * update, events). No cgroup (hako made none, or it is gone) is refused
 * with `missing`; a record whose cgroup cannot be told fails with
 * `failed(why)` when given, else with the error as it is.
 */
export function ownCgroup(c: Opened, missing: string, failed?: (why: string) => string): CgroupManager {
  let cg: CgroupManager | null;
  try {
    cg = containerCgroup(c.rec);
  } catch (e) {
    if (!failed) throw e;
    throw new HakoError(c.prefix(failed(describe(e))));
  }
  if (!cg?.exists()) throw new HakoError(c.prefix(missing), 'state');
  return cg;
}
