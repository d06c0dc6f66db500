// `state` and `list`: read-only, no lock, no native addon (kept lean).
//
// A container directory whose record cannot be read (both copies damaged
// or gone: see store.ts) is still shown, as a stopped container with no
// pid, and a one-line warning says what is wrong and that `delete --force`
// removes it: one bad entry never makes `list` fail for the whole root,
// and `state` tells a client what `delete` will find.
import path from 'node:path';
import { describe, notFound } from '../errors.js';
import type { RuntimeContext } from './context.js';
import { ociState, statusOf, type OciState } from './status.js';
import { OCI_VERSION } from '../spec/version.js';
import { damagedError, storeFor, type Entry, type Store } from './store.js';
import { ownerName, ownerUid } from './rootless-identity.js';

type QueryContext = Pick<RuntimeContext, 'root'> & Partial<Pick<RuntimeContext, 'log'>>;

/** What is shown for a directory without a usable record: stopped, nothing known. */
export function damagedState(id: string): OciState {
  return { ociVersion: OCI_VERSION, id, pid: 0, status: 'stopped', bundle: '', rootfs: '', created: '', owner: '' };
}

function shown(ctx: QueryContext, store: Store, id: string, entry: Entry): OciState {
  if (entry.damage !== undefined) {
    ctx.log?.('warn', damagedError(id, entry.damage).message);
    return damagedState(id);
  }
  if (entry.warning) ctx.log?.('warn', entry.warning);
  return ociState(entry.rec, statusOf(entry.rec, store.dir(id)));
}

export function state(ctx: QueryContext, id: string): OciState {
  const store = storeFor(ctx);
  const entry = store.load(id);
  if (!entry) throw notFound(id);
  return shown(ctx, store, id, entry);
}

export function list(ctx: QueryContext): OciState[] {
  const store = storeFor(ctx);
  const out: OciState[] = [];
  for (const id of store.ids()) {
    try {
      const entry = store.load(id);
      // null: deleted since the directory was listed.
      if (entry) out.push(shown(ctx, store, id, entry));
    } catch (e) {
      // Whatever else goes wrong with one entry stays with it.
      ctx.log?.('warn', `container ${JSON.stringify(id)}: ${describe(e)}`);
      out.push(damagedState(id));
    }
  }
  return out;
}

/**
 * list() with OWNER as runc's list shows it: a record without an owner gets
 * whoever owns its state directory (so a rootless user's containers show
 * that user), "#uid" without a passwd entry.
 */
export function listWithOwners(ctx: QueryContext): OciState[] {
  return list(ctx).map((s) => {
    const uid = ownerUid(path.join(ctx.root, s.id));
    return { ...s, owner: s.owner || (uid === undefined ? '' : ownerName(uid)) };
  });
}
