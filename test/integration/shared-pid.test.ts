// Containers whose init is not the init of their pid namespace (the host's,
// or a Pod's shared one joined by path): when the init exits, its children
// and the processes exec'd into the container live on in its cgroup. What
// containerd's runc shim (and so the Kubernetes CRI) relies on from runc
// 1.1.5 then, each checked here:
//   - `state`: stopped, pid 0 (the shim asks after the init's exit);
//   - `kill ID SIG`: "container not running", exit 1 (only the init);
//   - `kill --all ID SIG`: exit 0, and what is left in the cgroup gets the
//     signal (the shim's KillAll on the init's exit; containerd's task
//     delete sends SIGKILL this way and waits for those processes);
//   - `delete` (not forced): exit 0, and it SIGKILLs what is left first
//     (runc's destroy does, for a container without a pid namespace of its
//     own), leaving no cgroup;
//   - `delete --force`: the same;
//   - `kill --all` of a stopped container with nothing left: exit 0.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Env, HAKO, isRoot, uniqueId } from '../helpers.js';
import { isAlive } from '../../src/container/proc.js';
import { assertNothingLeft, cgroupDirs } from './state-lib.js';

const t = suite('shared-pid');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(f: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (f()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting: ${what}`);
}

const state = (id: string) => JSON.parse(env.hako(['state', id]).stdout);
const hostPid = (file: string) => Number(readFileSync(file, 'utf8').trim());

/**
 * A running container with no pid namespace of its own (`pidns` joined by
 * path, else the host's) whose init has a child, plus one exec'd process.
 */
async function withLeftovers(pidns?: string): Promise<{ id: string; bundle: string; child: number; execd: number; cgroups: string[] }> {
  const bundle = env.bundle((c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'pid');
    if (pidns) c.linux.namespaces.push({ type: 'pid', path: pidns });
    c.root.readonly = false;
    // /started: the child is there.
    c.process.args = ['sh', '-c', 'sleep 1000 & touch /started; exec sleep 1000'];
  });
  const id = uniqueId('shpid');
  assert.is(env.hako(['run', '-d', '--bundle', bundle, id]).status, 0);
  const execPid = path.join(env.dir, `${id}.exec.pid`);
  const ex = env.hako(['exec', '-d', '--pid-file', execPid, id, 'sleep', '1000']);
  assert.is(ex.status, 0, ex.stderr);
  await until(() => existsSync(path.join(bundle, 'rootfs/started')), 'the init child');
  const init = state(id).pid;
  // The init's child: the only other sleep whose parent is the init.
  const child = cgroupMembers(id).find((p) => p !== init && readStat(p).ppid === init);
  assert.ok(child, 'the init has its child');
  return { id, bundle, child: child!, execd: hostPid(execPid), cgroups: cgroupDirs(env.root, id) };
}

function readStat(pid: number): { ppid: number } {
  const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return { ppid: Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) };
}

/** Live processes in the container's cgroup (its first hierarchy that lists them). */
function cgroupMembers(id: string): number[] {
  for (const dir of cgroupDirs(env.root, id)) {
    const f = path.join(dir, 'cgroup.procs');
    if (!existsSync(f)) continue;
    return readFileSync(f, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number)
      .filter((p) => isAlive(p));
  }
  return [];
}

async function killInit(id: string): Promise<void> {
  assert.is(env.hako(['kill', id, 'KILL']).status, 0);
  await until(() => state(id).status === 'stopped', 'the init to die');
}

t.before.each(() => {
  if (!isRoot) throw new Error('these tests need root (cgroups)');
});

t('host pid namespace: the init dies, its child and an exec live on: state, kill, kill --all, delete', async () => {
  const c = await withLeftovers();
  await killInit(c.id);
  const s = state(c.id);
  assert.is(s.status, 'stopped');
  assert.is(s.pid, 0);
  assert.ok(isAlive(c.child) && isAlive(c.execd), 'the init child and the exec live on');

  const k = env.hako(['kill', c.id, 'TERM']);
  assert.is(k.status, 1, 'kill without --all: only the init, which is gone');
  assert.match(k.stderr, /container not running/);
  assert.ok(isAlive(c.child) && isAlive(c.execd), 'kill without --all signalled nothing');

  const all = env.hako(['kill', '--all', c.id, 'TERM']);
  assert.is(all.stderr, '');
  assert.is(all.status, 0, 'kill --all of a stopped container');
  await until(() => !isAlive(c.child) && !isAlive(c.execd), 'SIGTERM to reach what was left');

  const again = env.hako(['kill', '--all', c.id, 'KILL']);
  assert.is(again.status, 0, 'kill --all with nothing left');
  const d = env.hako(['delete', c.id]);
  assert.is(d.stderr, '');
  assert.is(d.status, 0);
  assertNothingLeft(env.root, c.cgroups, c.bundle, 'delete');
});

t('host pid namespace: a plain delete kills what the init left, as runc does', async () => {
  const c = await withLeftovers();
  await killInit(c.id);
  const d = env.hako(['delete', c.id]);
  assert.is(d.stderr, '');
  assert.is(d.status, 0);
  assert.not.ok(isAlive(c.child) || isAlive(c.execd), 'the leftovers are killed');
  assertNothingLeft(env.root, c.cgroups, c.bundle, 'delete');
});

t('host pid namespace: delete --force of such a container kills what the init left too', async () => {
  const c = await withLeftovers();
  await killInit(c.id);
  const d = env.hako(['delete', '--force', c.id]);
  assert.is(d.stderr, '');
  assert.is(d.status, 0);
  assert.not.ok(isAlive(c.child) || isAlive(c.execd), 'the leftovers are killed');
  assertNothingLeft(env.root, c.cgroups, c.bundle, 'delete --force');
});

t("a Pod's shared pid namespace (joined by path): kill --all after the init's exit reaches the exec, and not the Pod", async () => {
  const podBundle = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const pod = uniqueId('pod');
  assert.is(env.hako(['run', '-d', '--bundle', podBundle, pod]).status, 0);
  const podPid = state(pod).pid;
  const c = await withLeftovers(`/proc/${podPid}/ns/pid`);
  await killInit(c.id);
  assert.is(state(c.id).pid, 0);
  assert.ok(isAlive(c.child) && isAlive(c.execd), 'the init child and the exec live on');
  // containerd's shim: KillAll on the init's exit, then delete.
  assert.is(env.hako(['kill', '--all', c.id, 'KILL']).status, 0);
  await until(() => !isAlive(c.child) && !isAlive(c.execd), 'SIGKILL to reach what was left');
  assert.is(env.hako(['delete', c.id]).status, 0);
  assert.is(state(pod).status, 'running', 'the Pod lives on');
  const podCgroups = cgroupDirs(env.root, pod);
  assert.is(env.hako(['delete', '--force', pod]).status, 0);
  assertNothingLeft(env.root, [...c.cgroups, ...podCgroups], c.bundle, 'delete');
  assertNothingLeft(env.root, [], podBundle, 'delete of the Pod');
});

t('own pid namespace: kill --all of a stopped container exits 0, kill exits 1', async () => {
  const bundle = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('ownpid');
  assert.is(env.hako(['run', '-d', '--bundle', bundle, id]).status, 0);
  const cgroups = cgroupDirs(env.root, id);
  await killInit(id);
  assert.is(env.hako(['kill', '--all', id, 'KILL']).status, 0);
  assert.is(env.hako(['kill', id, 'KILL']).status, 1);
  assert.is(env.hako(['delete', id]).status, 0);
  assertNothingLeft(env.root, cgroups, bundle, 'delete');
});

const RUNC = '/usr/sbin/runc';

/**
 * The answers of `runtime` (hako, or runc for comparison) in the story
 * above: a host-pid container whose init is killed while its child and an
 * exec'd process live on. Exit statuses and what state says; whether
 * `kill --all` reached the leftovers; whether `delete` then worked.
 */
async function answers(runtime: string): Promise<Record<string, unknown>> {
  const root = path.join(env.dir, `answers-${path.basename(runtime)}`);
  // Only `state` is read: the others' stdio is /dev/null, since the
  // container would hold pipes open long after the runtime has exited.
  const run = (args: string[]) =>
    spawnSync(runtime, ['--root', root, ...args], { encoding: 'utf8', stdio: ['ignore', args[0] === 'state' ? 'pipe' : 'ignore', 'ignore'], timeout: 60_000 });
  const bundle = env.bundle((c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'pid');
    c.root.readonly = false;
    c.process.args = ['sh', '-c', 'sleep 1000 & touch /started; exec sleep 1000'];
  });
  const id = uniqueId('answers');
  const execPid = path.join(env.dir, `${id}.exec.pid`);
  try {
    assert.is(run(['create', '--bundle', bundle, id]).status, 0, `${runtime} create`);
    assert.is(run(['start', id]).status, 0, `${runtime} start`);
    assert.is(run(['exec', '-d', '--pid-file', execPid, id, 'sleep', '1000']).status, 0, `${runtime} exec`);
    await until(() => existsSync(path.join(bundle, 'rootfs/started')), `${runtime}: the init child`);
    const stateOf = () => JSON.parse(run(['state', id]).stdout);
    const execd = hostPid(execPid);
    assert.is(run(['kill', id, 'KILL']).status, 0);
    await until(() => stateOf().status === 'stopped', `${runtime}: the init to die`);
    const { status, pid } = stateOf();
    const kill = run(['kill', id, 'TERM']).status;
    const killAll = run(['kill', '--all', id, 'TERM']).status;
    await until(() => !isAlive(execd), `${runtime}: kill --all to reach the exec'd process`);
    const del = run(['delete', id]).status;
    return { status, pid, kill, killAll, del, stateAfter: run(['state', id]).status };
  } finally {
    run(['delete', '--force', id]);
  }
}

t('the same answers as runc 1.1.5, side by side', async () => {
  if (!existsSync(RUNC)) {
    console.log(`${RUNC} missing (Debian package runc, a client package): comparison skipped`);
    return;
  }
  const runc = await answers(RUNC);
  assert.equal(runc, { status: 'stopped', pid: 0, kill: 1, killAll: 0, del: 0, stateAfter: 1 }, "runc's answers, as this file says");
  assert.equal(await answers(HAKO), runc);
});

t.run();
