// The mount race tests' tools: mount-attacks.c (the co-tenant's rename loop
// and the controls, which do what a runtime without the defence did),
// compiled once per test file with the host's cc.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { HAKO, REPO, type Env, type Result } from '../helpers.js';

/** Compiles a C file of the repository (relative path) into the test's directory; the binary's path. */
export function compile(env: Env, source: string): string {
  const out = path.join(env.dir, path.basename(source, '.c'));
  const r = spawnSync('cc', ['-O2', '-Wall', '-o', out, path.join(REPO, source)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc ${source}: ${r.error ?? r.stderr}`);
  return out;
}

/** mount-attacks.c, compiled. */
export function buildAttacks(env: Env): string {
  return compile(env, 'test/security/mount-attacks.c');
}

/**
 * bin/hako under test/fixtures/old-mount-api.c (compiled to `wrapper`): a
 * seccomp filter refusing the new mount API, as an outer container
 * profile older than it would (only511: refusing only mount_setattr, as a
 * profile written for Linux 5.11). Output through files, as env.hako does.
 */
export function hakoWithoutNewMountApi(env: Env, wrapper: string, args: string[], only511 = false): Result {
  const out = path.join(env.dir, '.old-api-out');
  const err = path.join(env.dir, '.old-api-err');
  const o = openSync(out, 'w');
  const e = openSync(err, 'w');
  try {
    const r = spawnSync(wrapper, [...(only511 ? ['--5.11'] : []), HAKO, '--root', env.root, ...args], { timeout: 60_000, stdio: ['ignore', o, e] });
    if (r.error) throw r.error;
    return { status: r.status, stdout: readFileSync(out, 'utf8'), stderr: readFileSync(err, 'utf8') };
  } finally {
    closeSync(o);
    closeSync(e);
    rmSync(out, { force: true });
    rmSync(err, { force: true });
  }
}

/**
 * Where in a shared volume the racer renames: eight directories down, so
 * that every lookup through it (the runtime's and the control's alike)
 * takes longer and a check-then-use window is easier to hit. Made under
 * `volume`; `rel` is the part inside it.
 */
export function racingDir(volume: string): { dir: string; rel: string } {
  const rel = 'd1/d2/d3/d4/d5/d6/d7/d8';
  const dir = path.join(volume, rel);
  mkdirSync(dir, { recursive: true });
  return { dir, rel };
}

/**
 * The co-tenant: a process exchanging dir/a and dir/b with renameat2 in a
 * loop, as any container sharing the volume may. Pinned to the last CPU
 * (when there is more than one), so that it keeps running beside the
 * runtime rather than in turns with it. It counts its exchanges in a file
 * the controls watch (mount-attacks.c). Dies with the test process
 * (PR_SET_PDEATHSIG) if not stopped.
 */
export class Racer {
  private readonly child: ChildProcess;
  readonly counter: string;
  constructor(tools: string, dir: string, a: string, b: string, cpu: number | undefined = availableParallelism() > 1 ? availableParallelism() - 1 : undefined) {
    this.counter = path.join(path.dirname(tools), `.racer-${process.pid}-${++racers}`);
    writeFileSync(this.counter, Buffer.alloc(8)); // there before any control maps it
    this.child = spawn(tools, ['exchange', dir, a, b, cpu === undefined ? '-' : String(cpu), this.counter], { stdio: 'ignore' });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Stops it where it is (between two exchanges) until resume(). */
  pause(): void {
    this.child.kill('SIGSTOP');
    // The signal is taken at the next return to user space: wait for it.
    for (let i = 0; i < 100_000; i++) {
      const state = readFileSync(`/proc/${this.pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
      if (state === 'T') return;
    }
    throw new Error('the racer did not stop');
  }

  resume(): void {
    this.child.kill('SIGCONT');
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

let racers = 0;

/**
 * How many attempts a control gets. One attempt (a fork, a private mount
 * namespace, the check and the use) takes about half a millisecond, so this
 * bounds a control at a second or two. On the 2-core development machine,
 * loaded by other work, the controls won within 1 to 71 attempts (medians
 * 2 to 10) in 30 runs each, with rare stretches of a few hundred while the
 * racer did not get the CPU.
 */
export const CONTROL_ATTEMPTS = 2000;

/**
 * Runs a control (mount-attacks.c's comment lists them) for at most n
 * attempts, each started while `racer` is seen running: the attempt that
 * won (1-based), or -1.
 */
export function control(tools: string, kind: string, args: string[], n: number, racer?: Racer): number {
  const env = racer ? { ...process.env, RACER_COUNTER: racer.counter } : process.env;
  const r = spawnSync(tools, [kind, ...args, String(n)], { encoding: 'utf8', timeout: 120_000, env });
  if (r.status !== 0) throw new Error(`control ${kind}: ${r.error ?? r.stderr}`);
  const m = /^(won|lost) (\d+)$/.exec(r.stdout.trim());
  if (!m) throw new Error(`control ${kind}: unexpected output ${JSON.stringify(r.stdout)}`);
  return m[1] === 'won' ? Number(m[2]) : -1;
}

/** Lines of /proc/self/mountinfo as fields: root (4th) and mount point (5th), options (6th). */
export function mountinfo(text: string): Array<{ root: string; point: string; opts: string; fstype: string }> {
  return text
    .split('\n')
    .filter((l) => / - /.test(l))
    .map((l) => {
      const [a, b] = l.split(' - ');
      const f = a!.split(' ');
      return { root: f[3]!, point: f[4]!, opts: f[5]!, fstype: b!.split(' ')[0]! };
    });
}
