// The library's operations, for a program that runs containers for a long
// time: each returns a Promise and fails with a HakoError; the processes it
// starts are reaped (reaper.ts); calls for one container are queued in
// order, calls for different ones run side by side. The CLI uses
// src/container/* directly.
import path from 'node:path';
import { type HakoError, notFound, toHakoError } from '../errors.js';
import type { RuntimeContext } from '../container/context.js';
import { create as createContainer, type CreateOptions as CoreCreateOptions, type Created } from '../container/create.js';
import { start as startContainer } from '../container/start.js';
import { killContainer } from '../container/kill.js';
import { deleteContainer, type DeleteOptions } from '../container/delete.js';
import { list as listContainers, state as containerState } from '../container/query.js';
import { launchExec, type ExecOptions as CoreExecOptions } from '../container/exec.js';
import { processes as containerProcesses } from '../container/ps.js';
import { pause as pauseContainer, resume as resumeContainer } from '../container/pause.js';
import { update as updateContainer, type UpdateOptions } from '../container/update.js';
import { isAlive, procStat } from '../container/proc.js';
import { storeFor, type ContainerRecord } from '../container/store.js';
import type { OciState } from '../container/status.js';
import { statsEvent, streamEvents, type StreamOptions } from '../container/events.js';
import type { LinuxResources } from '../spec/types.js';
import { explainBundle, type Explanation, type ExplainOptions } from '../explain/explain.js';
import { adopt, exitOf, forget, isAdopted, whenExited, type ExitStatus } from './reaper.js';
import { signalNumber, type Signal } from './signals.js';
import { openStdio, type StdioOption, type StdioStreams } from './stdio.js';

export type { ExitStatus, Signal, StdioOption, StdioStreams, DeleteOptions, StreamOptions, Explanation, ExplainOptions };

/** How `create` and `run` make the container: the CLI's create flags, and its stdio. */
export interface CreateOptions extends Omit<CoreCreateOptions, 'foreground' | 'stdio'> {
  /** The init's stdin, stdout, stderr (default: this process's). */
  stdio?: readonly StdioOption[];
}

/** A created container: its init's pid, its config, and the 'pipe' ends. */
export interface Container extends Created, StdioStreams {}

/** What `exec` runs and how: the CLI's exec flags, and its stdio. */
export interface ExecOptions extends Omit<CoreExecOptions, 'detach' | 'stdio'> {
  /** The process's stdin, stdout, stderr (default: this process's). */
  stdio?: readonly StdioOption[];
}

/** A process started in a container. */
export interface ExecProcess extends StdioStreams {
  /** Its host pid. */
  pid: number;
  /** Its exit status, once it has exited (it is reaped either way). */
  wait(): Promise<ExitStatus>;
}

/** Which processes `kill` signals. */
export interface KillOptions {
  /** Every process of the container, not only its init. */
  all?: boolean;
}

/** Anything thrown, as a HakoError (kind 'system' unless it carries one). */
function asHakoError(e: unknown): HakoError {
  return toHakoError(e);
}

async function guarded<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw asHakoError(e);
  }
}

// The container locks are flocks taken blocking: two calls of ours for one
// container must not both reach them, or the second would block the event
// loop that the first needs to finish. So they queue here first.
const queues = new Map<string, Promise<unknown>>();

function serial<T>(ctx: RuntimeContext, id: string, fn: () => T | Promise<T>): Promise<T> {
  const key = `${path.resolve(ctx.root)}\0${id}`;
  const before = queues.get(key) ?? Promise.resolve();
  const mine = before.then(() => guarded(fn));
  const tail = mine.catch(() => {});
  queues.set(key, tail);
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return mine;
}

function record(ctx: RuntimeContext, id: string): ContainerRecord | null {
  return storeFor(ctx).load(id)?.rec ?? null;
}

/**
 * An init that became our child another way: its creator exited and this
 * process is the subreaper it was reparented to (PR_SET_CHILD_SUBREAPER).
 * Reaped like our own from now on; its status from now on too.
 */
function adoptOrphan(rec: ContainerRecord): Promise<ExitStatus> | undefined {
  const st = procStat(rec.pid);
  if (!st || st.ppid !== process.pid || st.startTime !== rec.initStartTime) return undefined;
  adopt(rec.pid, true);
  return exitOf(rec.pid, rec.initStartTime);
}

/** Creates the container; its init waits for start. */
export function create(ctx: RuntimeContext, id: string, opts: CreateOptions = {}): Promise<Container> {
  return serial(ctx, id, async () => {
    const { stdio, ...rest } = opts;
    const io = openStdio(stdio);
    let created: Created;
    try {
      created = await createContainer(ctx, id, { ...rest, stdio: io.launcher });
    } catch (e) {
      io.close();
      throw e;
    }
    adopt(created.pid, true);
    return { ...created, ...io.streams() };
  });
}

/** Lets the created container's process run. */
export function start(ctx: RuntimeContext, id: string): Promise<void> {
  return serial(ctx, id, () => startContainer(ctx, id));
}

/** create, then start; a failed start deletes the container again. */
export async function run(ctx: RuntimeContext, id: string, opts: CreateOptions = {}): Promise<Container> {
  const c = await create(ctx, id, opts);
  try {
    await start(ctx, id);
  } catch (e) {
    await remove(ctx, id, { force: true }).catch(() => {});
    throw e;
  }
  return c;
}

