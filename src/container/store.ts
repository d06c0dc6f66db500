// The state directory: one directory per container under --root, holding
// state.json and its copy state.json.bak (the record, each written
// atomically), a copy of the config it was created from, and exec.fifo
// until `start`. Every command that changes a container holds an flock on
// its directory.
//
// What a SIGKILL at any instant, a full disk or a damaged file can leave,
// and why it stays harmless:
//  - A container directory appears whole or not at all: `create` builds it
//    under a work name (".tmp-PID-STARTTIME-RANDOM", with the record and the
//    config written and checked) and renames it into place; `delete` renames
//    it out of the way before removing it. A work directory whose owner is
//    dead is garbage (it holds files only: no cgroup or process is made
//    before the rename), and create and delete sweep it away. So the id is
//    never blocked by half a directory, and `list` never sees one.
//  - Every write is checked whole (short writes, ENOSPC at write, fsync,
//    close or rename) and lands by rename: a reader sees the old file or
//    the new one.
//  - The record is written twice, state.json then state.json.bak, so one
//    damaged file still leaves a record that names the cgroup and the init
//    (with its start time, so a reused pid is never taken for it). With
//    both gone the entry is "damaged": listed with a warning, and `delete
//    --force` works from the config and the id (src/container/delete.ts).
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { errnoCode, errnoText } from '../cgroups/cgroup-error.js';
import { HakoError, InnerError, inContainer, notFound, toHakoError } from '../errors.js';
import type { RuntimeContext } from './context.js';
import { native } from '../native.js';
import { validateId, isValidId } from './ids.js';
import { isAlive, procStat } from './proc.js';
import { RecordError, parseRecord } from './record.js';
import type { Spec } from '../spec/types.js';
import type { RootfsMounts } from './rootfs-mounts.js';

/** Where state lives when no root is given (root's; an unprivileged user's is under $XDG_RUNTIME_DIR). */
export const DEFAULT_ROOT = '/run/hako';
export const STATE_FILE = 'state.json';
/** The record's second copy: written after state.json, read when state.json is unusable. */
export const BACKUP_FILE = 'state.json.bak';
export const CONFIG_FILE = 'config.json';
export const FIFO_FILE = 'exec.fifo';
/** A state file larger than this is not ours (annotations are the only unbounded part). */
const MAX_STATE_BYTES = 16 << 20;

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
  /**
   * Parent directories of the cgroup that hako made (or that another
   * container of this root claims), for delete to rmdir when empty
   * (src/container/cgroup-parents.ts). Absent in older records: nothing but
   * the cgroup itself is removed.
   */
  cgroupParents?: string[];
  /**
   * Without a mount namespace of its own: the mounts below the rootfs
   * before create, and those it made, for delete to unmount
   * (src/container/rootfs-mounts.ts). Absent in older records.
   */
  rootfsMounts?: RootfsMounts;
  /** Created with --systemd-cgroup: the cgroup is this systemd unit's. */
  systemd?: { unit: string; slice: string; kind: 'scope' | 'slice'; cgroup: string };
  /** Created with --no-new-keyring: exec processes keep the caller's session keyring too. */
  noNewKeyring?: boolean;
}

/**
 * A container directory as found: its record (from state.json, or from the
 * copy with `warning` saying why), or `damage`: why neither copy is usable.
 */
export type Entry = { rec: ContainerRecord; warning?: string; damage?: undefined } | { rec?: undefined; warning?: undefined; damage: string };

export interface StoreOptions {
  /** Where a record read from its copy is reported (one line). */
  warn?: (message: string) => void;
}

/** A write of state that did not land whole: `cannot write FILE: CAUSE`. */
export class WriteError extends InnerError {
  constructor(
    readonly file: string,
    cause: unknown,
  ) {
    super(`cannot write ${file}: ${cause instanceof WriteError ? cause.message : errnoText(cause)}`, 'system');
    this.name = 'WriteError';
  }
}

const q = (id: string) => JSON.stringify(id);

