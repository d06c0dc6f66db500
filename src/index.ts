// hako as a library: the same operations the CLI performs, for TypeScript
// programs. Nothing here prints or exits; failures are HakoErrors.
export { HakoError, type ErrorKind } from './errors.js';
export type { RuntimeContext, LogLevel } from './container/context.js';
export { create, OCI_VERSION, type CreateOptions, type Created } from './container/create.js';
export { start } from './container/start.js';
export { killContainer as kill, type KillOptions } from './container/kill.js';
export { deleteContainer as delete, deleteContainer, type DeleteOptions } from './container/delete.js';
export { state, list } from './container/query.js';
export { run, type RunOptions } from './container/run.js';
export { exec } from './container/exec.js';
export { processes } from './container/ps.js';
export { pause, resume } from './container/pause.js';
export { update } from './container/update.js';
export { statsEvent, streamEvents } from './container/events.js';
export { DEFAULT_ROOT } from './container/store.js';
export type { OciState, Status } from './container/status.js';
export { loadSpec } from './spec/load.js';
export type { Spec } from './spec/types.js';
export { buildPlan, type Plan, type PlanOptions } from './launch/plan.js';

import type { RuntimeContext } from './container/context.js';
import { DEFAULT_ROOT } from './container/store.js';
import { defaultRoot, identity } from './container/rootless.js';

/**
 * A context with defaults: state under /run/hako (an unprivileged user's
 * under $XDG_RUNTIME_DIR/hako, as runc's), warnings dropped unless `log`
 * is given, --rootless auto.
 */
export function context(opts: Partial<RuntimeContext> = {}): RuntimeContext {
  return {
    root: opts.root ?? defaultRoot(process.env, identity(), DEFAULT_ROOT).root,
    debug: opts.debug ?? false,
    log: opts.log ?? (() => {}),
    ...(opts.rootless !== undefined ? { rootless: opts.rootless } : {}),
  };
}
