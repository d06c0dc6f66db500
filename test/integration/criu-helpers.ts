// Shared by the checkpoint tests (checkpoint.test.ts, checkpoint-flags.test.ts):
// whether criu can work here, a counting container, restore -d, and the
// checks that nothing of a container is left.
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { skip } from '../skip.js';
import { type Env, processesUnder } from '../helpers.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether criu can work here: `criu check` (it probes the kernel first). */
export function criuVerdict(): true | string {
  const r = spawnSync('criu', ['check'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) return `criu cannot run: ${(r.error as NodeJS.ErrnoException).code}`;
  if (r.status === 0) return true;
  return `criu check fails here: ${(r.stderr || r.stdout).trim().split('\n').pop()}`;
}

let verdict: true | string | undefined;
/** criu's verdict, asked once per test file. */
export function criuWorks(): true | string {
  verdict ??= criuVerdict();
  return verdict;
}

/** Skips the test where criu cannot work, but fails it in the criu lane (HAKO_TEST_CRIU=1). */
export function needCriu(): void {
  const v = criuWorks();
  if (v === true) return;
  if (process.env.HAKO_TEST_CRIU === '1') assert.unreachable(`HAKO_TEST_CRIU=1 but ${v}`);
  skip(v);
}

// The container's counter, in its own /dev/shm (criu dumps the tmpfs with
// it). Its stdio become the container's own /dev/null: what hako's caller
// gave it (files of the test) are not in the container's mount namespace.
export const COUNTER = 'exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i > /dev/shm/tick; usleep 50000; done';

/** A number the container writes (the last line of a file of its), or 0 before it has. */
export function tick(pid: number, file = '/dev/shm/tick'): number {
  try {
    const lines = readFileSync(`/proc/${pid}/root${file}`, 'utf8').trim().split('\n');
    return Number(lines[lines.length - 1]) || 0;
  } catch {
    return 0;
  }
}

export async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.unreachable(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export function gone(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

/** The helpers that run bin/hako in a test file's Env (`env` is read when called: suites make it in before()). */
export function criuHelpers(env: () => Env) {
  function ok(args: string[]): string {
    const r = env().hako(args);
    assert.is(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** `run -d`; its init's pid, once `ready` says so (by default: the counter has counted a little). */
  async function runD(id: string, b: string, ready: (pid: number) => boolean = (pid) => tick(pid) >= 5): Promise<number> {
    const pidFile = path.join(env().dir, `${id}.pid`);
    ok(['run', '-d', '--pid-file', pidFile, '--bundle', b, id]);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await until(`container ${id} to be ready`, () => ready(pid));
    return pid;
  }

  /** `run -d` of a counter; its init's pid, once it has counted a little. */
  const runCounter = (id: string, b: string, atLeast = 5) => runD(id, b, (pid) => tick(pid) >= atLeast);

  /** `restore -d`; the restored init's pid (from --pid-file). */
  function restoreD(id: string, b: string, images: string, extra: string[] = []): number {
    const pidFile = path.join(env().dir, `${id}.restored.pid`);
    ok(['restore', '-d', '--pid-file', pidFile, '--image-path', images, '--bundle', b, ...extra, id]);
    return Number(readFileSync(pidFile, 'utf8'));
  }

  function stateOf(id: string): { status: string; pid: number } {
    return JSON.parse(ok(['state', id]));
  }

  /** Nothing of container `id` is left: no state directory, cgroup, criu-root mount or process. */
  function nothingLeft(id: string, b: string): void {
    assert.not.ok(existsSync(path.join(env().root, id)), 'no state directory');
    assert.not.ok(existsSync(`/sys/fs/cgroup/${id}`), 'no cgroup');
    assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), /criu-root/, 'no criu-root mount');
    assert.equal(processesUnder(b), [], 'no process');
  }

  /** hako fails in one line naming the container, matching `why`. */
  function failsOneLine(args: string[], id: string, why: RegExp): string {
    const r = env().hako(args);
    assert.is(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`container "${id}"`));
    assert.match(r.stderr, why, r.stderr);
    return r.stderr;
  }

  return { ok, runD, runCounter, restoreD, stateOf, nothingLeft, failsOneLine };
}
