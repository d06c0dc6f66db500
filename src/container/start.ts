// `start`: open exec.fifo for reading, which lets the blocked init go on;
// read what it says (a "0" and then EOF when execve closed the fifo, or the
// reason it could not run); then the poststart hooks.
import { constants, openSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import path from 'node:path';
import { HakoError, describe, notFound } from '../errors.js';
import { runHooks } from '../hooks/run.js';
import type { Spec } from '../spec/types.js';
import type { RuntimeContext } from './context.js';
import { killContainer } from './kill.js';
import { ociState, statusOf } from './status.js';
import { isAlive } from './proc.js';
import { FIFO_FILE, Store } from './store.js';

function readAll(fd: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    s.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Opens exec.fifo without blocking (a dead init would leave a blocking open
 * waiting forever) and reads to EOF. The init opens its end just after it
 * reports ready, so a reader can come first and see EOF at once: while the
 * init lives, try again.
 */
async function releaseInit(fifo: string, alive: () => boolean, where: (m: string) => string): Promise<string> {
  for (let i = 0; ; i++) {
    let fd: number;
    try {
      fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      throw new HakoError(where(`cannot open ${fifo}: ${describe(e)}`));
    }
    const said = await readAll(fd);
    if (said !== '' || !alive()) return said;
    if (i > 2000) throw new HakoError(where('the container init does not open exec.fifo'));
    await sleep(i < 50 ? 1 : 10);
  }
}

export async function start(ctx: RuntimeContext, id: string): Promise<void> {
  const store = new Store(ctx.root);
  const lock = store.lock(id);
  const where = (m: string) => `container ${JSON.stringify(id)}: ${m}`;
  try {
    const rec = store.read(id);
    if (!rec) throw notFound(id);
    const dir = store.dir(id);
    const status = statusOf(rec, dir);
    if (status === 'stopped') throw new HakoError(where('cannot start a container that has stopped'), 'state');
    if (status !== 'created') throw new HakoError(where(`cannot start an already ${status} container`), 'state');
    const fifo = path.join(dir, FIFO_FILE);
    const said = await releaseInit(fifo, () => isAlive(rec.pid, rec.initStartTime), where);
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
      throw new HakoError(where(why.trim()));
    }
    const spec = JSON.parse(store.readConfigText(id)) as Spec;
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
        throw new HakoError(where(describe(e)));
      }
    }
  } finally {
    lock.release();
  }
}