/** The reason a file could not be read, in words. */
function readProblem(e: unknown): string {
  if (e instanceof RecordError) return e.message;
  switch (errnoCode(e)) {
    case 'ENOENT':
      return 'missing';
    case 'ELOOP':
      return 'a symbolic link, not a file';
    default:
      return errnoText(e);
  }
}

/** The text of a state file: a regular file, not followed through a link, not endless. */
function readStateFile(file: string): string {
  // O_NONBLOCK: a FIFO put in its place must not hang the reader.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new RecordError(st.isDirectory() ? 'a directory, not a file' : 'not a regular file');
    if (st.size > MAX_STATE_BYTES) throw new RecordError(`too large (${st.size} bytes)`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

let ownStart: string | undefined;
/**
 * A work directory's name: whose it is (pid and start time) and a random
 * part. The random part comes from the global Web Crypto object, not
 * node:crypto: loading that module (and the stream modules it pulls in)
 * cost about 2.5 ms and 7 MiB of every command (bench/README.md).
 */
function workName(): string {
  ownStart ??= procStat(process.pid)?.startTime ?? '';
  const r = crypto.getRandomValues(new Uint32Array(1))[0]!;
  return `.tmp-${process.pid}-${ownStart}-${r.toString(16).padStart(8, '0')}`;
}

/** The owner named by a work directory's name, or null for any other name. */
export function parseWorkName(name: string): { pid: number; startTime: string } | null {
  const m = /^\.tmp-(\d+)-(\d*)-[0-9a-f]+$/.exec(name);
  return m ? { pid: Number(m[1]), startTime: m[2]! } : null;
}

export class Store {
  readonly root: string;
  constructor(
    root = DEFAULT_ROOT,
    private readonly opts: StoreOptions = {},
  ) {
    this.root = path.resolve(root);
  }

  /** The container's directory; the id is checked first (nothing outside the root is ever named). */
  dir(id: string): string {
    validateId(id);
    return path.join(this.root, id);
  }

  ensureRoot(): void {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
  }

  /**
   * Claims an id with its first record and config: they are written in a
   * work directory, which is then renamed to the id. A rename onto a
   * container's directory fails (it is never empty), so of concurrent
   * creates exactly one gets the id. Returns the held lock.
   */
  claim(id: string, first: { record: ContainerRecord; config: string }, rootlessEuid?: number): Lock {
    const dir = this.dir(id);
    const cannot = (e: unknown) => {
      const code = errnoCode(e);
      // The usual first stumble of a rootless user: say what to do.
      const hint =
        (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') && rootlessEuid !== undefined
          ? `; hako runs as uid ${rootlessEuid}: use a state root the user owns (--root, or XDG_RUNTIME_DIR, which makes it $XDG_RUNTIME_DIR/hako)`
          : '';
      return new HakoError(`container ${q(id)}: cannot create state directory ${dir}: ${errnoText(e)}${hint}`);
    };
    let work: string;
    try {
      this.ensureRoot();
      this.sweep();
      work = path.join(this.root, workName());
      mkdirSync(work, { mode: 0o700 });
    } catch (e) {
      throw cannot(e);
    }
    let lock: Lock | undefined;
    let placed = false;
    try {
      lock = Lock.take(work, id);
      const json = JSON.stringify(first.record);
      writeWhole(path.join(work, CONFIG_FILE), first.config, path.join(dir, CONFIG_FILE));
      writeWhole(path.join(work, STATE_FILE), json, path.join(dir, STATE_FILE));
      writeWhole(path.join(work, BACKUP_FILE), json, path.join(dir, BACKUP_FILE));
      syncDir(work, dir);
      try {
        renameSync(work, dir);
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new HakoError(`container with id ${q(id)} already exists`, 'exists');
        throw cannot(e);
      }
      placed = true;
      syncDir(this.root);
      return lock;
    } catch (e) {
      lock?.release();
      if (placed) this.remove(id);
      else rmSync(work, { recursive: true, force: true });
      // A write that did not land is placed in the container; what claim itself threw (cannot()) already is.
      throw e instanceof InnerError ? toHakoError(e, inContainer(id)) : e;
    }
  }

  /** Locks an existing container; throws "does not exist" if there is none. */
  lock(id: string): Lock {
    const dir = this.dir(id);
    for (let tries = 0; ; tries++) {
      let lock: Lock;
      try {
        lock = Lock.take(dir, id);
      } catch (e) {
        const code = errnoCode(e);
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') throw notFound(id);
        throw e;
      }
      // A delete moves the directory away while holding the lock: what we
      // waited for may be gone, or be another container of the same id.
      if (lock.isAt(dir)) return lock;
      lock.release();
      if (tries === 100) throw new HakoError(`container ${q(id)}: cannot lock ${dir}: it keeps being replaced`);
    }
  }

  /**
   * The container's directory as found, or null when there is none. Never
   * throws for a damaged directory: that is what `damage` says.
   */
  load(id: string): Entry | null {
    const dir = this.dir(id);
    const problems: string[] = [];
    for (const name of [STATE_FILE, BACKUP_FILE]) {
      const file = path.join(dir, name);
      try {
        const rec = parseRecord(readStateFile(file), id);
        return problems.length ? { rec, warning: `container ${q(id)}: ${problems[0]}; using ${file}` } : { rec };
      } catch (e) {
        problems.push(`${file}: ${readProblem(e)}`);
      }
    }
    // Neither copy: gone (deleted meanwhile), or damaged.
    try {
      if (!lstatSync(dir).isDirectory()) return null;
    } catch {
      return null;
    }
    return { damage: problems.join('; ') };
  }

  /** The record, or null when the container does not exist; a damaged one is an error naming the files. */
  read(id: string): ContainerRecord | null {
    const e = this.load(id);
    if (!e) return null;
    if (e.damage !== undefined) throw damagedError(id, e.damage);
    if (e.warning) this.opts.warn?.(e.warning);
    return e.rec;
  }

  /**
   * Both copies, one after the other, each whole or not at all. Throws
   * WriteError. `interim`: a record the same command replaces with another
   * write before it returns (create's record of the init, still
   * "creating"): its files are synced before their renames as always, so a
   * power cut leaves the old record or this one, whole; only the directory
   * sync, which makes the renames themselves durable, is left to the write
   * that replaces it (an fsync, about 2 ms on a busy ext4, less per create).
   */
  write(rec: ContainerRecord, opts: { interim?: boolean } = {}): void {
    const dir = this.dir(rec.id);
    const json = JSON.stringify(rec);
    writeWhole(path.join(dir, STATE_FILE), json);
    writeWhole(path.join(dir, BACKUP_FILE), json);
    if (!opts.interim) syncDir(dir);
  }

  readConfigText(id: string): string {
    return readFileSync(path.join(this.dir(id), CONFIG_FILE), 'utf8');
  }

  /** The config the container was created from; a damaged one is an error naming the file. */
  readConfig(id: string): Spec {
    const file = path.join(this.dir(id), CONFIG_FILE);
    let value: unknown;
    try {
      value = JSON.parse(readStateFile(file));
    } catch (e) {
      const why = e instanceof SyntaxError ? `not JSON (${e.message.replace(/\s*\n\s*/g, '; ')})` : readProblem(e);
      throw new HakoError(`container ${q(id)}: ${file}: ${why}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HakoError(`container ${q(id)}: ${file}: must be an object`);
    return value as Spec;
  }

  /** The ids of the container directories (work directories and other names are not containers). */
  ids(): string[] {
    try {
      return readdirSync(this.root, { withFileTypes: true })
        .filter((d) => d.isDirectory() && isValidId(d.name))
        .map((d) => d.name)
        .sort();
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
  }

  /** Moves the directory out of the id's way (one rename), then removes it. */
  remove(id: string): void {
    const dir = this.dir(id);
    const aside = path.join(this.root, workName());
    try {
      renameSync(dir, aside);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return;
      throw e;
    }
    try {
      rmSync(aside, { recursive: true, force: true });
    } catch (e) {
      // The id is free already; what is left is a work directory of ours,
      // which the next sweep removes.
      this.opts.warn?.(`container ${q(id)}: removing ${aside}: ${errnoText(e)}`);
    }
  }

  /**
   * Removes the work directories of dead owners (a create or delete killed
   * half-way). The owner's pid and start time say whether it lives; the
   * lock, which a live owner holds, covers an owner this pid namespace
   * cannot see. Best effort: it never fails the command that sweeps.
   */
  sweep(): void {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return;
    }
    for (const name of names) {
      const owner = parseWorkName(name);
      if (!owner || isAlive(owner.pid, owner.startTime || undefined)) continue;
      const dir = path.join(this.root, name);
      let lock: Lock | null;
      try {
        lock = Lock.tryTake(dir);
      } catch {
        continue; // gone meanwhile, or not a directory
      }
      if (!lock) continue;
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        /* tried again by the next sweep */
      } finally {
        lock.release();
      }
    }
  }
}

/** The store of a command's context: records read from their copy are reported through ctx.log. */
export function storeFor(ctx: Pick<RuntimeContext, 'root'> & Partial<Pick<RuntimeContext, 'log'>>): Store {
  const log = ctx.log;
  return new Store(ctx.root, log ? { warn: (m) => log('warn', m) } : {});
}

export function damagedError(id: string, damage: string): HakoError {
  return new HakoError(`container ${q(id)}: its state cannot be read (${damage}); \`delete --force\` removes what is left of it`, 'state');
}

/** writeSync until every byte is written: a short count is not success. */
export function writeAll(fd: number, buf: Uint8Array, write: (fd: number, b: Uint8Array, off: number, len: number) => number = writeSync): void {
  for (let off = 0; off < buf.length; ) {
    const n = write(fd, buf, off, buf.length - off);
    if (!(n > 0)) throw Object.assign(new Error(`the file system took ${off} of ${buf.length} bytes`), { code: 'ENOSPC' });
    off += n;
  }
}

/**
 * write, fsync, close, rename: a reader sees the old or the new file,
 * whole. Any step failing removes the temporary file and throws WriteError
 * naming `label` (the file as the user knows it). The rename is durable
 * once the directory is synced (syncDir), which callers do once for the
 * files they write together.
 */
export function writeWhole(file: string, data: string | Uint8Array, label = file): void {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = `${file}.${process.pid}.tmp`;
  let fd = -1;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600);
    writeAll(fd, buf);
    fsyncSync(fd);
    const f = fd;
    fd = -1;
    closeSync(f);
    renameSync(tmp, file);
  } catch (e) {
    if (fd >= 0) {
      try {
        closeSync(fd);
      } catch {
        /* reporting the first error */
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      /* never made, or renamed */
    }
    throw new WriteError(label, e);
  }
}

/** fsync of a directory: the renames in it are durable. Throws WriteError naming `label`. */
export function syncDir(dir: string, label = dir): void {
  try {
    native().fsyncDir(dir);
  } catch (e) {
    throw new WriteError(label, e);
  }
}

/** writeWhole, then syncDir of its directory. */
export function writeAtomic(file: string, data: string | Uint8Array, label = file): void {
  writeWhole(file, data, label);
  syncDir(path.dirname(file), label);
}

/** An flock on a container directory, held until release() or exit. */
export class Lock {
  private constructor(private fd: number) {}

  private static open(dir: string): number {
    return openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  }

  static take(dir: string, id: string): Lock {
    const fd = Lock.open(dir);
    try {
      native().flock(fd, 'ex', false);
    } catch (e) {
      closeSync(fd);
      throw new HakoError(`container ${q(id)}: cannot lock ${dir}: ${errnoText(e)}`);
    }
    return new Lock(fd);
  }

  /** The lock if nobody holds it, else null. */
  static tryTake(dir: string): Lock | null {
    const fd = Lock.open(dir);
    let got = false;
    try {
      got = native().flock(fd, 'ex', true);
    } finally {
      if (!got) closeSync(fd);
    }
    return got ? new Lock(fd) : null;
  }

  /** Whether `dir` still names the locked directory. */
  isAt(dir: string): boolean {
    try {
      const a = fstatSync(this.fd);
      const b = statSync(dir);
      return a.ino === b.ino && a.dev === b.dev;
    } catch {
      return false;
    }
  }

  release(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}
