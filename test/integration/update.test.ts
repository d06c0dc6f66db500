// `update` on a live container, observed from inside (the container's
// cgroup mount shows its own cgroup; a loop in the container copies the
// limit files to /dev/shm, read here through /proc/PID/root) and in the
// recorded config. runc's flags and `--resources FILE|-`; the merge rules
// (quota keeps the period...); failures that change nothing. Runs on the
// host's layout (hybrid here: v1 files) and in the pure v2 VM lane.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cpuSharesToWeight } from '../../src/cgroups/v2-resources.js';
import { Env, HAKO, uniqueId } from '../helpers.js';

const t = suite('update');
const test = skippable(t, 'update');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const v2 = !existsSync('/sys/fs/cgroup/memory');
const guest = process.env.HAKO_VM_GUEST === '1';
const MiB = 1024 * 1024;
// v1's "unlimited" memory (PAGE_COUNTER_MAX pages, on 4K pages).
const V1_UNLIMITED = '9223372036854771712';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// memory limit, pids limit, cpu quota+period, cpu weight/shares, as the container sees them.
const FILES = v2
  ? ['memory.max', 'pids.max', 'cpu.max', 'cpu.weight'].map((f) => `/sys/fs/cgroup/${f}`)
  : ['memory/memory.limit_in_bytes', 'pids/pids.max', 'cpu/cpu.cfs_quota_us', 'cpu/cpu.cfs_period_us', 'cpu/cpu.shares'].map((f) => `/sys/fs/cgroup/${f}`);
const WATCHER = `while :; do cat ${FILES.join(' ')} > /dev/shm/cg.new 2>&1; mv /dev/shm/cg.new /dev/shm/cg; usleep 100000; done`;

interface Seen {
  memory: string;
  pids: string;
  /** "QUOTA PERIOD" (v2's cpu.max; v1's two files joined) */
  cpu: string;
  /** cpu.weight on v2, cpu.shares on v1 */
  weight: string;
}

function parseSeen(text: string): Seen {
  const l = text.trim().split('\n');
  return v2 ? { memory: l[0]!, pids: l[1]!, cpu: l[2]!, weight: l[3]! } : { memory: l[0]!, pids: l[1]!, cpu: `${l[2]} ${l[3]}`, weight: l[4]! };
}

const weightOf = (shares: number) => (v2 ? String(cpuSharesToWeight(BigInt(shares))) : String(shares));

/** What the container saw last, once it matches `want` (or, after the timeout, as it was). */
async function seen(pid: number, want: Partial<Seen>, ms = 30_000): Promise<Seen> {
  const end = Date.now() + ms;
  let last: Seen | undefined;
  for (;;) {
    let text: string | undefined;
    try {
      text = readFileSync(`/proc/${pid}/root/dev/shm/cg`, 'utf8');
    } catch {
      /* not written yet */
    }
    if (text !== undefined) {
      last = parseSeen(text);
      if (Object.entries(want).every(([k, v]) => last![k as keyof Seen] === v)) return last;
    }
    if (Date.now() > end) {
      assert.equal(
        last && Object.fromEntries(Object.keys(want).map((k) => [k, last![k as keyof Seen]])),
        want,
        `the container's view of its cgroup (${FILES.join(' ')})`,
      );
      return last!;
    }
    await sleep(100);
  }
}

function start(resources: object): { id: string; pid: number } {
  const id = uniqueId('upd');
  const b = env.bundle((c) => {
    c.process.args = ['sh', '-c', WATCHER];
    c.linux.resources = { ...c.linux.resources, ...resources };
  });
  // The pid from --pid-file: a `state` call costs seconds in the VM lane.
  const r = env.hako(['run', '-d', '--pid-file', `${b}.pid`, '--bundle', b, id]);
  assert.is(r.status, 0, r.stderr);
  return { id, pid: Number(readFileSync(`${b}.pid`, 'utf8')) };
}

/** The process is gone, or a zombie nobody has reaped yet. */
function gone(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

function recorded(id: string): any {
  return JSON.parse(readFileSync(path.join(env.root, id, 'config.json'), 'utf8')).linux.resources;
}

function ok(args: string[], input?: string): void {
  const r = input === undefined ? env.hako(args) : stdinHako(args, input);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '');
  assert.is(r.stderr, '');
}

function fails(args: string[], re: RegExp | string): void {
  const r = env.hako(args);
  assert.is(r.status, 1, `${args.join(' ')} fails`);
  assert.match(r.stderr, re);
}

