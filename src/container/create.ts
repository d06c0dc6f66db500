// `create`: validate, plan, launch the init, run the runtime-side hooks,
// release it, and record it. Any failure undoes everything it did: no
// state directory, no process, no pid file is left behind.
import { chmodSync, existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { HakoError, describe, inContainer, toHakoError } from '../errors.js';
import { runHooks, runHooksAll } from '../hooks/run.js';
import { HOOK_STATUS } from '../hooks/kinds.js';
import { buildPlan, type Plan } from '../launch/plan.js';
import { hostProcessFacts, isOwnNamespace } from '../launch/host-facts.js';
import { InitSession, type LauncherStdio, type PassFd } from '../launch/launcher.js';
import { native } from '../native.js';
import { loadSpec } from '../spec/load.js';
import { readLayout } from '../cgroups/host.js';
import { compileSeccomp, type CompiledSeccomp } from '../seccomp/compile.js';
import { CgroupError } from '../cgroups/cgroup-error.js';
import type { CgroupManager } from '../cgroups/manager.js';
import { CLONE } from '../launch/linux-consts.js';
import { rootfsMountsBefore, unmountCreated, withMade } from './rootfs-mounts.js';
import { removeParents } from './cgroup-parents.js';
import { cgroupRecordFields, cloneIntoFd, closeCloneIntoFd, createCgroup, enterCgroup, plannedCgroup } from './cgroup.js';
import { identity, rootlessByDefault } from './rootless-identity.js';
import { userMapsPlan, type UserMapsPlan } from '../launch/rootless-checks.js';
import { checkNetDevices, moveNetDevices } from './netdevices.js';
import { writeUserMaps } from './usermaps.js';
import { listenerHandover, type ListenerHandover } from './seccomp-listener.js';
import type { ContainerStatus, Spec } from '../spec/types.js';
import { rfc3339Nano } from '../time.js';
import { OCI_VERSION } from '../spec/version.js';
import { validateId } from './ids.js';
import { procStat } from './proc.js';
import { removePidFile, writePidFile } from './pid-file.js';
import { killAndReap } from './reap.js';
import { ociState } from './status.js';
import { FIFO_FILE, Store, type ContainerRecord } from './store.js';
import { checkTerminal, connectConsoleSocket, connectPidfdSocket, requireHostTerminal } from './terminal.js';
import type { RuntimeContext } from './context.js';

export interface CreateOptions {
  /** --bundle: the directory with config.json (default: the current directory). */
  bundle?: string;
  /** --pid-file: where the init's host pid is written. */
  pidFile?: string;
  /** --no-pivot: the root is changed without pivot_root (for a rootfs on a ramdisk, where pivot_root fails). */
  noPivot?: boolean;
  /** --no-new-keyring: the init keeps this process's session keyring. */
  noNewKeyring?: boolean;
  /** --preserve-fds: this many fds from 3 on pass to the init as well. */
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
  /** The init's fds 0, 1, 2 (default: ours); the library's 'pipe' is an fd here. */
  stdio?: LauncherStdio;
}

export interface Created {
  /** The container's id. */
  id: string;
  /** Its init's host pid. */
  pid: number;
  /** Its config.json, as validated. */
  spec: Spec;
}

/** LISTEN_FDS from systemd socket activation, as runc honours it. */
function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS ?? '');
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** What create decided before anything exists: the config, its plan, its cgroup. */
export interface Prepared {
  bundle: string;
  spec: Spec;
  prefix: (m: string) => string;
  plan: Plan;
  cgm: CgroupManager | null;
  seccomp: CompiledSeccomp | undefined;
  who: ReturnType<typeof identity>;
  rootlessEuid: number | undefined;
  maps: UserMapsPlan | undefined;
}

/** The bundle's config.json, read and validated; its errors are the config's. */
export function loadBundle(id: string, bundleOpt: string | undefined): Pick<Prepared, 'bundle' | 'spec' | 'prefix'> {
  const bundle = path.resolve(bundleOpt ?? '.');
  const prefix = inContainer(id);
  try {
    return { bundle, spec: loadSpec(bundle), prefix };
  } catch (e) {
    throw toHakoError(e, prefix, { fallback: 'config' });
  }
}

