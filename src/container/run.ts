// `run`: create + start, then (in the foreground) wait for the init, which
// is our child thanks to CLONE_PARENT, forwarding signals to it; delete it
// afterwards unless --keep. Returns the exit status the CLI should use.
import { native } from '../native.js';
import type { RuntimeContext } from './context.js';
import { create, type CreateOptions } from './create.js';
import { deleteContainer } from './delete.js';
import { SignalForwarder } from './forward.js';
import { start } from './start.js';
import { ConsoleProxy, PTY_DRAIN_MS, receiveMaster } from './terminal.js';

export interface RunOptions extends CreateOptions {
  detach?: boolean;
  keep?: boolean;
}

export async function run(ctx: RuntimeContext, id: string, opts: RunOptions): Promise<number> {
  // In the foreground the pty master (if the config asks for a terminal)
  // comes to us: the far end of this pair is the init's console socket.
  const pair = opts.detach ? null : native().socketpair();
  let created;
  try {
    created = await create(ctx, id, { ...opts, foreground: pair ? { consoleFd: pair[1] } : undefined });
  } catch (e) {
    if (pair) native().close(pair[0]);
    throw e;
  } finally {
    if (pair) native().close(pair[1]);
  }
  const pid = created.pid;
  let proxy: ConsoleProxy | null = null;
  const signals = opts.detach ? null : new SignalForwarder();
  try {
    if (pair && created.spec.process?.terminal) {
      proxy = new ConsoleProxy(receiveMaster(pair[0]));
      // Window changes reach the container as sizes, through the proxy.
      signals?.leave('SIGWINCH');
    }
    await start(ctx, id);
  } catch (e) {
    signals?.stop();
    proxy?.stop();
    await deleteContainer(ctx, id, { force: true }).catch(() => {});
    throw e;
  } finally {
    if (pair) native().close(pair[0]);
  }
  if (!signals) return 0;
  let status: number;
  try {
    signals.target(pid);
    const r = await native().waitpidAsync(pid);
    status = r.signal !== null ? 128 + r.signal : (r.exitCode ?? 0);
    // The last of the output may still sit in the pty.
    await proxy?.drained(PTY_DRAIN_MS);
  } finally {
    signals.stop();
    proxy?.stop();
  }
  if (!opts.keep) await deleteContainer(ctx, id, { force: true });
  return status;
}
