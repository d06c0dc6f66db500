// The state directory: one directory per container under --root, holding
// state.json (written atomically), a copy of the config it was created
// from, and exec.fifo until `start`. Every command that changes a container
// holds an flock on its directory.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { HakoError, notFound } from '../errors.js';
import { native } from '../native.js';

export const DEFAULT_ROOT = '/run/hako';
export const STATE_FILE = 'state.json';
export const CONFIG_FILE = 'config.json';
export const FIFO_FILE = 'exec.fifo';

/** What hako records about a container (a superset of the OCI state). */
export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** Host pid of the container init; 0 before it exists. */
  pid: number;
  /** /proc/PID/stat start time of the init, to detect pid reuse. */
  initStartTime: string;
  bundle: string;
  rootfs: string;
  /** RFC 3339 with nanoseconds. */
  created: string;
  owner: string;
  annotations?: Record<string, string>;
  /** Set while `create` runs; the creating process's pid and start time. */
  creating?: { pid: number; startTime: string };
  /** Namespaces the container created (CLONE_* flags). */
  newNamespaces: number;
  /** Host directories of the container's cgroup by hierarchy (CgroupManager.dirs). */
  cgroup?: Record<string, string>;
  /** Created with --systemd-cgroup: the cgroup is this systemd unit's. */
  systemd?: { unit: string; slice: string; kind: 'scope' | 'slice'; cgroup: string };
  /** Created with --no-new-keyring: exec processes keep the caller's session keyring too. */
  noNewKeyring?: boolean;
}

export class Store {
  readonly root: string;
  constructor(root = DEFAULT_ROOT) {
    this.root = path.resolve(root);
  }

  dir(id: string): string {
    return path.join(this.root, id);
  }

  ensureRoot(): void {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
  }

  /**
   * Claims an id: mkdir is atomic, so of two concurrent creates exactly one
   * gets the directory. Returns the held lock.
   */
  claim(id: string, rootlessEuid?: number): Lock {
    try {
      this.ensureRoot();
      mkdirSync(this.dir(id), { mode: 0o700 });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        throw new HakoError(`container with id ${JSON.stringify(id)} already exists`, 'exists');
      }
      // The usual first stumble of a rootless user: say what to do.
      const hint =
        (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') && rootlessEuid !== undefined
          ? `; hako runs as uid ${rootlessEuid}: use a state root the user owns (--root, or XDG_RUNTIME_DIR, which makes it $XDG_RUNTIME_DIR/hako)`
          : '';
      throw new HakoError(`cannot create state directory ${this.dir(id)}: ${(e as Error).message}${hint}`);
    }
    try {
      return Lock.take(this.dir(id), id);
    } catch (e) {
      // Nothing is left behind: an empty directory would make the id look taken.
      this.remove(id);
      throw e;
    }
  }

  /** Locks an existing container; throws "does not exist" if there is none. */
  lock(id: string): Lock {
    let lock: Lock;
    try {
      lock = Lock.take(this.dir(id), id);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') throw notFound(id);
      throw e;
    }
    // A delete that held the lock before us may have removed the directory.
    if (this.read(id) === null) {
      lock.release();
      throw notFound(id);
    }
    return lock;
  }

  read(id: string): ContainerRecord | null {
    let text: string;
    try {
      text = readFileSync(path.join(this.dir(id), STATE_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw e;
    }
    try {
      return JSON.parse(text) as ContainerRecord;
    } catch {
      throw new HakoError(`container ${JSON.stringify(id)}: ${path.join(this.dir(id), STATE_FILE)} is corrupt`);
    }
  }

  /** write, fsync, rename, fsync the directory: a reader sees the old or the new file, whole. */
  write(rec: ContainerRecord): void {
    writeAtomic(path.join(this.dir(rec.id), STATE_FILE), JSON.stringify(rec));
  }

  readConfigText(id: string): string {
    return readFileSync(path.join(this.dir(id), CONFIG_FILE), 'utf8');
  }

  ids(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}

export function writeAtomic(file: string, data: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  native().fsyncDir(path.dirname(file));
}

/** An flock on a container directory, held until release() or exit. */
export class Lock {
  private constructor(private fd: number) {}

  static take(dir: string, id: string): Lock {
    const fd = openSync(dir, 'r');
    try {
      native().flock(fd, 'ex', false);
    } catch (e) {
      closeSync(fd);
      throw new HakoError(`container ${JSON.stringify(id)}: cannot lock ${dir}: ${(e as Error).message}`);
    }
    return new Lock(fd);
  }

  release(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}

export function writeSmallFile(file: string, data: string): void {
  writeFileSync(file, data);
}
