// Shared by the state fault tests (state-faults, state-kill): bin/hako with
// any state root, a container's cgroup directories, and the check that
// nothing of a container is left.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { HAKO, processesUnder, uniqueId, type Env, type Result } from '../helpers.js';

/** bin/hako with `--root root`; output through files (a created init inherits them). */
export function hk(env: Env, root: string, args: string[], opts: SpawnSyncOptions = {}): Result {
  const base = path.join(env.dir, `.hk-${uniqueId('o')}`);
  const out = openSync(`${base}.out`, 'w');
  const err = openSync(`${base}.err`, 'w');
  try {
    const r = spawnSync(HAKO, ['--root', root, ...args], { timeout: 60_000, stdio: ['ignore', out, err], ...opts });
    if (r.error) throw r.error;
    return { status: r.status, stdout: readFileSync(`${base}.out`, 'utf8'), stderr: readFileSync(`${base}.err`, 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(`${base}.out`, { force: true });
    rmSync(`${base}.err`, { force: true });
  }
}

/** The record of a container, read straight from its state.json. */
export function record(root: string, id: string): any {
  return JSON.parse(readFileSync(path.join(root, id, 'state.json'), 'utf8'));
}

/** The host directories of the container's cgroup, from its record. */
export function cgroupDirs(root: string, id: string): string[] {
  return Object.values((record(root, id).cgroup ?? {}) as Record<string, string>);
}

/** Nothing of the container is left: no entry at all in its state root (no state or work directory, no temporary file), no cgroup, no process, no mount. */
/** Processes holding an fd to a path under `dir` (the init of a create killed before its record holds its exec.fifo there). */
export function holdersOf(dir: string): number[] {
  const pids: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n) || Number(n) === process.pid) continue;
    try {
      if (readdirSync(`/proc/${n}/fd`).some((fd) => readlinkSync(`/proc/${n}/fd/${fd}`).startsWith(`${dir}/`))) pids.push(Number(n));
    } catch {
      /* gone, or not ours to see */
    }
  }
  return pids;
}

const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * The init of a create killed before it recorded the init is in no record
 * and no cgroup: it ends by itself when it sees the runtime's end of the
 * sync socket close. Waits for that (a deadline, not a timing assertion):
 * one still there then is stuck (stopped, or deaf to the close).
 */
function assertNoHolders(root: string, what: string): void {
  let left = holdersOf(root);
  for (let i = 0; i < 200 && left.length; i++) {
    pause(50);
    left = holdersOf(root);
  }
  const state = (p: number) => {
    try {
      const st = readFileSync(`/proc/${p}/stat`, 'latin1');
      return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    } catch {
      return 'gone';
    }
  };
  assert.equal(
    left.map((p) => `${p} ${state(p)}`),
    [],
    `${what}: no process holds a file of the state root ${root}`,
  );
}

export function assertNothingLeft(root: string, dirs: readonly string[], bundle: string, what: string): void {
  assertNoHolders(root, what);
  const entries = existsSync(root) ? readdirSync(root) : [];
  assert.equal(entries, [], `${what}: state root ${root} is empty`);
  for (const d of dirs) assert.not.ok(existsSync(d), `${what}: cgroup ${d} is gone`);
  assert.equal(processesUnder(bundle), [], `${what}: no process of the container`);
  assert.not.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(bundle), `${what}: no mount of the bundle`);
}

/** A line of stderr that is an error (not a warning). */
export const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l !== '' && !/level=warn/.test(l));

/** The messages of the warning lines on stderr (the text log: msg is a JSON string). */
export const warnings = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => /level=warn/.test(l))
    .map((l) => JSON.parse(/msg=(".*")$/.exec(l)?.[1] ?? '""') as string);

/**
 * For a suite's after(): force-deletes whatever is left in the state roots
 * a failed test used (Env.cleanup knows only env.root), so that a failure
 * leaves no container running.
 */
export function cleanupRoots(env: Env, roots: Iterable<string>): void {
  for (const root of roots) {
    if (!existsSync(root)) continue;
    for (const id of readdirSync(root)) {
      if (!id.startsWith('.')) hk(env, root, ['delete', '--force', id]);
    }
    // Sweeps work directories (their owners are gone by now).
    hk(env, root, ['delete', '--force', 'cleanup-sweep']);
  }
}
