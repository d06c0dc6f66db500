// Shared by the integration tests: temporary state roots and bundles (each
// a fresh copy of the busybox rootfs), and running bin/hako as a user would.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, closeSync, cpSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const HAKO = path.join(REPO, 'bin/hako');
export const BUSYBOX_BUNDLE = path.join(REPO, 'bundles/busybox');

export const isRoot = process.getuid?.() === 0;

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

let counter = 0;
export function uniqueId(prefix = 't'): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

export class Env {
  readonly dir: string;
  readonly root: string;
  constructor() {
    this.dir = mkdtempSync('/tmp/hako-test-');
    // Containers in user namespaces run as unmapped-to-root uids: they must
    // be able to walk to their rootfs.
    chmodSync(this.dir, 0o755);
    this.root = path.join(this.dir, 'state');
  }

  /** A bundle with its own copy of the rootfs; `edit` changes the config. */
  bundle(edit?: (c: any) => void, name = uniqueId('b')): string {
    const b = path.join(this.dir, name);
    cpSync(path.join(BUSYBOX_BUNDLE, 'rootfs'), path.join(b, 'rootfs'), { recursive: true, verbatimSymlinks: true });
    const c = JSON.parse(readFileSync(path.join(BUSYBOX_BUNDLE, 'config.json'), 'utf8'));
    c.process.args = ['true'];
    edit?.(c);
    writeFileSync(path.join(b, 'config.json'), JSON.stringify(c, null, 2));
    return b;
  }

  /**
   * Runs bin/hako. Its output goes to files, not pipes: a container started
   * by `create` or `run -d` inherits hako's stdio and keeps pipes open long
   * after hako has exited, as it would under runc.
   */
  hako(args: string[], opts: SpawnSyncOptions = {}): Result {
    const n = ++counter;
    const outFile = path.join(this.dir, `.out-${n}`);
    const errFile = path.join(this.dir, `.err-${n}`);
    const out = openSync(outFile, 'w');
    const err = openSync(errFile, 'w');
    try {
      const r = spawnSync(HAKO, ['--root', this.root, ...args], { timeout: 60_000, stdio: ['ignore', out, err], ...opts });
      if (r.error) throw r.error;
      return { status: r.status, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') };
    } finally {
      closeSync(out);
      closeSync(err);
      rmSync(outFile, { force: true });
      rmSync(errFile, { force: true });
    }
  }

  /** Foreground run of `sh -c script` in a bundle; the container's stdout. */
  sh(script: string, edit?: (c: any) => void): Result {
    const b = this.bundle((c) => {
      c.process.args = ['sh', '-c', script];
      edit?.(c);
    });
    return this.hako(['run', '--bundle', b, uniqueId('c')]);
  }

  cleanup(): void {
    // Containers left by a failed test: force-delete them so nothing runs on.
    if (existsSync(this.root)) {
      for (const id of (JSON.parse(this.hako(['list', '--format', 'json']).stdout || 'null') ?? []).map((s: any) => s.id)) {
        this.hako(['delete', '--force', id]);
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Processes whose root directory is inside `dir`. */
export function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const root = readlinkSync(`/proc/${n}/root`);
      if (root.startsWith(dir)) pids.push(Number(n));
    } catch {
      /* gone or not ours to see */
    }
  }
  return pids;
}

/** `create` fails with one line matching `message` and leaves nothing behind: no state, pid file, process or mount. */
export function expectCleanFailure(env: Env, edit: (c: any) => void, message: RegExp, prepare?: (bundle: string) => void): void {
  const b = env.bundle(edit);
  prepare?.(b);
  const id = uniqueId('fail');
  const pidFile = path.join(env.dir, `${id}.pid`);
  const r = env.hako(['create', '--bundle', b, '--pid-file', pidFile, id]);
  assert.is(r.status, 1, `exit status (stderr: ${r.stderr})`);
  assert.match(r.stderr, message);
  assert.is(r.stderr.trim().split('\n').length, 1, 'one line');
  assert.match(r.stderr, new RegExp(`container "${id}"`));
  assert.is(existsSync(path.join(env.root, id)), false, 'no state directory');
  assert.is(existsSync(pidFile), false, 'no pid file');
  assert.equal(processesUnder(b), [], 'no process');
  assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(b), 'no mount');
}
