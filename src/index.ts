// hako as a library: the operations the CLI performs, for Node programs
// (a long-running one too: see src/lib/api.ts). Every operation returns a
// Promise; nothing prints or exits; failures are HakoErrors whose `kind`
// says what went wrong.
export { HakoError, type ErrorKind } from './errors.js';
export type { RuntimeContext, LogLevel } from './container/context.js';
export {
  create,
  start,
  run,
  state,
  list,
  kill,
  wait,
  remove,
  remove as delete,
  exec,
  processes,
  pause,
  resume,
  update,
  stats,
  events,
  explain,
  type CreateOptions,
  type Container,
  type ExecOptions,
  type ExecProcess,
  type KillOptions,
  type DeleteOptions,
  type ExitStatus,
  type Signal,
  type StdioOption,
  type StdioStreams,
  type StreamOptions,
  type StatsEvent,
  type Explanation,
  type ExplainOptions,
} from './lib/api.js';
export { signalNumber } from './lib/signals.js';
export { OCI_VERSION } from './spec/version.js';
export { DEFAULT_ROOT } from './container/store.js';
export type { OciState, Status } from './container/status.js';
export { loadSpec } from './spec/load.js';
export { defaultSpec, type DefaultSpecOptions } from './spec/default.js';
export type { Spec, LinuxResources, Process } from './spec/types.js';
export { buildPlan, type Plan, type PlanOptions } from './launch/plan.js';

import type { RuntimeContext } from './container/context.js';
import { DEFAULT_ROOT } from './container/store.js';
import { defaultRoot, identity } from './container/rootless-identity.js';

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