function stdinHako(args: string[], input: string) {
  const r = spawnSync(HAKO, ['--root', env.root, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const MAX_MEM = v2 ? 'max' : V1_UNLIMITED;

test("runc's flags: memory with units, pids, cpu quota; seen inside and recorded; paused too", async () => {
  const { id, pid } = start({ memory: { limit: 64 * MiB }, pids: { limit: 50 }, cpu: { quota: 50000, period: 100000, shares: 1024 } });
  await seen(pid, { memory: String(64 * MiB), pids: '50', cpu: '50000 100000' });

  ok(['update', '--memory', '128m', '--pids-limit', '77', '--cpu-quota', '20000', id]);
  await seen(pid, { memory: String(128 * MiB), pids: '77', cpu: '20000 100000', weight: weightOf(1024) });
  const r = recorded(id);
  assert.equal(r.memory, { limit: 128 * MiB });
  assert.equal(r.pids, { limit: 77 });
  assert.equal(r.cpu, { quota: 20000, period: 100000, shares: 1024 });
  assert.equal(r.devices, [{ allow: false, access: 'rwm' }], 'the other settings stay recorded');

  // runc: a period alone keeps the quota (cpu.max needs both on v2).
  ok(['update', '--cpu-period', '50000', '--cpu-share', '512', id]);
  await seen(pid, { cpu: '20000 50000', weight: weightOf(512) });
  // "-1": unlimited; 0 leaves a setting alone.
  ok(['update', '--memory', '-1', '--cpu-quota', '-1', '--pids-limit', '0', id]);
  await seen(pid, { memory: MAX_MEM, cpu: `${v2 ? 'max' : '-1'} 50000`, pids: '77' });
  assert.equal(recorded(id).memory, { limit: -1, swap: -1 });

  // A paused container can be updated, and stays paused.
  ok(['pause', id]);
  ok(['update', '--pids-limit', '60', id]);
  assert.is(JSON.parse(env.hako(['state', id]).stdout).status, 'paused');
  ok(['resume', id]);
  await seen(pid, { pids: '60' });
  assert.is(env.hako(['delete', '--force', id]).status, 0);
});

test('--resources FILE and -: a LinuxResources document, merged onto what is recorded', async () => {
  const { id, pid } = start({ memory: { limit: 64 * MiB }, pids: { limit: 50 } });
  const file = path.join(env.dir, 'res.json');
  writeFileSync(file, JSON.stringify({ memory: { limit: 96 * MiB, reservation: 0 }, cpu: { shares: 512, quota: 30000 }, pids: { limit: -1 } }));
  ok(['update', `--resources=${file}`, id]);
  await seen(pid, { memory: String(96 * MiB), pids: 'max', cpu: '30000 100000', weight: weightOf(512) });

  ok(['update', '-r', '-', id], '{"pids":{"limit":33},"memory":{"limit":80000000}}');
  await seen(pid, { memory: v2 ? '79998976' : '79998976', pids: '33', cpu: '30000 100000' });
  assert.equal(recorded(id).memory, { limit: 80000000 });
  assert.equal(recorded(id).pids, { limit: 33 });

  // With --resources, the other flags are ignored (runc), and we say so.
  const r = env.hako(['update', '-r', file, '--pids-limit', '5', id]);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, '--resources is given, so --pids-limit is ignored');
  await seen(pid, { pids: 'max' });
  assert.is(env.hako(['delete', '--force', id]).status, 0);
});

test('a limit the cgroup refuses changes nothing: memory+swap below the memory limit', async () => {
  const { id, pid } = start({ memory: { limit: 64 * MiB }, pids: { limit: 50 } });
  await seen(pid, { memory: String(64 * MiB), pids: '50' });
  const before = recorded(id);
  // v2's translation refuses it (runc's ConvertMemorySwapToCgroupV2Value),
  // v1's kernel does (memsw.limit_in_bytes below limit_in_bytes), after the
  // memory limit was written: that one is written back.
  const r = env.hako(['update', '--memory', '96m', '--memory-swap', '32m', '--pids-limit', '60', id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, `container "${id}": update flags: /memory/swap: `);
  await sleep(300);
  await seen(pid, { memory: String(64 * MiB), pids: '50' });
  assert.equal(recorded(id), before);
  assert.is(env.hako(['delete', '--force', id]).status, 0);
});

// Not about the cgroup layout: the v2 VM lane, where every command costs
// seconds, leaves these to the host.
test('bad documents and flags, missing and stopped containers: errors that say why', async () => {
  if (guest) skip('runs on the host only: the guest leaves it to the host');
  const { id, pid } = start({ pids: { limit: 50 } });
  await seen(pid, { pids: '50' });
  const before = recorded(id);
  const bad = path.join(env.dir, 'bad.json');
  writeFileSync(bad, '{"memory":{"limit":"lots"}}');
  fails(['update', '-r', bad, id], `${bad}: /memory/limit: `);
  writeFileSync(bad, '{"pids":{"limit":1}');
  fails(['update', '-r', bad, id], `${bad}: invalid JSON at line 1`);
  fails(['update', '-r', path.join(env.dir, 'none.json'), id], 'none.json: cannot read');
  fails(['update', '--memory', '12x', id], "invalid value for memory: invalid suffix: 'x'");
  fails(['update', '--cpu-quota', '1.5', id], 'invalid value for cpu-quota: strconv.ParseInt: parsing "1.5": invalid syntax');
  assert.equal(recorded(id), before);
  fails(['update', '--memory', '1g', 'no-such-container'], 'container "no-such-container" does not exist');

  assert.is(env.hako(['kill', id, 'KILL']).status, 0);
  for (let i = 0; i < 400 && !gone(pid); i++) await sleep(50);
  fails(['update', '--memory', '1g', id], `container "${id}": container not running`);
  assert.is(env.hako(['delete', id]).status, 0);
});

t.run();
