// `create`: validate, plan, launch the init, run the runtime-side hooks,
// release it, and record it. Any failure undoes everything it did: no
// state directory, no process, no pid file is left behind.
import { chmodSync, existsSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HakoError, describe, systemReason } from '../errors.js';
import { runHooks, runHooksAll, HookError } from '../hooks/run.js';
import { HOOK_STATUS } from '../hooks/kinds.js';
import { buildPlan, PlanError } from '../launch/plan.js';
import { hostLsm } from '../launch/lsm.js';
import { InitSession, LaunchError, type PassFd } from '../launch/launcher.js';
import { native } from '../native.js';
import { loadSpec } from '../spec/load.js';
import { readLayout } from '../cgroups/host.js';
import { compileSeccomp, type CompiledSeccomp } from '../seccomp/compile.js';
import { CgroupError } from '../cgroups/errors.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { CLONE } from '../launch/linux-consts.js';
import { rootfsMountsBefore, unmountCreated, withMade } from './rootfs-mounts.js';
import { claimedInStore, parentsToRecord, removeParents } from './cgroup-parents.js';
import { cloneIntoFd, closeCloneIntoFd, createCgroup, enterCgroup, plannedCgroup, unitRecord } from './cgroup.js';
import { identity, rootlessByDefault } from './rootless.js';
import { userMapsPlan, type UserMapsPlan } from '../launch/rootless.js';
import { writeUserMaps } from './usermaps.js';
import { listenerHandover, type ListenerHandover } from './seccomp-listener.js';
import type { ContainerStatus, Spec } from '../spec/types.js';
import { rfc3339Nano } from '../time.js';
import { OCI_VERSION } from '../spec/version.js';
import { validateId } from './ids.js';
import { procStat } from './proc.js';
import { ociState } from './status.js';
import { FIFO_FILE, Store, WriteError, type ContainerRecord } from './store.js';
import { checkTerminal, connectConsoleSocket, connectPidfdSocket, requireHostTerminal } from './terminal.js';
import type { RuntimeContext } from './context.js';

export { OCI_VERSION };

export interface CreateOptions {
  bundle?: string;
  pidFile?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: number;
  /** --console-socket: where the pty master goes when process.terminal is set. */
  consoleSocket?: string;
  /** --pidfd-socket: where a pidfd of the init goes (runc 1.2). */
  pidfdSocket?: string;
  /** --systemd-cgroup: the cgroup is a systemd unit named by linux.cgroupsPath ("slice:prefix:name"). */
  systemdCgroup?: boolean;
  /** Foreground `run`: hako stays attached, and the pty master (if the
   * config asks for a terminal) comes to this socket for it to proxy. */
  foreground?: { consoleFd: number };
}

export interface Created {
  id: string;
  pid: number;
  spec: Spec;
}

function capLastCap(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    return 40;
  }
}

