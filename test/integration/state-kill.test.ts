// SIGKILL at every system call: `create`, `start`, `exec` and `delete
// --force` of one container are killed at each of their syscalls in turn,
// then `delete --force` must leave nothing: no entry in the state root (no
// state or work directory, no temporary file), no cgroup, no process, no
// mount, and the id must be usable again.
//
// How: test/fixtures/killat (compiled here with cc) runs the command under
// ptrace, following its threads and child processes, and SIGKILLs process
// ROLE (1: hako, 2: the launcher it spawns, 3: the container init or the
// exec'd process the launcher clones) when that process's main thread
// enters its N-th syscall. strace cannot aim like this: its
// inject=...:signal=KILL:when=N counts per syscall name and per tracee, so
// one expression hits whichever tracee gets there first, and strace waits
// for every tracee to exit (a created init waits for `start` for ever).
//
// Which syscalls. A first run of each command under killat (no kill)
// counts the syscalls of each process and finds the first syscall of
// hako's main thread that touches the state root. Measured on the
// development machine (hybrid cgroups, Bun executable), main thread of
// hako / launcher / init or exec'd process:
//   create  ~660 (state from ~355 on) / ~120 / ~925
//   start   ~385 (state from ~305 on)
//   exec    ~540 (state from ~320 on) / ~125 / ~125
//   delete  ~470 (state from ~305 on)
// The first ~300 syscalls of every hako command are the Bun runtime
// starting and loading our code: nothing of the container's is touched,
// so a kill there can leave nothing (and a few checks show it). So:
//   - hako: every syscall from 5 before the first state-root touch to the
//     end, and a seeded sample of SAMPLE_BEFORE syscalls before that;
//   - the launcher and the init / exec'd process: a seeded sample of one
//     syscall in CHILD_STRIDE (at least their first and last): killing
//     them anywhere takes hako down one path (the launch fails and create
//     or exec undoes itself), and the init alone makes ~900 syscalls of
//     mount setup that would triple the run time.
// That is ~935 cases, 2-3 minutes here (the test prints its numbers).
// HAKO_KILL_ALL=1 kills at every syscall of every process instead (~3350
// cases); HAKO_KILL_SEED=N changes the sample; HAKO_KILL_COMMANDS=create,exec
// runs only those.
// A launcher killed after it cloned the init and before it reported the
// pid hung create and exec until issue 11 item 5 was fixed ("launcher
// death", branch rel-input): a tree without that fix fails here on those
// one or two cases, with "hako hung".
// The container has a nested cgroupsPath: the parent cgroups create makes
// must go too. A second test kills the create of a container without a
// mount namespace (its mounts land in our mount table) in its init's
// mounts and in hako's last syscalls: ~60 cases, a few seconds.
// Threads other than a process's main thread (Bun's GC and I/O threads)
// are not aimed at: a SIGKILL kills the whole process wherever its main
// thread is, which the main thread's syscalls already step through.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Env, HAKO, REPO, uniqueId } from '../helpers.js';
import { assertNothingLeft, cgroupDirs, cleanupRoots, errorLines, hk, record } from './state-lib.js';

const SEED = Number(process.env.HAKO_KILL_SEED ?? 0x5eed);
const ALL = process.env.HAKO_KILL_ALL === '1';
const SAMPLE_BEFORE = 8;
const CHILD_STRIDE = 12;
/** A command that has not ended after this is killed by killat (and the case fails). */
const TIMEOUT_S = 30;

const t = suite('state-kill');
let env: Env;
let killat: string;
t.before(() => {
  env = new Env();
  killat = path.join(env.dir, 'killat');
  const cc = spawnSync('cc', ['-O2', '-Wall', '-o', killat, path.join(REPO, 'test/fixtures/killat/killat.c')], { encoding: 'utf8' });
  assert.is(cc.status, 0, `cc (build-essential): ${cc.error?.message ?? cc.stderr}`);
});
const roots = new Set<string>();
t.after(() => {
  cleanupRoots(env, roots);
  env.cleanup();
});

/** mulberry32: a small seeded generator, so the sample is the same every run. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` distinct numbers from lo..hi (all of them if there are no more), sorted. */
function sample(random: () => number, lo: number, hi: number, n: number): number[] {
  if (hi < lo) return [];
  if (hi - lo + 1 <= n) return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  const got = new Set<number>();
  while (got.size < n) got.add(lo + Math.floor(random() * (hi - lo + 1)));
  return [...got].sort((a, b) => a - b);
}

interface Measured {
  /** Syscalls of each process's main thread, by role (index 0: role 1). */
  calls: number[];
  /** hako's first syscall (1-based) touching the state root. */
  firstState: number;
}

interface Command {
  name: string;
  /** What must exist before the command runs. */
  setup: (id: string) => void;
  args: (id: string) => string[];
}