/** The bundle's config read and checked, and planned; nothing made yet. */
function prepare(ctx: RuntimeContext, id: string, opts: CreateOptions, fifoPath: string): Prepared {
  const loaded = loadBundle(id, opts.bundle);
  const { spec, prefix } = loaded;
  try {
    const terminal = spec.process?.terminal === true;
    checkTerminal(terminal, !opts.foreground, opts.consoleSocket);
    requireHostTerminal(terminal, !opts.foreground);
  } catch (e) {
    // Placed in the container here, though exec shows the same refusals without it.
    throw e instanceof HakoError ? new HakoError(prefix(e.message), e.kind) : e;
  }
  return planContainer(ctx, id, opts, fifoPath, loaded);
}

/**
 * Everything create decides from a loaded config before it makes anything
 * (`hako explain` prints it): who writes the user namespace's maps, the
 * cgroup, the seccomp filter, the launcher's plan, and the checks of the
 * rootfs and the network devices. Reads the host, changes nothing.
 */
export function planContainer(
  ctx: RuntimeContext,
  id: string,
  opts: CreateOptions,
  fifoPath: string,
  loaded: Pick<Prepared, 'bundle' | 'spec' | 'prefix'>,
): Prepared {
  const { bundle, spec, prefix } = loaded;
  const who = identity();
  const rootlessEuid = who.euid !== 0 ? who.euid : undefined;
  const newUserns = (spec.linux?.namespaces ?? []).some((n) => n.type === 'user' && !n.path);
  const maps: UserMapsPlan | undefined = newUserns ? userMapsPlan(spec, who) : undefined;
  const { plan, cgm, seccomp } = planCreate(ctx, id, opts, { bundle, spec, prefix, fifoPath, rootlessEuid, setgroupsDeny: maps?.setgroupsDeny });
  for (const w of plan.warnings) ctx.log('warn', prefix(w));
  for (const d of plan.debug) ctx.log('debug', prefix(d));
  try {
    if (!statSync(plan.rootfs).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : describe(e);
    throw new HakoError(prefix(`config.json: /root/path: ${plan.rootfs}: ${why}`), 'config');
  }
  try {
    checkNetDevices(plan.netDevices, plan.joined.network);
  } catch (e) {
    throw toHakoError(e, prefix);
  }
  return { bundle, spec, prefix, plan, cgm, seccomp, who, rootlessEuid, maps };
}

interface PlanInput {
  bundle: string;
  spec: Spec;
  prefix: (m: string) => string;
  fifoPath: string;
  rootlessEuid: number | undefined;
  setgroupsDeny: boolean | undefined;
}

/** The cgroup to make, the seccomp filter and the launcher's plan; their errors are the config's. */
function planCreate(
  ctx: RuntimeContext,
  id: string,
  opts: CreateOptions,
  i: PlanInput,
): { plan: Plan; cgm: CgroupManager | null; seccomp: CompiledSeccomp | undefined } {
  const { spec, prefix } = i;
  try {
    const planned = plannedCgroup(spec, id, { rootless: ctx.rootless ?? rootlessByDefault(), systemd: opts.systemdCgroup });
    const cgm = planned.manager;
    for (const n of planned.notes) ctx.log('debug', prefix(n));
    const seccomp = spec.linux?.seccomp ? compileSeccomp(spec.linux.seccomp) : undefined;
    for (const name of seccomp?.skipped ?? []) ctx.log('debug', prefix(`seccomp: syscall ${name} is unknown to libseccomp, skipped`));
    const plan = buildPlan(spec, {
      seccomp,
      id,
      bundle: i.bundle,
      fifoPath: i.fifoPath,
      noPivot: opts.noPivot ?? false,
      noNewKeyring: opts.noNewKeyring ?? false,
      preserveFds: opts.preserveFds ?? 0,
      listenFds: listenFds(),
      debug: ctx.debug,
      ...hostProcessFacts(),
      exists: existsSync,
      isOwnNamespace,
      cgroupLayout: (spec.mounts ?? []).some((m) => m.type === 'cgroup' || m.type === 'cgroup2') ? readLayout() : undefined,
      cgroupDirs: cgm?.dirs,
      rootlessEuid: i.rootlessEuid,
      setgroupsDeny: i.setgroupsDeny,
    });
    return { plan, cgm, seccomp };
  } catch (e) {
    // Whatever the cgroup refuses before anything exists is the config's.
    throw toHakoError(e, prefix, e instanceof CgroupError ? { kind: 'config' } : {});
  }
}

/** The container's record as create first writes it: "creating", no init yet, its cgroup named. */
function newRecord(id: string, p: Prepared, opts: CreateOptions, store: Store): ContainerRecord {
  const me = procStat(process.pid);
  const rec: ContainerRecord = {
    ociVersion: p.spec.ociVersion ?? OCI_VERSION,
    id,
    pid: 0,
    initStartTime: '',
    bundle: p.bundle,
    rootfs: p.plan.rootfs,
    created: rfc3339Nano(),
    owner: '',
    annotations: (p.spec.annotations ?? {}) as Record<string, string>,
    creating: { pid: process.pid, startTime: me?.startTime ?? '' },
    newNamespaces: p.plan.newNamespaces,
    ...(opts.noNewKeyring ? { noNewKeyring: true } : {}),
  };
  // Recorded before it exists, so that a delete after a crash here finds it.
  if (p.cgm) Object.assign(rec, cgroupRecordFields(p.cgm, store, id));
  // Without a mount namespace the init mounts into ours: what is below the
  // rootfs now is not create's to unmount, what appears there is.
  if ((p.plan.newNamespaces & CLONE.NEWNS) === 0 && !p.plan.joined.mount) {
    try {
      rec.rootfsMounts = rootfsMountsBefore(realpathSync(p.plan.rootfs));
    } catch (e) {
      throw new HakoError(p.prefix(`cannot list the mounts below ${p.plan.rootfs}: ${describe(e)}`));
    }
  }
  return rec;
}

export async function create(ctx: RuntimeContext, id: string, opts: CreateOptions): Promise<Created> {
  validateId(id);
  const store = new Store(ctx.root);
  const fifoPath = path.join(store.dir(id), FIFO_FILE);
  const prepared = prepare(ctx, id, opts, fifoPath);
  const { spec, prefix, plan, cgm, seccomp, who, rootlessEuid, maps } = prepared;
  const terminal = spec.process?.terminal === true;

  let session: InitSession | null = null;
  let handover: ListenerHandover | undefined;
  let consoleFd = -1;
  let pidfdSockFd = -1;
  let cgroupFd = -1;
  let pidFileWritten = false;
  let cgroupMade = false;
  const rec = newRecord(id, prepared, opts, store);
  // The directory appears with the record and the config in it, or not at
  // all (store.ts): a create killed before this leaves nothing in the way.
  const lock = store.claim(id, { record: rec, config: JSON.stringify(spec) }, rootlessEuid);
  try {
    if (cgm) {
      cgroupMade = true;
      for (const w of createCgroup(cgm, spec, { skipDevices: who.euid !== 0 || who.inUserns })) ctx.log('warn', prefix(w));
    }
    makeExecFifo(fifoPath);

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
      handover = listenerHandover(
        spec.linux!.seccomp!,
        () => ({ pid: rec.pid, state: ociState(rec, 'creating') }),
        (m) => ctx.log('debug', prefix(m)),
      );
      passFds.push(handover.passFd);
    }
    session = await InitSession.start(plan.records, {
      stdio: opts.stdio,
      extraFds: (opts.preserveFds ?? 0) + listenFds(),
      passFds,
      onWarning: (t, level) => ctx.log(level, prefix(t)),
      seccompListener: handover?.listener,
      onUserns: maps ? userMapsWriter(spec, maps, prefix) : undefined,
    });
    recordInit(ctx, store, rec, session, cgm, prefix);
    // Before any hook, as runc: the devices are there when prestart runs.
    moveNetDevices(session.pid, plan.netDevices, (m) => ctx.log('debug', prefix(m)));
    await runCreateHooks(session, spec, rec, plan.newNamespaces);

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
        ctx.log('warn', prefix(`removing the cgroup after a failed create: ${describe(d)}`));
      }
    }
    if (rec.rootfsMounts) for (const w of unmountCreated(rec.rootfsMounts)) ctx.log('warn', prefix(`after a failed create: ${w}`));
    if (pidFileWritten && opts.pidFile) removePidFile(opts.pidFile);
    store.remove(id);
    // runtime.md#lifecycle: a failed create hook stops the container and the
    // lifecycle goes on at delete, whose poststop hooks still run.
    if (rec.pid > 0 && spec.hooks?.poststop?.length) {
      for (const w of await runHooksAll('poststop', spec.hooks.poststop, JSON.stringify(ociState(rec, 'stopped')))) ctx.log('warn', prefix(w.message));
    }
    throw toHakoError(e, prefix);
  } finally {
    if (consoleFd >= 0) native().close(consoleFd);
    if (pidfdSockFd >= 0) native().close(pidfdSockFd);
    closeCloneIntoFd(cgroupFd);
    handover?.close();
    session?.close();
    lock.release();
  }
}

