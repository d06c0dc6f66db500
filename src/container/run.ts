// `run`: create + start, then (in the foreground) wait for the init, which
// is our child thanks to CLONE_PARENT, forwarding signals to it; delete it
// afterwards unless --keep. Returns the exit status the CLI should use.
import { native } from '../native.js';
import type { RuntimeContext } from './context.js';
import { create, type CreateOptions } from './create.js';
import { deleteContainer } from './delete.js';
import { start } from './start.js';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  keep?: boolean;
}

// Everything a terminal or a supervisor may send, except what is about us
// (SIGCHLD) or cannot be caught.
const FORWARD: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGALRM', 'SIGPIPE'];

export async function run(ctx: RuntimeContext, id: string, opts: RunOptions): Promise<number> {
  const { pid } = await create(ctx, id, opts);
  try {
    await start(ctx, id);
  } catch (e) {
    await deleteContainer(ctx, id, { force: true }).catch(() => {});
    throw e;
  }
  if (opts.detach) return 0;
  const { constants } = await import('node:os');
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const s of FORWARD) {
    const h = () => {
      try {
        native().kill(pid, constants.signals[s]);
      } catch {
        /* exited */
      }
    };
    handlers.set(s, h);
    process.on(s, h);
  }
  let status: number;
  try {
    const r = await native().waitpidAsync(pid);
    status = r.signal !== null ? 128 + r.signal : (r.exitCode ?? 0);
  } finally {
    for (const [s, h] of handlers) process.off(s, h);
  }
  if (!opts.keep) await deleteContainer(ctx, id, { force: true });
  return status;
}
