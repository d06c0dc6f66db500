// `state` and `list`: read-only, no lock, no native addon (kept lean).
import { notFound } from '../errors.js';
import type { RuntimeContext } from './context.js';
import { ociState, statusOf, type OciState } from './status.js';
import { Store } from './store.js';

export function state(ctx: Pick<RuntimeContext, 'root'>, id: string): OciState {
  const store = new Store(ctx.root);
  const rec = store.read(id);
  if (!rec) throw notFound(id);
  return ociState(rec, statusOf(rec, store.dir(id)));
}

export function list(ctx: Pick<RuntimeContext, 'root'>): OciState[] {
  const store = new Store(ctx.root);
  const out: OciState[] = [];
  for (const id of store.ids()) {
    let rec;
    try {
      rec = store.read(id);
    } catch {
      continue;
    }
    if (rec) out.push(ociState(rec, statusOf(rec, store.dir(id))));
  }
  return out;
}