t('SIGKILL of create, start, exec and delete at their syscalls, then delete --force: nothing is left', () => {
  const root = path.join(env.dir, uniqueId('root'));
  roots.add(root);
  const id = uniqueId('k');
  // A nested cgroupsPath: the parents create makes must go too, wherever
  // it was killed (their names are recorded before the first mkdir).
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    c.linux.cgroupsPath = `/hako-test-kill-${process.pid}/n/${id}`;
  });
  const ok = (args: string[], what: string) => {
    const r = hk(env, root, args);
    assert.is(r.status, 0, `${what}: ${args.join(' ')}: ${r.stderr}`);
  };
  ok(['create', '--bundle', b, id], 'reference');
  const parents: string[] = record(root, id).cgroupParents ?? [];
  const dirs = [...cgroupDirs(root, id), ...parents];
  assert.ok(dirs.length > parents.length, 'the container has a cgroup');
  assert.ok(parents.length > 0, 'and parents made for it');
  ok(['delete', '--force', id], 'reference');

  const commands: Command[] = [
    { name: 'create', setup: () => {}, args: (i) => ['create', '--bundle', b, i] },
    { name: 'start', setup: (i) => ok(['create', '--bundle', b, i], 'setup'), args: (i) => ['start', i] },
    {
      name: 'exec',
      setup: (i) => {
        ok(['create', '--bundle', b, i], 'setup');
        ok(['start', i], 'setup');
      },
      args: (i) => ['exec', i, 'true'],
    },
    {
      name: 'delete',
      setup: (i) => {
        ok(['create', '--bundle', b, i], 'setup');
        ok(['start', i], 'setup');
      },
      args: (i) => ['delete', '--force', i],
    },
  ];

  // stderr goes to a file, not a pipe: an init that a killed create left
  // waiting for `start` inherited it and would hold a pipe open.
  const errFile = path.join(env.dir, 'killat.err');
  const runKillat = (cmd: Command, extra: string[]) => {
    const fd = openSync(errFile, 'w');
    try {
      const r = spawnSync(killat, ['-t', String(TIMEOUT_S), ...extra, '--', HAKO, '--root', root, ...cmd.args(id)], {
        stdio: ['ignore', 'ignore', fd],
        timeout: (TIMEOUT_S + 30) * 1000,
      });
      if (r.error) throw r.error;
      return { status: r.status, stderr: readFileSync(errFile, 'utf8') };
    } finally {
      closeSync(fd);
    }
  };

  const cleanAfter = (what: string) => {
    const d = hk(env, root, ['delete', '--force', id]);
    assert.is(d.status, 0, `${what}: delete --force: ${d.stderr}`);
    assert.equal(errorLines(d.stderr), [], `${what}: delete --force said ${d.stderr}`);
    assertNothingLeft(root, dirs, b, what);
  };

  const measure = (cmd: Command): Measured => {
    cmd.setup(id);
    const log = path.join(env.dir, `killat-${cmd.name}.log`);
    const r = runKillat(cmd, ['-l', log]);
    assert.is(r.status, 0, `${cmd.name} under killat: ${r.stderr}`);
    const calls: number[] = [];
    let firstState = 0;
    for (const line of readFileSync(log, 'utf8').split('\n')) {
      if (!line) continue;
      const [role, main, k, , file] = line.split(' ');
      if (main !== '1') continue;
      calls[Number(role) - 1] = Number(k);
      if (role === '1' && !firstState && file && (file === root || file.startsWith(`${root}/`))) firstState = Number(k);
    }
    rmSync(log);
    assert.ok(firstState > 0, `${cmd.name}: hako touches ${root}`);
    cleanAfter(`${cmd.name}, measured`);
    return { calls, firstState };
  };

  const random = rng(SEED);
  const report: string[] = [];
  const t0 = Date.now();
  let cases = 0;
  const only = process.env.HAKO_KILL_COMMANDS?.split(',');
  for (const cmd of commands.filter((c) => !only || only.includes(c.name))) {
    const started = Date.now();
    const m = measure(cmd);
    const points: Array<[number, number]> = [];
    const hakoCalls = m.calls[0]!;
    const from = ALL ? 1 : Math.max(1, m.firstState - 5);
    for (const k of sample(random, 1, from - 1, SAMPLE_BEFORE)) points.push([1, k]);
    for (let k = from; k <= hakoCalls; k++) points.push([1, k]);
    for (let role = 2; role <= m.calls.length; role++) {
      const n = m.calls[role - 1] ?? 0;
      if (n === 0) continue;
      const ks = ALL ? sample(random, 1, n, n) : [...new Set([1, ...sample(random, 2, n - 1, Math.ceil(n / CHILD_STRIDE)), n])].sort((a, b) => a - b);
      for (const k of ks) points.push([role, k]);
    }
    let killed = 0;
    for (const [i, [role, k]] of points.entries()) {
      const what = `${cmd.name} killed at ${role}:${k}`;
      cmd.setup(id);
      const r = runKillat(cmd, ['-k', `${role}:${k}`]);
      assert.not.match(r.stderr ?? '', /killat: timeout/, `${what}: hako hung (${r.stderr})`);
      assert.ok(r.status !== null && r.status !== 2, `${what}: killat: ${r.stderr}`);
      if (/killat: killed/.test(r.stderr)) killed++;
      cleanAfter(what);
      // The id is usable again (the other commands' setup shows it every time).
      if (cmd.name === 'create' && (i % 25 === 0 || i === points.length - 1)) {
        ok(['create', '--bundle', b, id], `${what}: create again`);
        cleanAfter(`${what}: create again`);
      }
      cases++;
    }
    const s = ((Date.now() - started) / 1000).toFixed(0);
    report.push(`${cmd.name}: syscalls (main threads) ${m.calls.join(' / ')}, state from ${m.firstState}; ${points.length} cases, ${killed} kills made, ${s}s`);
  }
  console.log(
    `\n  state-kill (seed ${SEED}${ALL ? ', every syscall' : ''}):\n    ${report.join('\n    ')}\n    ${cases} cases in ${((Date.now() - t0) / 1000).toFixed(0)}s`,
  );
});

