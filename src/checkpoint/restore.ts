// `restore`: a new container, whose processes criu brings back from an
// image directory instead of the launcher starting them. As runc: the
// cgroup is made (with the config's resources) and criu itself is put in
// it, so the restored tasks land there (cg_root); the rootfs is bound at
// the state directory's criu-root for criu's root; bind mounts, masked
// paths and devices are external mounts keyed by mount point; namespaces
// joined by path are handed over as inherited fds; prestart and
// createRuntime hooks run when criu reports the namespaces set up
// (setup-namespaces), and the container is recorded at post-restore.
// Everything is undone if criu fails: no state, cgroup, mount, process or
// pid file is left behind.
import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { HakoError, describe } from '../errors.js';
import { runHooks, HookError } from '../hooks/run.js';
import { HOOK_STATUS } from '../hooks/kinds.js';
import { native } from '../native.js';
import { loadSpec } from '../spec/load.js';
import type { Spec } from '../spec/types.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { removeParents } from '../container/cgroup-parents.js';
import { cgroupRecordFields, createCgroup, enterCgroup, plannedCgroup } from '../container/cgroup.js';
import type { RuntimeContext } from '../container/context.js';
import { killAndReap } from '../container/reap.js';
import { writePidFile } from '../container/pid-file.js';
import { OCI_VERSION } from '../spec/version.js';
import { validateId } from '../container/ids.js';
import { procStat } from '../container/proc.js';
import { identity, rootlessByDefault } from '../container/rootless-identity.js';
import { ociState } from '../container/status.js';
import { Store, WriteError, type ContainerRecord } from '../container/store.js';
import { connectConsoleSocket } from '../container/terminal.js';
import { rfc3339Nano } from '../time.js';
import { DESCRIPTORS_FILE, imageDir } from './checkpoint.js';
import { readLayout } from '../cgroups/host.js';
import {
  cgroupExtMounts,
  cgroupsMode,
  emptyNsMask,
  newNamespaces,
  OptionError,
  parseDescriptors,
  restoreExtMounts,
  restoreNamespaces,
  stdioInheritFds,
} from './options.js';
import { REQ, type CgroupRoot, type CriuOpts } from './rpc.js';
import { CriuError, criuSwrk, type Notification } from './swrk.js';
import { loopbackUpIn, restoreBringsLoopbackUp } from './loopback.js';

export interface RestoreOptions {
  consoleSocket: string;
  imagePath: string;
  workPath: string;
  tcpEstablished: boolean;
  extUnixSk: boolean;
  shellJob: boolean;
  fileLocks: boolean;
  manageCgroupsMode: string;
  bundle: string;
  detach: boolean;
  pidFile: string;
  noSubreaper: boolean;
  noPivot: boolean;
  emptyNs: string[];
  autoDedup: boolean;
  lazyPages: boolean;
  lsmProfile: string;
  lsmMountContext: string;
}

export interface RestoreContext extends RuntimeContext {
  criu: string;
  systemdCgroup?: boolean;
}

/** What restore checked before making anything. */
interface Prepared {
  bundle: string;
  spec: Spec;
  rootfs: string;
  images: string;
  descriptors: string[];
  nsPaths: string[];
  opts: Omit<CriuOpts, 'imagesDirFd' | 'root'>;
}

function prepare(o: RestoreOptions): Prepared {
  if (o.lsmMountContext) throw new OptionError('--lsm-mount-context is not supported by hako yet');
  const bundle = path.resolve(o.bundle || '.');
  const spec = loadSpec(bundle);
  if (spec.process?.terminal && !o.consoleSocket)
    throw new OptionError('the config asks for a terminal: restore needs --console-socket to hand its pty master to');
  const rootfs = path.resolve(bundle, spec.root?.path ?? 'rootfs');
  const images = imageDir(o.imagePath);
  const file = path.join(images, DESCRIPTORS_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new OptionError(`checkpoint image ${images}: ${DESCRIPTORS_FILE}: ${describe(e)}`);
  }
  const descriptors = parseDescriptors(text, file);
  const ns = restoreNamespaces(spec);
  const opts: Prepared['opts'] = {
    evasiveDevices: true,
    logLevel: 4,
    logFile: 'restore.log',
    rstSibling: true,
    manageCgroups: true,
    notifyScripts: true,
    shellJob: o.shellJob,
    extUnixSk: o.extUnixSk,
    tcpEstablished: o.tcpEstablished,
    fileLocks: o.fileLocks,
    emptyNs: emptyNsMask(o.emptyNs),
    orphanPtsMaster: true,
    autoDedup: o.autoDedup,
    lazyPages: o.lazyPages,
    manageCgroupsMode: cgroupsMode(o.manageCgroupsMode),
    extMnt: restoreExtMounts(spec, bundle),
    inheritFd: [...stdioInheritFds(descriptors), ...ns.inherit],
    lsmProfile: o.lsmProfile || undefined,
    joinNs: ns.join.length ? ns.join : undefined,
  };
  return { bundle, spec, rootfs, images, descriptors, nsPaths: ns.paths, opts };
}

