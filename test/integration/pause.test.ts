// `pause` / `resume` through the container's cgroup freezer, on whatever
// layout the host has (v1 freezer on hybrid hosts; cgroup.freeze in the
// pure v2 VM lane): processes really stop and start again, `state` follows,
// the commands print nothing when they succeed (containerd reads stdout and
// stderr through one pipe), and no frozen cgroup is left behind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';
import { existsSync, readFileSync } from 'node:fs';
import { Env, uniqueId } from '../helpers.js';

const t = suite('pause');
const test = skippable(t, 'pause');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const guest = process.env.HAKO_VM_GUEST === '1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The container's counter, bumped every 50 ms, read through its root.
const TICKER = 'i=0; while :; do i=$((i+1)); echo $i > /dev/shm/tick; usleep 50000; done';

function state(id: string): { status: string; pid: number } {
  const r = env.hako(['state', id]);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** `run -d`; the init's pid from --pid-file (a `state` call costs seconds in the VM lane). */
function runD(id: string, b: string): number {
  const pidFile = `${b}.pid`;
  const r = env.hako(['run', '-d', '--pid-file', pidFile, '--bundle', b, id]);
  assert.is(r.status, 0, r.stderr);
  return Number(readFileSync(pidFile, 'utf8'));
}

function tick(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/root/dev/shm/tick`, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

async function until(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.unreachable(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** What the kernel says about the freezer of the cgroup `pid` is in (v1 freezer.state, else v2 cgroup.events). */
function frozen(pid: number): boolean {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines.find((l) => l.split(':')[1]!.split(',').includes('freezer'));
  if (v1) return readFileSync(`/sys/fs/cgroup/freezer${v1.split(':')[2]}/freezer.state`, 'utf8').trim() === 'FROZEN';
  const v2 = lines.find((l) => l.startsWith('0::'))!;
  return /^frozen 1$/m.test(readFileSync(`/sys/fs/cgroup${v2.slice(3)}/cgroup.events`, 'utf8'));
}

/** The process is gone, or a zombie nobody has reaped yet. */
function gone(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

function fails(args: string[], re: string): void {
  const r = env.hako(args);
  assert.is(r.status, 1, `${args.join(' ')} fails`);
  assert.match(r.stderr, re);
}

function quiet(args: string[]): void {
  const r = env.hako(args);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '', `${args[0]} prints nothing on stdout`);
  assert.is(r.stderr, '', `${args[0]} prints nothing on stderr`);
}

test('pause stops every process, resume lets them go on; state says paused, then running', async () => {
  const id = uniqueId('pause');
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', `${TICKER} & ${TICKER.replace('/dev/shm/tick', '/dev/shm/tick2')}`]));
  const pid = runD(id, b);
  await until('the ticker', () => tick(pid) > 2);

  quiet(['pause', id]);
  assert.is(state(id).status, 'paused');
  assert.ok(frozen(pid), 'the kernel reports the cgroup frozen');
  const a = tick(pid);
  const a2 = Number(readFileSync(`/proc/${pid}/root/dev/shm/tick2`, 'utf8'));
  await sleep(500);
  assert.is(tick(pid), a, 'the init does not run while paused');
  assert.is(Number(readFileSync(`/proc/${pid}/root/dev/shm/tick2`, 'utf8')), a2, 'nor does its child');
  // runc's words; a refused pause changes nothing.
  fails(['pause', id], `container "${id}": container not running`);
  assert.ok(frozen(pid));

  quiet(['resume', id]);
  assert.is(state(id).status, 'running');
  assert.not.ok(frozen(pid));
  await until('the ticker to go on', () => tick(pid) > a + 2);
  fails(['resume', id], `container "${id}": container not paused`);
  assert.is(env.hako(['delete', '--force', id]).status, 0);
});

// Not about the cgroup layout: the v2 VM lane, where every command costs
// seconds, leaves this to the host.
test("runc's errors for a created, stopped or missing container", async () => {
  if (guest) skip('runs on the host only: the guest leaves it to the host');
  const id = uniqueId('pause');
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  // created: not running (and stays created, unfrozen)
  assert.is(env.hako(['create', '--bundle', b, id]).status, 0);
  fails(['pause', id], `container "${id}": container not running`);
  const { pid, status } = state(id);
  assert.is(status, 'created');
  assert.not.ok(frozen(pid));
  fails(['resume', id], 'container not paused');

  quiet(['start', id]);
  assert.is(env.hako(['kill', id, 'KILL']).status, 0);
  await until('the container to stop', () => gone(pid));
  fails(['pause', id], 'container not running');
  fails(['resume', id], 'container not paused');
  quiet(['delete', id]);

  for (const cmd of ['pause', 'resume']) fails([cmd, 'no-such-container'], 'does not exist');
});

test('delete --force of a paused container kills it and leaves no cgroup (frozen or not)', async () => {
  const id = uniqueId('pause');
  const cg = `/hako-test-${id}`;
  const b = env.bundle((c) => {
    c.process.args = ['sh', '-c', TICKER];
    c.linux.cgroupsPath = cg;
  });
  const pid = runD(id, b);
  const dirs = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(':'))
    .filter(([, c, p]) => p === cg && c !== '' && !c!.startsWith('name='))
    .map(([, c]) => `/sys/fs/cgroup/${c!.split(',')[0]}${cg}`);
  // The unified tree: the whole of /sys/fs/cgroup on v2, /sys/fs/cgroup/unified on a hybrid host.
  const unified = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].filter((m) => existsSync(`${m}/cgroup.controllers`)).map((m) => `${m}${cg}`)[0];
  if (unified) dirs.push(unified);
  assert.ok(dirs.length > 0 && dirs.every((d) => existsSync(d)), `the container's cgroup: ${dirs.join(' ')}`);
  await until('the ticker', () => tick(pid) > 0);
  quiet(['pause', id]);
  quiet(['delete', '--force', id]);
  assert.ok(gone(pid), 'the init is gone');
  for (const d of dirs) assert.not.ok(existsSync(d), `${d} removed`);
});

test('kill KILL and kill --all KILL end a paused container (runc thaws after SIGKILL)', async () => {
  for (const all of [false, true]) {
    const id = uniqueId('pause');
    const b = env.bundle((c) => (c.process.args = ['sh', '-c', TICKER]));
    const pid = runD(id, b);
    quiet(['pause', id]);
    quiet(['kill', ...(all ? ['--all'] : []), id, '9']);
    await until(`the paused container to die of kill${all ? ' --all' : ''}`, () => gone(pid));
    quiet(['delete', id]);
  }
});

t.run();