t('a container without a mount namespace: create killed while its init mounts, or after; delete --force unmounts it all', () => {
  // Its mounts land in our mount table (src/container/rootfs-mounts.ts):
  // the record names what was below the rootfs before, so whatever a
  // killed create left there is found. A sample of the init's syscalls
  // (its mounts are most of them) and of hako's once the state exists.
  const root = path.join(env.dir, uniqueId('root'));
  roots.add(root);
  const id = uniqueId('km');
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'mount');
    c.root.readonly = false;
  });
  const errFile = path.join(env.dir, 'killat-m.err');
  const run = (extra: string[]) => {
    const fd = openSync(errFile, 'w');
    try {
      const r = spawnSync(killat, ['-t', String(TIMEOUT_S), ...extra, '--', HAKO, '--root', root, 'create', '--bundle', b, id], {
        stdio: ['ignore', 'ignore', fd],
        timeout: (TIMEOUT_S + 30) * 1000,
      });
      if (r.error) throw r.error;
      return { status: r.status, stderr: readFileSync(errFile, 'utf8') };
    } finally {
      closeSync(fd);
    }
  };
  const cleanAfter = (what: string) => {
    const d = hk(env, root, ['delete', '--force', id]);
    assert.is(d.status, 0, `${what}: delete --force: ${d.stderr}`);
    assert.equal(errorLines(d.stderr), [], `${what}: delete --force said ${d.stderr}`);
    assertNothingLeft(root, [], b, what);
  };
  const log = path.join(env.dir, 'killat-m.log');
  const measured = run(['-l', log]);
  assert.is(measured.status, 0, `create under killat: ${measured.stderr}`);
  assert.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(b), 'its mounts are in our table');
  const calls: number[] = [];
  let firstState = 0;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [role, main, k, , file] = line.split(' ');
    if (main !== '1') continue;
    calls[Number(role) - 1] = Number(k);
    if (role === '1' && !firstState && file && (file === root || file.startsWith(`${root}/`))) firstState = Number(k);
  }
  rmSync(log);
  cleanAfter('measured');
  assert.ok(firstState > 0 && (calls[2] ?? 0) > 0, `hako touches ${root}, and an init ran`);
  const random = rng(SEED ^ 0x6d6e74);
  const points: Array<[number, number]> = [
    ...sample(random, firstState, calls[0]!, 20).map((k): [number, number] => [1, k]),
    // hako's last syscalls: the init mounts after MSG_GO, near the end.
    ...sample(random, calls[0]! - 60, calls[0]!, 20).map((k): [number, number] => [1, k]),
    ...sample(random, 1, calls[2]!, 20).map((k): [number, number] => [3, k]),
  ];
  let killed = 0;
  let leftMounts = 0;
  for (const [role, k] of points) {
    const what = `create without a mount namespace killed at ${role}:${k}`;
    const r = run(['-k', `${role}:${k}`]);
    assert.not.match(r.stderr, /killat: timeout/, `${what}: hako hung (${r.stderr})`);
    assert.ok(r.status !== null && r.status !== 2, `${what}: killat: ${r.stderr}`);
    if (/killat: killed/.test(r.stderr)) killed++;
    if (readFileSync('/proc/self/mountinfo', 'utf8').includes(b)) leftMounts++;
    cleanAfter(what);
  }
  console.log(`\n  without a mount namespace: ${points.length} cases, ${killed} kills made, ${leftMounts} left mounts for delete --force`);
  assert.ok(leftMounts > 0, 'some kills left mounts behind: the cases reach the interesting part');
});

t.run();