/** The record as restore first writes it: "creating" by us, its cgroup named. */
function newRecord(id: string, p: Prepared, cgm: CgroupManager | null, store: Store): ContainerRecord {
  const rec: ContainerRecord = {
    ociVersion: p.spec.ociVersion ?? OCI_VERSION,
    id,
    pid: 0,
    initStartTime: '',
    bundle: p.bundle,
    rootfs: p.rootfs,
    created: rfc3339Nano(),
    owner: '',
    annotations: (p.spec.annotations ?? {}) as Record<string, string>,
    creating: { pid: process.pid, startTime: procStat(process.pid)?.startTime ?? '' },
    newNamespaces: newNamespaces(p.spec),
  };
  if (cgm) Object.assign(rec, cgroupRecordFields(cgm, store, id));
  return rec;
}

/** /proc/PID/cgroup as criu's cg_root: each hierarchy's controllers and path (v2's has none). */
export function cgroupRoots(procCgroup: string): CgroupRoot[] {
  return procCgroup
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [, ctrl = '', ...rest] = l.split(':');
      return { ctrl: ctrl || undefined, path: rest.join(':') };
    });
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new HakoError(`${cmd} ${args.join(' ')}: ${(r.stderr || r.error?.message || `status ${r.status}`).trim()}`);
}

/** The rootfs bound (recursively, privately) where criu takes its root from; returns the undo. */
function bindRoot(rootfs: string, at: string): () => void {
  mkdirSync(at, { mode: 0o755 });
  try {
    run('mount', ['--rbind', rootfs, at]);
    // Private: what is mounted under it while criu restores stays there,
    // and nothing mounted elsewhere in the rootfs's peer group shows up.
    run('mount', ['--make-rprivate', at]);
  } catch (e) {
    spawnSync('umount', ['-l', at], { stdio: 'ignore' });
    rmdirSync(at);
    throw e;
  }
  return () => {
    spawnSync('umount', ['-l', at], { stdio: 'ignore' });
    try {
      rmdirSync(at);
    } catch {
      /* busy until the lazy unmount completes: the state directory's removal takes it */
    }
  };
}

interface Made {
  rec: ContainerRecord;
  cgm: CgroupManager | null;
  cgroupMade: boolean;
  pidFileWritten: boolean;
  pid: number;
}

