// A long-running library user in miniature (test/integration/library.test.ts):
// runs N containers through the API, `concurrency` at a time, each created,
// started, waited for and deleted; half of them exit by themselves (status
// 7, after a line on a stdout pipe), half are killed (by name or by
// number). Then it reports what it is left with: its children (any zombie
// would be one) and its open fds, counted before (after one warm-up
// container) and after.
//
// Usage: node out/test/library-churn.js ROOT EXIT_BUNDLE SLEEP_BUNDLE N CONCURRENCY
//        node out/test/library-churn.js ROOT EXIT_BUNDLE SLEEP_BUNDLE core
import { readFileSync, readdirSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import * as hako from '../src/index.js';

const [root, exitBundle, sleepBundle, nText, cText] = process.argv.slice(2) as [string, string, string, string, string];
const ctx = hako.context({ root });
// A pid namespace's init takes only SIGKILL from outside (it has no handlers).
const KILLS: hako.Signal[] = ['KILL', 'SIGKILL', 9, 'sigkill'];

/** Our children and their states ("1234 Z"), from every thread's list. */
function children(): string[] {
  const out: string[] = [];
  for (const task of readdirSync('/proc/self/task')) {
    for (const pid of readFileSync(`/proc/self/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) {
      let st = '?';
      try {
        st = readFileSync(`/proc/${pid}/stat`, 'utf8')
          .replace(/^.*\) /s, '')
          .split(' ')[0]!;
      } catch {
        /* reaped meanwhile */
      }
      out.push(`${pid} ${st}`);
    }
  }
  return out;
}

const fds = () => readdirSync('/proc/self/fd').length;

async function one(i: number, tag: string): Promise<string> {
  const id = `churn-${process.pid}-${tag}-${i}`;
  const killed = i % 2 === 1;
  // The ones that exit say something first, through a pipe read here.
  const c = await hako.run(ctx, id, { bundle: killed ? sleepBundle : exitBundle, stdio: ['ignore', killed ? 'ignore' : 'pipe', 'ignore'] });
  const sig = KILLS[(i >> 1) % KILLS.length]!;
  if (killed) await hako.kill(ctx, id, sig);
  const [s, out] = await Promise.all([hako.wait(ctx, id), c.stdout ? text(c.stdout) : '']);
  await hako.remove(ctx, id);
  return killed ? `${String(sig)}:${s.signal}` : `exit:${s.exitCode}:${out.trim()}`;
}

/**
 * The control: the same container through src/container/* (what the CLI
 * uses), which nothing reaps here. Reports our children once the init has
 * exited: it is a zombie of ours. Reaped at the end, to leave nothing.
 */
async function core(): Promise<void> {
  const { create } = await import('../src/container/create.js');
  const { start } = await import('../src/container/start.js');
  const { deleteContainer } = await import('../src/container/delete.js');
  const { native } = await import('../src/native.js');
  const id = `churn-${process.pid}-core`;
  const { pid } = await create(ctx, id, { bundle: exitBundle, stdio: ['ignore', 'ignore', 'ignore'] });
  await start(ctx, id);
  // Its exit, without reaping it: the pidfd turns readable.
  const fd = native().pidfdOpen(pid);
  native().poll(fd, native().constants.POLLIN, -1);
  native().close(fd);
  const seen = children();
  await deleteContainer(ctx, id, {});
  native().waitpid(pid, false);
  console.log(JSON.stringify({ children: seen, after: children() }));
}

if (nText === 'core') {
  await core();
  process.exit(0);
}

await one(0, 'warm');
const before = fds();
const n = Number(nText);
const results: string[] = [];
let next = 0;
await Promise.all(
  Array.from({ length: Number(cText) }, async () => {
    while (next < n) {
      const i = next++;
      results[i] = await one(i, 'c');
    }
  }),
);
console.log(JSON.stringify({ before, after: fds(), children: children(), results, left: (await hako.list(ctx)).map((s) => s.id) }));