/** exec.fifo, which start opens to let the init exec. */
function makeExecFifo(fifoPath: string): void {
  native().mkfifo(fifoPath, 0o622);
  // Whatever our umask: the init may have switched to any uid before it
  // opens the fifo for writing (through its O_PATH fd, so only the fifo's
  // own mode is checked).
  chmodSync(fifoPath, 0o622);
}

/** The launcher makes the user namespace itself and waits for its maps before it clones the init (addon/launcher/nsenter.c). */
function userMapsWriter(spec: Spec, maps: UserMapsPlan, prefix: (m: string) => string): (launcherPid: number) => void {
  return (launcherPid) => {
    try {
      writeUserMaps(launcherPid, spec, maps);
    } catch (e) {
      throw toHakoError(e, prefix);
    }
  };
}

/** The init exists: its pid recorded, and it put in its cgroup. */
function recordInit(
  ctx: RuntimeContext,
  store: Store,
  rec: ContainerRecord,
  session: InitSession,
  cgm: CgroupManager | null,
  prefix: (m: string) => string,
): void {
  rec.pid = session.pid;
  rec.initStartTime = procStat(session.pid)?.startTime ?? '';
  // Recorded at once (still "creating"), so that should this create die,
  // delete can tell the init by its start time and stop it even without a
  // cgroup. Interim: the write after the hooks replaces it.
  store.write(rec, { interim: true });
  // The init waits for MSG_GO before it runs anything of the container's:
  // joining the cgroup now is before any container code. Under systemd
  // this is when the unit is made (around this pid) and limited.
  if (session.inCgroup) ctx.log('debug', prefix('the init was cloned into its cgroup (CLONE_INTO_CGROUP)'));
  else if (cgm) for (const w of enterCgroup(cgm, session.pid)) ctx.log('warn', prefix(w));
}

/** prestart and createRuntime here, then MSG_GO with the states the init's own hooks get. */
async function runCreateHooks(session: InitSession, spec: Spec, rec: ContainerRecord, newNamespaces: number): Promise<void> {
  // The status each kind is told, and why: src/hooks/kinds.ts.
  await runHooks('prestart', spec.hooks?.prestart, JSON.stringify(ociState(rec, HOOK_STATUS.prestart)));
  await runHooks('createRuntime', spec.hooks?.createRuntime, JSON.stringify(ociState(rec, HOOK_STATUS.createRuntime)));
  // createContainer and startContainer hooks run inside the container:
  // they get the init's pid as seen there, as runc gives it.
  const inside = (status: ContainerStatus) => {
    const st = ociState(rec, status);
    if ((newNamespaces & 0x20000000) !== 0) st.pid = 1;
    return JSON.stringify(st);
  };
  await session.go(inside(HOOK_STATUS.createContainer), inside(HOOK_STATUS.startContainer));
}