/** CapBnd of this process: capabilities outside it cannot be granted. */
export function ownBoundingSet(): bigint | undefined {
  try {
    const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? BigInt('0x' + m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** LISTEN_FDS from systemd socket activation, as runc honours it. */
function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS ?? '');
  return Number.isInteger(n) && n > 0 ? n : 0;
}

export async function create(ctx: RuntimeContext, id: string, opts: CreateOptions): Promise<Created> {
  validateId(id);
  const bundle = path.resolve(opts.bundle ?? '.');
  const where = (m: string) => `container ${JSON.stringify(id)}: ${m}`;
  let spec: Spec;
  try {
    spec = loadSpec(bundle);
  } catch (e) {
    throw new HakoError(where(describe(e)), 'config');
  }
  const terminal = spec.process?.terminal === true;
  try {
    checkTerminal(terminal, !opts.foreground, opts.consoleSocket);
    requireHostTerminal(terminal, !opts.foreground);
  } catch (e) {
    throw e instanceof HakoError ? new HakoError(where(e.message), e.kind) : e;
  }
  const store = new Store(ctx.root);
  const dir = store.dir(id);
  const fifoPath = path.join(dir, FIFO_FILE);
  let plan;
  let cgm: CgroupManager | null;
  let seccomp: CompiledSeccomp | undefined;
  const who = identity();
  const rootlessEuid = who.euid !== 0 ? who.euid : undefined;
  const newUserns = (spec.linux?.namespaces ?? []).some((n) => n.type === 'user' && !n.path);
  const maps: UserMapsPlan | undefined = newUserns ? userMapsPlan(spec, who) : undefined;
  try {
    const planned = plannedCgroup(spec, id, { rootless: ctx.rootless ?? rootlessByDefault(), systemd: opts.systemdCgroup });
    cgm = planned.manager;
    for (const n of planned.notes) ctx.log('debug', where(n));
    seccomp = spec.linux?.seccomp ? compileSeccomp(spec.linux.seccomp) : undefined;
    for (const name of seccomp?.skipped ?? []) ctx.log('debug', where(`seccomp: syscall ${name} is unknown to libseccomp, skipped`));
    plan = buildPlan(spec, {
      seccomp,
      id,
      bundle,
      fifoPath,
      noPivot: opts.noPivot ?? false,
      noNewKeyring: opts.noNewKeyring ?? false,
      preserveFds: opts.preserveFds ?? 0,
      listenFds: listenFds(),
      debug: ctx.debug,
      capLastCap: capLastCap(),
      hostCapBnd: ownBoundingSet(),
      lsm: hostLsm(),
      exists: existsSync,
      cgroupLayout: (spec.mounts ?? []).some((m) => m.type === 'cgroup' || m.type === 'cgroup2') ? readLayout() : undefined,
      cgroupDirs: cgm?.dirs,
      rootlessEuid,
      setgroupsDeny: maps?.setgroupsDeny,
    });
  } catch (e) {
    if (e instanceof PlanError || e instanceof CgroupError) throw new HakoError(where(e.message), 'config');
    if (e instanceof HakoError) throw e;
    throw new HakoError(where(describe(e)));
  }
  for (const w of plan.warnings) ctx.log('warn', where(w));
  for (const d of plan.debug) ctx.log('debug', where(d));
  try {
    if (!statSync(plan.rootfs).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : describe(e);
    throw new HakoError(where(`config.json: /root/path: ${plan.rootfs}: ${why}`), 'config');
  }

  let session: InitSession | null = null;
  let handover: ListenerHandover | undefined;
  let consoleFd = -1;
  let pidfdSockFd = -1;
  let cgroupFd = -1;
  let pidFileWritten = false;
  let cgroupMade = false;
  const me = procStat(process.pid);
  const rec: ContainerRecord = {
    ociVersion: spec.ociVersion ?? OCI_VERSION,
    id,
    pid: 0,
    initStartTime: '',
    bundle,
    rootfs: plan.rootfs,
    created: rfc3339Nano(),
    owner: '',
    annotations: (spec.annotations ?? {}) as Record<string, string>,
    creating: { pid: process.pid, startTime: me?.startTime ?? '' },
    newNamespaces: plan.newNamespaces,
    ...(opts.noNewKeyring ? { noNewKeyring: true } : {}),
  };
  // Recorded before it exists, so that a delete after a crash here finds it.
  if (cgm) {
    rec.cgroup = cgm.dirs;
    const unit = unitRecord(cgm);
    if (unit) rec.systemd = unit;
    // The parents delete is to remove, decided before any mkdir (what
    // exists is checked first, then the other records: a claim is in its
    // record before its mkdirs).
    const parents = cgm.parents();
    const ours = parents.length ? parentsToRecord(parents, existsSync, claimedInStore(store, id)) : [];
    if (ours.length) rec.cgroupParents = ours;
  }
  // Without a mount namespace the init mounts into ours: what is below the
  // rootfs now is not create's to unmount, what appears there is.
  if ((plan.newNamespaces & CLONE.NEWNS) === 0 && !plan.joined.mount) {
    try {
      rec.rootfsMounts = rootfsMountsBefore(realpathSync(plan.rootfs));
    } catch (e) {
      throw new HakoError(where(`cannot list the mounts below ${plan.rootfs}: ${describe(e)}`));
    }
  }
  // The directory appears with the record and the config in it, or not at
  // all (store.ts): a create killed before this leaves nothing in the way.
  const lock = store.claim(id, { record: rec, config: JSON.stringify(spec) }, rootlessEuid);
  try {
    if (cgm) {
      cgroupMade = true;
      for (const w of createCgroup(cgm, spec, { skipDevices: who.euid !== 0 || who.inUserns })) ctx.log('warn', where(w));
    }
    native().mkfifo(fifoPath, 0o622);
    // Whatever our umask: the init may have switched to any uid before it
    // opens the fifo for writing (through its O_PATH fd, so only the fifo's
    // own mode is checked).
    chmodSync(fifoPath, 0o622);

    const passFds: PassFd[] = [];
    if (terminal) {
      consoleFd = opts.consoleSocket ? connectConsoleSocket(opts.consoleSocket) : -1;
      passFds.push({ tag: 'CONSOLE_FD', fd: consoleFd >= 0 ? consoleFd : opts.foreground!.consoleFd });
    }
    if (opts.pidfdSocket) {
      pidfdSockFd = connectPidfdSocket(opts.pidfdSocket);
      passFds.push({ tag: 'PIDFD_SOCK', fd: pidfdSockFd });
    }
    cgroupFd = cloneIntoFd(cgm);
    if (cgroupFd >= 0) passFds.push({ tag: 'CGROUP_FD', fd: cgroupFd });
    if (seccomp?.notify) {
      // The init loads the filter after MSG_GO, once rec.pid is known.
      handover = listenerHandover(spec.linux!.seccomp!, () => ({ pid: rec.pid, state: ociState(rec, 'creating') }), (m) => ctx.log('debug', where(m)));
      passFds.push(handover.passFd);
    }
    session = await InitSession.start(plan.records, {
      extraFds: (opts.preserveFds ?? 0) + listenFds(),
      passFds,
      onWarning: (t, level) => ctx.log(level, where(t)),
      seccompListener: handover?.listener,
      // The launcher makes the user namespace itself and waits for its
      // maps before it clones the init (addon/launcher/nsenter.c).
      onUserns: maps
        ? (launcherPid) => {
            try {
              writeUserMaps(launcherPid, spec, maps);
            } catch (e) {
              throw new HakoError(where(describe(e)), e instanceof HakoError ? e.kind : 'system');
            }
          }
        : undefined,
    });
    rec.pid = session.pid;
    rec.initStartTime = procStat(session.pid)?.startTime ?? '';
    // The init exists: recorded at once (still "creating"), so that should
    // this create die, delete can tell the init by its start time and stop
    // it even without a cgroup. Interim: the write below replaces it.
    store.write(rec, { interim: true });
    // The init waits for MSG_GO before it runs anything of the container's:
    // joining the cgroup now is before any container code. Under systemd
    // this is when the unit is made (around this pid) and limited.
    if (session.inCgroup) ctx.log('debug', where('the init was cloned into its cgroup (CLONE_INTO_CGROUP)'));
    else if (cgm) for (const w of enterCgroup(cgm, session.pid)) ctx.log('warn', where(w));

    // The status each kind is told, and why: src/hooks/kinds.ts.
    await runHooks('prestart', spec.hooks?.prestart, JSON.stringify(ociState(rec, HOOK_STATUS.prestart)));
    await runHooks('createRuntime', spec.hooks?.createRuntime, JSON.stringify(ociState(rec, HOOK_STATUS.createRuntime)));
    // createContainer and startContainer hooks run inside the container:
    // they get the init's pid as seen there, as runc gives it.
    const inside = (status: ContainerStatus) => {
      const st = ociState(rec, status);
      if ((plan.newNamespaces & 0x20000000) !== 0) st.pid = 1;
      return JSON.stringify(st);
    };
    await session.go(inside(HOOK_STATUS.createContainer), inside(HOOK_STATUS.startContainer));

    delete rec.creating;
    if (rec.rootfsMounts) rec.rootfsMounts = withMade(rec.rootfsMounts);
    store.write(rec);
    if (opts.pidFile) {
      writePidFile(opts.pidFile, session.pid);
      pidFileWritten = true;
    }
    await session.commit();
    return { id, pid: session.pid, spec };
  } catch (e) {
    if (rec.pid > 0) killAndReap(rec.pid);
    if (cgroupMade && cgm) {
      try {
        cgm.destroy();
        removeParents(rec.cgroupParents);
      } catch (d) {
        ctx.log('warn', where(`removing the cgroup after a failed create: ${describe(d)}`));
      }
    }
    if (rec.rootfsMounts) for (const w of unmountCreated(rec.rootfsMounts)) ctx.log('warn', where(`after a failed create: ${w}`));
    if (pidFileWritten && opts.pidFile) rmQuiet(opts.pidFile);
    store.remove(id);
    // runtime.md#lifecycle: a failed create hook stops the container and the
    // lifecycle goes on at delete, whose poststop hooks still run.
    if (rec.pid > 0 && spec.hooks?.poststop?.length) {
      for (const w of await runHooksAll('poststop', spec.hooks.poststop, JSON.stringify(ociState(rec, 'stopped')))) ctx.log('warn', where(w.message));
    }
    if (e instanceof HakoError) throw e;
    if (e instanceof LaunchError || e instanceof HookError || e instanceof WriteError) throw new HakoError(where(e.message));
    throw new HakoError(where(describe(e)));
  } finally {
    if (consoleFd >= 0) native().close(consoleFd);
    if (pidfdSockFd >= 0) native().close(pidfdSockFd);
    closeCloneIntoFd(cgroupFd);
    handover?.close();
    session?.close();
    lock.release();
  }
}

/**
 * The pid file: decimal, no newline (containerd rejects one), appears whole.
 * A failure leaves no temporary file and says which pid file and why, in
 * words ("is a directory"), not errno names. Its directory must exist: as
 * runc, hako makes none (a mistyped path fails instead of growing a tree).
 */
export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, String(pid));
    renameSync(tmp, abs);
  } catch (e) {
    rmQuiet(tmp);
    throw new Error(`pid file ${abs}: ${systemReason(e)}`);
  }
}

function rmQuiet(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    /* already gone */
  }
}

/**
 * A process of ours (CLONE_PARENT) that waits on the sync socket, whose end
 * of file the caller has just given it: let it exit by itself for up to
 * `ms`, then kill it; reaped either way. Exiting by itself matters for an
 * exec'd process caught mid seccomp handover: it first reaps the helper it
 * forked, which a SIGKILL would orphan to the container's init (a process of
 * the container's that need not reap: a zombie there for good).
 */
export function endAndReap(pid: number, ms: number): void {
  const n = native();
  let fd = -1;
  try {
    fd = n.pidfdOpen(pid);
    n.poll(fd, n.constants.POLLIN, ms);
  } catch {
    /* gone already, or not ours to watch: the kill below settles it */
  } finally {
    if (fd >= 0) n.close(fd);
  }
  killAndReap(pid);
}

/** The init is our child (CLONE_PARENT): kill it and reap it so no zombie outlives create. */
export function killAndReap(pid: number): void {
  try {
    native().kill(pid, 9);
  } catch {
    return;
  }
  try {
    native().waitpid(pid, false);
  } catch {
    /* not our child (after a restart of the caller) */
  }
}
