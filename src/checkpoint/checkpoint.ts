// `checkpoint`: criu dumps the container's process tree into the image
// directory, as runc drives it; afterwards the container is deleted unless
// --leave-running or --pre-dump (runc's behaviour). The image directory
// also gets descriptors.json: what the init's stdio were (restore gives a
// pipe among them the restorer's own fd).
import { closeSync, constants, mkdirSync, openSync, readFileSync, readlinkSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { HakoError, describe, notFound } from '../errors.js';
import type { RuntimeContext } from '../container/context.js';
import { deleteContainer } from '../container/delete.js';
import { statusOf } from '../container/status.js';
import { storeFor, type ContainerRecord } from '../container/store.js';
import type { Spec } from '../spec/types.js';
import { readLayout } from '../cgroups/host.js';
import {
  cgroupExtMounts,
  cgroupsMode,
  checkStatusFd,
  dumpExtMounts,
  emptyNsMask,
  externalNamespaces,
  OptionError,
  pageServer,
  parentImage,
} from './options.js';
import { REQ, type CriuOpts } from './rpc.js';
import { CriuError, criuSwrk } from './swrk.js';

export interface CheckpointOptions {
  imagePath: string;
  workPath: string;
  parentPath: string;
  leaveRunning: boolean;
  tcpEstablished: boolean;
  extUnixSk: boolean;
  shellJob: boolean;
  lazyPages: boolean;
  statusFd: number;
  pageServer: string;
  fileLocks: boolean;
  preDump: boolean;
  manageCgroupsMode: string;
  emptyNs: string[];
  autoDedup: boolean;
}

export const DESCRIPTORS_FILE = 'descriptors.json';

/** Where images go by default: ./checkpoint (runc's getDefaultImagePath). */
export function imageDir(p: string): string {
  return path.resolve(p || 'checkpoint');
}

function openDir(dir: string, what: string): number {
  try {
    return openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    throw new HakoError(`${what} ${dir}: ${describe(e)}`);
  }
}

const isDir = (p: string): string | true => {
  try {
    return statSync(p).isDirectory() || 'not a directory';
  } catch (e) {
    return describe(e);
  }
};

/**
 * criu_opts for the dump, and the fds it names (closed by the caller). The
 * flags' values are checked before the image directory is made: a wrong
 * one changes nothing.
 */
function dumpOpts(rec: ContainerRecord, spec: Spec, o: CheckpointOptions, images: string, fds: number[]): CriuOpts {
  const flags = {
    emptyNs: emptyNsMask(o.emptyNs),
    manageCgroupsMode: cgroupsMode(o.manageCgroupsMode),
    ps: pageServer(o.pageServer),
  };
  // Never criu's: hako writes the \0 itself at criu's status-ready notification.
  if (o.lazyPages) checkStatusFd(o.statusFd, fdinfo(o.statusFd));
  const parent = parentImage(images, o.parentPath, isDir);
  mkdirSync(images, { recursive: true, mode: 0o700 });
  fds.push(openDir(images, 'image directory'));
  const opts: CriuOpts = {
    imagesDirFd: fds[0]!,
    logLevel: 4,
    logFile: 'dump.log',
    root: rec.rootfs,
    manageCgroups: true,
    notifyScripts: true,
    pid: rec.pid,
    shellJob: o.shellJob,
    leaveRunning: o.leaveRunning,
    tcpEstablished: o.tcpEstablished,
    extUnixSk: o.extUnixSk,
    fileLocks: o.fileLocks,
    orphanPtsMaster: true,
    autoDedup: o.autoDedup,
    lazyPages: o.lazyPages,
    ...flags,
  };
  if (o.workPath) {
    mkdirSync(o.workPath, { recursive: true, mode: 0o700 });
    opts.workDirFd = openDir(path.resolve(o.workPath), 'work directory');
    fds.push(opts.workDirFd);
  }
  // criu freezes through the cgroup (else with ptrace, one task at a time).
  const freezer = rec.cgroup?.freezer ?? rec.cgroup?.[''];
  if (freezer) opts.freezeCgroup = freezer;
  if (parent) {
    opts.parentImg = parent;
    opts.trackMem = true;
  }
  if (!o.preDump) {
    // A pre-dump only copies memory: the rest is described at the final dump.
    opts.extMnt = [...dumpExtMounts(spec, (p) => isFileIn(rec.pid, p)), ...cgroupExtMounts(spec, readLayout())];
    opts.external = externalNamespaces(spec, (p) => statSync(p).ino);
  }
  return opts;
}

/** /proc/self/fdinfo/FD, or undefined when FD is not open. */
function fdinfo(fd: number): string | undefined {
  try {
    return readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** A masked path that is a file in the running container (masked with /dev/null, so a mount). */
function isFileIn(pid: number, p: string): boolean {
  try {
    return !statSync(`/proc/${pid}/root/${p}`).isDirectory();
  } catch {
    return false;
  }
}

/** What the init's stdin, stdout and stderr are, as /proc says (pipe:[INODE], a path, ...). */
function descriptors(pid: number): string[] {
  return [0, 1, 2].map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
}

export async function checkpoint(ctx: RuntimeContext & { criu: string }, id: string, o: CheckpointOptions): Promise<void> {
  const where = (m: string) => `container ${JSON.stringify(id)}: ${m}`;
  const store = storeFor(ctx);
  const lock = store.lock(id);
  let destroy = false;
  const fds: number[] = [];
  try {
    const rec = store.read(id);
    if (!rec) throw notFound(id);
    const status = statusOf(rec, store.dir(id));
    if (status !== 'running' && status !== 'paused') throw new HakoError(where(`container cannot be checkpointed in ${status} state`), 'state');
    const spec = store.readConfig(id);
    const images = imageDir(o.imagePath);
    const opts = dumpOpts(rec, spec, o, images, fds);
    if (!o.preDump) writeFileSync(path.join(images, DESCRIPTORS_FILE), JSON.stringify(descriptors(rec.pid)), { mode: 0o600 });
    const logDir = o.workPath ? path.resolve(o.workPath) : images;
    await criuSwrk(
      { type: o.preDump ? REQ.PRE_DUMP : REQ.DUMP, opts },
      {
        criu: ctx.criu,
        stdio: ['ignore', 'ignore', 'pipe'],
        logFile: path.join(logDir, 'dump.log'),
        notify: (n) => {
          ctx.log('debug', where(`criu: ${n.script}`));
          // criu 3.15 and later say when the lazy-pages server is ready by
          // this notification (runc writes the \0 here for them too).
          if (n.script === 'status-ready' && o.statusFd >= 0) writeSync(o.statusFd, Buffer.from([0]));
        },
      },
    );
    destroy = !o.leaveRunning && !o.preDump;
  } catch (e) {
    if (e instanceof HakoError) throw e;
    if (e instanceof CriuError || e instanceof OptionError) throw new HakoError(where(e.message));
    throw new HakoError(where(describe(e)));
  } finally {
    for (const fd of fds) closeSync(fd);
    lock.release();
  }
  // criu has killed the processes; the rest goes as `delete` does it.
  if (destroy) await deleteContainer(ctx, id, { force: true });
}