/** The container's OCI state. */
export function state(ctx: RuntimeContext, id: string): Promise<OciState> {
  return guarded(() => containerState(ctx, id));
}

/** Every container under ctx.root. */
export function list(ctx: RuntimeContext): Promise<OciState[]> {
  return guarded(() => listContainers(ctx));
}

/** Sends a signal ('SIGTERM' by default; a name or a number) to the init, or with `all` to every process. */
export function kill(ctx: RuntimeContext, id: string, signal: Signal = 'SIGTERM', opts: KillOptions = {}): Promise<void> {
  return guarded(() => signalNumber(signal)).then((sig) => serial(ctx, id, () => killContainer(ctx, id, sig, { all: opts.all === true })));
}

/**
 * Settles once the container's init has exited, with its exit status when
 * this process created it (and so is its parent). Both fields are null for
 * a container another process created: its status went to that process.
 */
export function wait(ctx: RuntimeContext, id: string): Promise<ExitStatus> {
  return guarded(async () => {
    const rec = record(ctx, id);
    if (!rec) throw notFound(id);
    const ours = exitOf(rec.pid, rec.initStartTime) ?? adoptOrphan(rec);
    if (ours) return ours;
    await whenExited(rec.pid, rec.initStartTime, () => isAlive(rec.pid, rec.initStartTime));
    return { exitCode: null, signal: null };
  });
}

/** Removes a stopped container (with `force`, stops it first); its init is reaped by then. */
export function remove(ctx: RuntimeContext, id: string, opts: DeleteOptions = {}): Promise<void> {
  return serial(ctx, id, async () => {
    const rec = record(ctx, id);
    if (rec) adoptOrphan(rec);
    await deleteContainer(ctx, id, opts);
    if (!rec) return;
    if (isAdopted(rec.pid)) await exitOf(rec.pid, rec.initStartTime);
    forget(rec.pid, rec.initStartTime);
  });
}

/**
 * Starts a process in a running container (as `hako exec -d`, with the
 * given stdio); `wait()` gives its exit status. A terminal (`tty`) needs a
 * `consoleSocket`.
 */
export function exec(ctx: RuntimeContext, id: string, opts: ExecOptions): Promise<ExecProcess> {
  return serial(ctx, id, async () => {
    const { stdio, ...rest } = opts;
    const io = openStdio(stdio);
    let pid: number;
    try {
      ({ pid } = await launchExec(ctx, id, { ...rest, detach: true, stdio: io.launcher }));
    } catch (e) {
      io.close();
      throw e;
    }
    const child = adopt(pid, false);
    return { pid, ...io.streams(), wait: child.wait };
  });
}

/** Host pids of the container's processes. */
export function processes(ctx: RuntimeContext, id: string): Promise<number[]> {
  return serial(ctx, id, () => containerProcesses(ctx, id));
}

/** Freezes every process of the container (its cgroup's freezer). */
export function pause(ctx: RuntimeContext, id: string): Promise<void> {
  return serial(ctx, id, () => pauseContainer(ctx, id));
}

/** Thaws a paused container. */
export function resume(ctx: RuntimeContext, id: string): Promise<void> {
  return serial(ctx, id, () => resumeContainer(ctx, id));
}

/**
 * Changes a created, running or paused container's resource limits
 * (`hako update -r`): `resources` is merged onto what the container has
 * (a 0 leaves a limit as it is, as in runc), written to its cgroup, and
 * recorded for later updates.
 *
 * @param opts `source` names the request in error messages (default 'resources').
 */
export function update(ctx: RuntimeContext, id: string, resources: LinuxResources, opts: Partial<UpdateOptions> = {}): Promise<void> {
  return serial(ctx, id, () => updateContainer(ctx, id, resources, { source: opts.source ?? 'resources' }));
}

/**
 * A stats event, in runc's shape: `stats`'s result, and what `events` gives
 * `emit` every interval (as a JSON line). `events` also gives
 * `{"type":"oom","id":...}` each time the OOM killer kills one of the
 * container's processes.
 */
export interface StatsEvent {
  /** 'stats'. */
  type: string;
  /** The container's id. */
  id: string;
  /** The container's statistics, as runc's: `cpu`, `memory`, `pids`, `blkio`, `hugetlb`... */
  data: Record<string, unknown>;
}

/** One stats event (`hako events --stats`), parsed: `{ type: 'stats', id, data }`. */
export function stats(ctx: RuntimeContext, id: string): Promise<StatsEvent> {
  return guarded(() => JSON.parse(statsEvent(ctx, id)));
}

/** `hako events`: stats every interval and oom events, to `emit`, until the container stops or `signal` aborts. */
export function events(ctx: RuntimeContext, id: string, opts: StreamOptions): Promise<void> {
  return guarded(() => streamEvents(ctx, id, opts));
}

/**
 * What `create` (or, with `processFile`, an `exec` of that process.json)
 * would do with a bundle, as data: the launcher's plan by section, the
 * cgroup writes, the seccomp summary, the hooks. Does none of it (src/explain).
 */
export async function explain(ctx: RuntimeContext, opts: ExplainOptions = {}): Promise<Explanation> {
  return guarded(() => explainBundle(ctx, opts));
}