export async function restore(ctx: RestoreContext, id: string, o: RestoreOptions): Promise<number> {
  validateId(id);
  const where = (m: string) => `container ${JSON.stringify(id)}: ${m}`;
  let p: Prepared;
  let imagesFd: number;
  try {
    p = prepare(o);
    imagesFd = openSync(p.images, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code !== undefined;
    throw new HakoError(where(errno ? `checkpoint image ${imageDir(o.imagePath)}: ${describe(e)}` : describe(e)), 'config');
  }
  const store = new Store(ctx.root);
  const m: Made = { rec: null as unknown as ContainerRecord, cgm: null, cgroupMade: false, pidFileWritten: false, pid: 0 };
  try {
    await restoreInto(ctx, id, o, p, imagesFd, store, m, where);
  } finally {
    closeSync(imagesFd);
  }
  if (o.detach) return 0;
  return foreground(ctx, id, m.pid, o.noSubreaper);
}

async function restoreInto(
  ctx: RestoreContext,
  id: string,
  o: RestoreOptions,
  p: Prepared,
  imagesFd: number,
  store: Store,
  m: Made,
  where: (s: string) => string,
): Promise<void> {
  const who = identity();
  let cgm: CgroupManager | null;
  try {
    cgm = plannedCgroup(p.spec, id, { rootless: ctx.rootless ?? rootlessByDefault(), systemd: ctx.systemdCgroup }).manager;
  } catch (e) {
    throw new HakoError(where(describe(e)), 'config');
  }
  m.cgm = cgm;
  m.rec = newRecord(id, p, cgm, store);
  const lock = store.claim(id, { record: m.rec, config: JSON.stringify(p.spec) }, who.euid !== 0 ? who.euid : undefined);
  const nsFds: number[] = [];
  let unbind: (() => void) | undefined;
  let workFd = -1;
  try {
    if (cgm) {
      m.cgroupMade = true;
      for (const w of createCgroup(cgm, p.spec, { skipDevices: who.euid !== 0 || who.inUserns })) ctx.log('warn', where(w));
    }
    for (const n of p.nsPaths) nsFds.push(openSync(n, constants.O_RDONLY));
    const criuRoot = path.join(store.dir(id), 'criu-root');
    unbind = bindRoot(p.rootfs, criuRoot);
    const opts: CriuOpts = { ...p.opts, imagesDirFd: imagesFd, root: criuRoot };
    opts.extMnt = [...(opts.extMnt ?? []), ...cgroupExtMounts(p.spec, readLayout(), cgm?.dirs ?? {})];
    if (o.workPath) {
      mkdirSync(o.workPath, { recursive: true, mode: 0o700 });
      workFd = openSync(path.resolve(o.workPath), constants.O_RDONLY | constants.O_DIRECTORY);
      opts.workDirFd = workFd;
    }
    const resp = await criuSwrk(
      { type: REQ.RESTORE, opts },
      {
        criu: ctx.criu,
        stdio: [0, 1, 2],
        extraFds: nsFds,
        logFile: path.join(o.workPath ? path.resolve(o.workPath) : p.images, 'restore.log'),
        started: (pid, req) => {
          if (cgm) for (const w of enterCgroup(cgm, pid)) ctx.log('warn', where(w));
          req.opts!.cgRoot = cgroupRoots(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
        },
        notify: (n) => onNotify(ctx, n, p, o, store, m, where),
      },
    );
    if (!m.pid) throw new CriuError(`criu restored pid ${resp.restoredPid ?? '?'} without a post-restore notification`);
  } catch (e) {
    // The rootfs is unbound before the state directory holding its mount point goes.
    unbind?.();
    unbind = undefined;
    await undo(ctx, id, o, store, m, where);
    if (e instanceof HakoError) throw e;
    if (e instanceof CriuError || e instanceof HookError || e instanceof WriteError || e instanceof OptionError) throw new HakoError(where(e.message));
    throw new HakoError(where(describe(e)));
  } finally {
    unbind?.();
    for (const fd of nsFds) closeSync(fd);
    if (workFd >= 0) closeSync(workFd);
    lock.release();
  }
}

async function onNotify(
  ctx: RestoreContext,
  n: Notification,
  p: Prepared,
  o: RestoreOptions,
  store: Store,
  m: Made,
  where: (s: string) => string,
): Promise<void> {
  ctx.log('debug', where(`criu: ${n.script}${n.pid ? ` (pid ${n.pid})` : ''}`));
  switch (n.script) {
    case 'setup-namespaces': {
      if (restoreBringsLoopbackUp(p.spec)) {
        try {
          loopbackUpIn(n.pid);
        } catch (e) {
          throw new CriuError(`bringing lo up in the restored network namespace: ${describe(e)}`);
        }
      }
      // runc runs these two here: the namespaces exist, nothing of the
      // container's runs yet.
      const st = JSON.stringify({ ...ociState(m.rec, HOOK_STATUS.prestart), pid: n.pid });
      await runHooks('prestart', p.spec.hooks?.prestart, st);
      await runHooks('createRuntime', p.spec.hooks?.createRuntime, JSON.stringify({ ...ociState(m.rec, HOOK_STATUS.createRuntime), pid: n.pid }));
      return;
    }
    case 'post-restore': {
      m.pid = n.pid;
      m.rec.pid = n.pid;
      m.rec.initStartTime = procStat(n.pid)?.startTime ?? '';
      m.rec.created = rfc3339Nano();
      delete m.rec.creating;
      store.write(m.rec);
      if (o.pidFile) {
        writePidFile(o.pidFile, n.pid);
        m.pidFileWritten = true;
      }
      return;
    }
    case 'orphan-pts-master': {
      if (n.fd < 0) throw new CriuError('criu sent orphan-pts-master without a pty master');
      const sock = connectConsoleSocket(path.resolve(o.consoleSocket));
      try {
        native().sendFd(sock, n.fd, Buffer.from('orphan-pts-master'));
      } finally {
        native().close(sock);
      }
      return;
    }
    default:
      return;
  }
}

/** A failed restore: the restored tasks killed, the cgroup, pid file and state directory removed. */
async function undo(ctx: RestoreContext, id: string, o: RestoreOptions, store: Store, m: Made, where: (s: string) => string): Promise<void> {
  if (m.pid > 0) killAndReap(m.pid);
  if (m.cgroupMade && m.cgm) {
    try {
      if (m.cgm.exists()) m.cgm.killAll(9);
      m.cgm.destroy();
      removeParents(m.rec.cgroupParents);
    } catch (d) {
      ctx.log('warn', where(`removing the cgroup after a failed restore: ${describe(d)}`));
    }
  }
  if (m.pidFileWritten && o.pidFile) {
    try {
      unlinkSync(path.resolve(o.pidFile));
    } catch {
      /* gone already */
    }
  }
  store.remove(id);
}

/** Without --detach: hako waits for the restored init (our child: criu restored it as its sibling), then deletes the container. */
async function foreground(ctx: RestoreContext, id: string, pid: number, noSubreaper: boolean): Promise<number> {
  const { SignalForwarder } = await import('../container/forward.js');
  const { deleteContainer } = await import('../container/delete.js');
  if (!noSubreaper) native().setChildSubreaper(true);
  const signals = new SignalForwarder();
  let status: number;
  try {
    signals.target(pid);
    const r = await native().waitpidAsync(pid);
    status = r.signal !== null ? 128 + r.signal : (r.exitCode ?? 0);
  } finally {
    signals.stop();
  }
  await deleteContainer(ctx, id, { force: true });
  return status;
}
