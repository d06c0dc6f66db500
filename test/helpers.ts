// Shared by the integration tests: temporary state roots and bundles (each
// a fresh copy of the busybox rootfs), and running bin/hako as a user would.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
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

  hako(args: string[], opts: SpawnSyncOptions = {}): Result {
    const r = spawnSync(HAKO, ['--root', this.root, ...args], { encoding: 'utf8', timeout: 60_000, ...opts });
    if (r.error) throw r.error;
    return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
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
      for (const id of JSON.parse(this.hako(['list', '--format', 'json']).stdout || '[]').map((s: any) => s.id)) {
        this.hako(['delete', '--force', id]);
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
