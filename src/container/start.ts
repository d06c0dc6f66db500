// `start`: open exec.fifo for reading, which lets the blocked init go on;
// read what it says (a "0" and then EOF when execve closed the fifo, or the
// reason it could not run); then the poststart hooks.
import { closeSync, constants, openSync, readSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { HakoError, describe } from '../errors.js';
import { runHooks } from '../hooks/run.js';
import { withContainer } from './access.js';
import type { RuntimeContext } from './context.js';
import { killContainer } from './kill.js';
import { ociState, type Status } from './status.js';
import { isAlive } from './proc.js';
import { native } from '../native.js';
import { FIFO_FILE } from './store.js';

/**
 * Opens exec.fifo without blocking (a dead init would leave a blocking open
 * waiting forever) and reads it to end of file: "0" once execve has closed
 * it, or the reason the init could not get there. Synchronous, with poll(2):
 * the JavaScript engines differ in what their streams make of a FIFO, and
 * there is nothing else to do meanwhile.
 *
 * A non-blocking reader that came before any writer is not woken by the
 * absence of one (Linux reports POLLHUP only once a writer has been and
 * gone), so poll waits for the init to open its end, however late; the
 * timeout only lets us notice an init that died before it did.
 */
function releaseInit(fifo: string, alive: () => boolean, prefix: (m: string) => string): string {
  const n = native();
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new HakoError(prefix(`cannot open ${fifo}: ${describe(e)}`));
  }
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(4096);
    for (;;) {
      const ev = n.poll(fd, n.constants.POLLIN, 200);
      if (ev === 0) {
        if (!alive()) break;
        continue;
      }
      let got: number;
      try {
        got = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
        throw new HakoError(prefix(`cannot read ${fifo}: ${describe(e)}`));
      }
      if (got === 0) break;
      chunks.push(Buffer.from(buf.subarray(0, got)));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export async function start(ctx: RuntimeContext, id: string): Promise<void> {
  const refuse = (status: Status, prefix: (m: string) => string) =>
    prefix(status === 'stopped' ? 'cannot start a container that has stopped' : `cannot start an already ${status} container`);
  await withContainer(ctx, id, { lock: true, allow: ['created'], refuse }, async ({ store, rec, dir, prefix }) => {
    // Read before the init is released: a damaged config fails start with
    // the container still waiting, not after it runs.
    const spec = store.readConfig(id);
    const fifo = path.join(dir, FIFO_FILE);
    const said = releaseInit(fifo, () => isAlive(rec.pid, rec.initStartTime), prefix);
    try {
      unlinkSync(fifo);
    } catch {
      /* gone already */
    }
    // "0" alone: execve closed the fifo, the process runs. "0" and text:
    // execve failed after the go-ahead. Text alone: a startContainer hook or
    // the last setup step failed. Nothing: the init died.
    if (said !== '0') {
      const why = said === '' ? 'the container init exited before start' : said.startsWith('0') ? said.slice(1) : said;
      throw new HakoError(prefix(why.trim()));
    }
    if (spec.hooks?.poststart?.length) {
      try {
        await runHooks('poststart', spec.hooks.poststart, JSON.stringify(ociState(rec, 'running')));
      } catch (e) {
        // runtime-spec 1.3: a failing poststart hook fails the operation and stops the container.
        try {
          killContainer(ctx, id, 9, { all: true, locked: true });
        } catch {
          /* already gone */
        }
        throw new HakoError(prefix(describe(e)));
      }
    }
  });
}
