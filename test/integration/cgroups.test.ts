// The cgroup managers on this machine's real cgroups (root). On a hybrid or
// v1 host: the v1 manager's limits, observed in the cgroup files and by
// processes that run into them; freezing, kill --all, stats, removal. The
// unified tree of a hybrid host is real cgroup2, so the v2 manager's eBPF
// device filter, cgroup.freeze and cgroup.kill are exercised there too.
//
// Everything lives under one test parent per run, removed at the end; no
// cgroup this test did not create is written to.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runcDefaultDeviceRules } from '../../src/cgroups/devices.js';
import { readLayout, type CgroupLayout } from '../../src/cgroups/host.js';
import { V2Manager, newManager, loadManager, type CgroupManager } from '../../src/cgroups/manager.js';
import { resolveCgroupPath } from '../../src/cgroups/path.js';
import { statsEventJson } from '../../src/cgroups/stats.js';
import { isRoot } from '../helpers.js';

const t = suite('cgroups');
const test = skippable(t, 'cgroups');
const PARENT = `/hako-test-${process.pid}`;
const layout: CgroupLayout = readLayout();
const usable = isRoot && (layout.mode === 'hybrid' || layout.mode === 'v1');
const unified = layout.hierarchies.find((h) => h.fstype === 'cgroup2');
const children: ChildProcess[] = [];

/** A shell that waits for a line on stdin before running `script`: it joins its cgroup first. */
function gated(
  script: string,
  until: 'exit' | 'close' = 'exit',
): { child: ChildProcess; go: () => Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn('sh', ['-c', `read x; ${script}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  // 'close' waits for the output too, which can still be on its way when
  // the process has exited (under emulation "survived" went missing once);
  // 'exit' for scripts whose background children keep the pipes open.
  const exited = once(child, until);
  return {
    child,
    go: async () => {
      child.stdin!.end('go\n');
      const [code] = (await exited) as [number | null];
      return { code, out, err };
    },
  };
}

function sleeper(): ChildProcess {
  const c = spawn('sleep', ['1000'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

const read = (f: string) => readFileSync(f, 'utf8').trim();

/** Removes whatever is left below the test parent in every hierarchy: thaw, kill what is in it (only this test's processes), rmdir. */
async function sweep(): Promise<void> {
  for (const h of layout.hierarchies) {
    const top = path.join(h.mountpoint, PARENT);
    const kill = (d: string) => {
      if (!existsSync(d)) return;
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) kill(path.join(d, e.name));
      for (const [f, v] of [
        ['freezer.state', 'THAWED'],
        ['cgroup.freeze', '0'],
      ] as const) {
        try {
          writeFileSync(path.join(d, f), v);
        } catch {
          /* not this kind of cgroup */
        }
      }
      for (const pid of read(path.join(d, 'cgroup.procs')).split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    };
    kill(top);
  }
  await new Promise((res) => setTimeout(res, 200));
  for (const h of layout.hierarchies) {
    const top = path.join(h.mountpoint, PARENT);
    const walk = (d: string) => {
      if (!existsSync(d)) return;
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(d, e.name));
      for (const [f, v] of [
        ['freezer.state', 'THAWED'],
        ['cgroup.freeze', '0'],
      ] as const) {
        try {
          writeFileSync(path.join(d, f), v);
        } catch {
          /* not this kind of cgroup */
        }
      }
      try {
        rmdirSync(d);
      } catch {
        /* reported by the test that left it */
      }
    };
    walk(top);
  }
}

t.after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await sweep();
  for (const h of layout.hierarchies) assert.not.ok(existsSync(path.join(h.mountpoint, PARENT)), `left behind in ${h.mountpoint}`);
});

test('v1/hybrid: create, set limits, join, observe, freeze, stats, kill --all, destroy', async () => {
  if (!usable) skip('needs root on a v1 or hybrid host');
  const m = newManager(layout, resolveCgroupPath({ cgroupsPath: `${PARENT}/c1`, id: 'c1' }));
  assert.is(m.mode, layout.mode);
  m.create();
  const dir = (c: string) => Object.entries(m.dirs).find(([k]) => k.split(',').includes(c))![1];
  const swap = existsSync(path.join(dir('memory'), 'memory.memsw.limit_in_bytes'));
  const warnings = m.set({
    memory: { limit: 64 << 20, reservation: 32 << 20, ...(swap ? { swap: 128 << 20 } : {}) },
    cpu: { shares: 512, quota: 20000, period: 100000, cpus: '0', mems: '0' },
    pids: { limit: 16 },
    devices: runcDefaultDeviceRules([{ allow: false, access: 'rwm' }]),
  });
  assert.equal(warnings, []);

  // The files say what was asked.
  assert.is(read(path.join(dir('memory'), 'memory.limit_in_bytes')), String(64 << 20));
  assert.is(read(path.join(dir('memory'), 'memory.soft_limit_in_bytes')), String(32 << 20));
  if (swap) assert.is(read(path.join(dir('memory'), 'memory.memsw.limit_in_bytes')), String(128 << 20));
  assert.is(read(path.join(dir('cpu'), 'cpu.shares')), '512');
  assert.is(read(path.join(dir('cpu'), 'cpu.cfs_quota_us')), '20000');
  assert.is(read(path.join(dir('cpuset'), 'cpuset.cpus')), '0');
  assert.is(read(path.join(dir('pids'), 'pids.max')), '16');
  const list = read(path.join(dir('devices'), 'devices.list'))
    .split('\n')
    .sort();
  assert.equal(
    list,
    ['b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 1:5 rwm', 'c 1:7 rwm', 'c 1:8 rwm', 'c 1:9 rwm', 'c 10:200 rwm', 'c 136:* rwm', 'c 5:0 rwm', 'c 5:2 rwm'].sort(),
  );

  // A process joins before it runs anything, and meets the limits.
  // /dev/kmsg (c 1:11) exists here and root may open it, but no rule allows it.
  assert.is(spawnSync('sh', ['-c', ': </dev/kmsg && echo kmsg-open'], { encoding: 'utf8' }).stdout, 'kmsg-open\n', 'outside the cgroup');
  const p = gated(
    'head -c1 /dev/zero >/dev/null && echo zero-ok; (: </dev/kmsg) 2>&1 | grep -q "Operation not permitted" && echo kmsg-denied; cat /proc/self/cgroup; i=0; while [ $i -lt 20 ]; do sleep 3 & i=$((i+1)); done 2>/dev/null',
  );
  m.apply(p.child.pid!);
  assert.ok(m.pids().includes(p.child.pid!));
  const r = await p.go();
  assert.match(r.out, /zero-ok/);
  assert.match(r.out, /kmsg-denied/);
  // In every hierarchy, including the unified one on a hybrid host.
  const lines = r.out.split('\n').filter((l) => /^\d+:/.test(l));
  assert.is(lines.length, layout.hierarchies.length, r.out);
  for (const line of lines) assert.ok(line.endsWith(`:${PARENT}/c1`), line);
  // The pids limit held: 20 sleeps were asked for, at most 16 tasks fit.
  const current = Number(read(path.join(dir('pids'), 'pids.current')));
  assert.ok(current >= 10 && current <= 16, `pids.current ${current}`);

  // Freeze and thaw with a long-running member.
  const s = sleeper();
  m.apply(s.pid!);
  m.freeze();
  assert.is(m.freezerState(), 'frozen');
  assert.match(readFileSync(`/proc/${s.pid}/status`, 'utf8'), /State:\s+[DS]/);
  m.thaw();
  assert.is(m.freezerState(), 'thawed');

  // Stats in runc's shape.
  const st = m.stats();
  assert.ok(st.pids.current >= 1n);
  assert.is(st.pids.limit, 16n);
  assert.is(st.memory.usage.limit, BigInt(64 << 20));
  assert.ok(st.cpu.usage.total > 0n);
  assert.equal(st.cpuset.cpus, [0]);
  const ev = JSON.parse(statsEventJson('c1', st));
  assert.is(ev.type, 'stats');
  assert.ok('blkio' in ev.data && 'hugetlb' in ev.data);

  // Update while running: memory grows (swap first), devices change minimally.
  m.set({
    memory: { limit: 96 << 20, ...(swap ? { swap: 192 << 20 } : {}) },
    devices: runcDefaultDeviceRules([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 1, access: 'r' },
    ]),
  });
  assert.is(read(path.join(dir('memory'), 'memory.limit_in_bytes')), String(96 << 20));
  assert.ok(
    read(path.join(dir('devices'), 'devices.list'))
      .split('\n')
      .includes('c 1:1 r'),
  );

  // kill --all with SIGTERM: freeze, signal, thaw; the sleepers all go.
  const exited = once(s, 'exit');
  m.killAll(15);
  const [, sig] = (await exited) as [number | null, string | null];
  assert.is(sig, 'SIGTERM');
  for (let i = 0; i < 100 && m.pids().length > 0; i++) await new Promise((res) => setTimeout(res, 50));
  assert.equal(m.pids(), []);

  // SIGKILL (cgroup.kill in the unified tree on a hybrid host).
  const k = sleeper();
  m.apply(k.pid!);
  const killed = once(k, 'exit');
  m.killAll(9);
  assert.is(((await killed) as [number | null, string | null])[1], 'SIGKILL');

  // A later command finds it from the recorded directories, and removes it.
  const again: CgroupManager = loadManager(readLayout(), JSON.parse(JSON.stringify(m.dirs)));
  assert.ok(again.exists());
  for (let i = 0; i < 100 && again.pids().length > 0; i++) await new Promise((res) => setTimeout(res, 50));
  again.destroy();
  assert.not.ok(m.exists());
  for (const d of Object.values(m.dirs)) assert.not.ok(existsSync(d), d);
});

test('pure v2: create with controllers enabled, set limits, join, observe, freeze, stats, kill --all, destroy', async () => {
  if (!isRoot || layout.mode !== 'v2') skip('needs root on a pure cgroup v2 host; make test-v2 runs it in the guest');
  const m = newManager(layout, resolveCgroupPath({ cgroupsPath: `${PARENT}/c1`, id: 'c1' }));
  m.create();
  const dir = m.dirs['']!;
  const f = (name: string) => path.join(dir, name);
  for (const c of ['memory', 'pids', 'cpu']) assert.ok(read(f('cgroup.controllers')).split(' ').includes(c), `${c} enabled`);
  const swap = existsSync(f('memory.swap.max'));
  const warnings = m.set({
    memory: { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20 },
    cpu: { shares: 512, quota: 20000, period: 100000, cpus: '0', mems: '0' },
    pids: { limit: 16 },
    devices: runcDefaultDeviceRules([{ allow: false, access: 'rwm' }]),
  });
  assert.equal(warnings, []);
  assert.is(read(f('memory.max')), String(64 << 20));
  assert.is(read(f('memory.low')), String(32 << 20));
  if (swap) assert.is(read(f('memory.swap.max')), String(64 << 20));
  assert.is(read(f('cpu.weight')), '59');
  assert.is(read(f('cpu.max')), '20000 100000');
  assert.is(read(f('cpuset.cpus')), '0');
  assert.is(read(f('pids.max')), '16');

  const kmsg = existsSync('/dev/kmsg');
  const p = gated(
    `head -c1 /dev/zero >/dev/null && echo zero-ok; ${kmsg ? '(: </dev/kmsg) 2>&1 | grep -q "Operation not permitted" && echo kmsg-denied;' : ''} cat /proc/self/cgroup; i=0; while [ $i -lt 20 ]; do sleep 3 & i=$((i+1)); done 2>/dev/null`,
  );
  m.apply(p.child.pid!);
  const r = await p.go();
  assert.match(r.out, /zero-ok/);
  if (kmsg) assert.match(r.out, /kmsg-denied/);
  assert.match(r.out, new RegExp(`^0::${PARENT}/c1$`, 'm'));
  const current = Number(read(f('pids.current')));
  assert.ok(current >= 10 && current <= 16, `pids.current ${current}`);

  const s = sleeper();
  m.apply(s.pid!);
  m.freeze();
  assert.is(m.freezerState(), 'frozen');
  assert.match(read(f('cgroup.events')), /frozen 1/);
  m.thaw();
  assert.is(m.freezerState(), 'thawed');

  const st = m.stats();
  assert.is(st.pids.limit, 16n);
  assert.ok(st.pids.current >= 1n);
  assert.is(st.memory.usage.limit, BigInt(64 << 20));
  assert.ok(st.cpu.usage.total > 0n);

  const exited = once(s, 'exit');
  m.killAll(15);
  assert.is(((await exited) as [number | null, string | null])[1], 'SIGTERM');
  const k = sleeper();
  m.apply(k.pid!);
  const killed = once(k, 'exit');
  m.killAll(9);
  assert.is(((await killed) as [number | null, string | null])[1], 'SIGKILL');
  for (let i = 0; i < 100 && m.pids().length > 0; i++) await new Promise((res) => setTimeout(res, 50));
  loadManager(readLayout(), JSON.parse(JSON.stringify(m.dirs))).destroy();
  assert.not.ok(existsSync(dir));
});

test('a memory limit OOM-kills, and the count says so', async () => {
  if (!isRoot || layout.mode === 'none') skip('needs root and a cgroup hierarchy');
  const m = newManager(layout, resolveCgroupPath({ cgroupsPath: `${PARENT}/oom`, id: 'oom' }));
  m.create();
  try {
    // swap == limit: no room for swap either.
    m.set({ memory: { limit: 16 << 20, swap: 16 << 20 } });
    // `tail -n 1` keeps the whole newline-less "line" in memory: 64 MiB of it.
    const p = gated('head -c 67108864 /dev/zero | tail -n 1 >/dev/null; echo survived', 'close');
    m.apply(p.child.pid!);
    const r = await p.go();
    assert.is(r.out.trim(), 'survived', 'the shell itself is not the biggest process');
    assert.ok(m.oomKillCount() >= 1n, `oom_kill ${m.oomKillCount()}`);
  } finally {
    for (let i = 0; i < 100 && m.pids().length > 0; i++) await new Promise((res) => setTimeout(res, 50));
    m.destroy();
  }
});

test('v1/hybrid: a controller the host lacks is named; nothing is left from a failed set', () => {
  if (!usable) skip('needs root on a v1 or hybrid host');
  const m = newManager(layout, resolveCgroupPath({ cgroupsPath: `${PARENT}/c2`, id: 'c2' }));
  m.create();
  try {
    const missing = ['net_cls', 'net_prio', 'rdma'].find((c) => !layout.hierarchies.some((h) => h.controllers.includes(c)));
    if (missing === 'rdma') assert.throws(() => m.set({ rdma: { mlx5_0: { hcaHandles: 1 } } }), /the rdma cgroup controller is not available on this host/);
    else if (missing) assert.throws(() => m.set({ network: { classID: 1 } }), /cgroup controller is not available on this host/);
    assert.throws(
      () => m.set({ memory: { swap: 5, limit: 10 }, unified: { 'memory.high': '1' } }),
      layout.mode === 'v1' ? /cannot be set on a cgroup v1 host/ : /controller is not available|memory\.high/,
    );
  } finally {
    m.destroy();
  }
  assert.not.ok(m.exists());
});

test('cgroup2 (the unified tree here): eBPF device filter, cgroup.freeze, cgroup.kill', async () => {
  if (!isRoot || !unified) skip('needs root and a cgroup2 mount');
  const dir = path.join(unified.mountpoint, PARENT, 'bpf');
  const m = new V2Manager(unified.mountpoint, dir, {}, 'needed');
  m.create();
  try {
    // Only /dev/null and /dev/zero (and the pipes, which are not devices).
    m.set({
      devices: [{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 5, access: 'r' }],
    });
    const p = gated(
      'head -c1 /dev/zero >/dev/null && echo zero-ok; (head -c1 /dev/urandom >/dev/null) 2>&1 | grep -q "Operation not permitted" && echo urandom-denied; (echo x >/dev/zero) 2>&1 | grep -q "Operation not permitted" && echo zero-write-denied; echo x >/dev/null && echo null-ok',
    );
    m.apply(p.child.pid!);
    const r = await p.go();
    assert.equal(r.out.split('\n').filter(Boolean), ['zero-ok', 'urandom-denied', 'zero-write-denied', 'null-ok'], r.err);

    // Swapping the filter: urandom instead of zero.
    m.set({
      devices: [{ allow: false }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 9, access: 'r' }],
    });
    const q = gated(
      'head -c1 /dev/urandom >/dev/null && echo urandom-ok; (head -c1 /dev/zero >/dev/null) 2>&1 | grep -q "Operation not permitted" && echo zero-denied',
    );
    m.apply(q.child.pid!);
    assert.equal((await q.go()).out.split('\n').filter(Boolean), ['urandom-ok', 'zero-denied']);

    // Freeze and kill in cgroup2.
    const s = sleeper();
    m.apply(s.pid!);
    m.freeze();
    assert.is(m.freezerState(), 'frozen');
    assert.match(read(path.join(dir, 'cgroup.events')), /frozen 1/);
    m.thaw();
    assert.match(read(path.join(dir, 'cgroup.events')), /frozen 0/);
    const gone = once(s, 'exit');
    m.killAll(9);
    assert.is(((await gone) as [number | null, string | null])[1], 'SIGKILL');
    const st = m.stats();
    assert.ok(st.cpu.usage.total > 0n, 'cpu.stat exists without the controller');
  } finally {
    for (let i = 0; i < 100 && m.exists() && m.pids().length > 0; i++) await new Promise((res) => setTimeout(res, 50));
    m.destroy();
    try {
      rmdirSync(path.join(unified.mountpoint, PARENT));
    } catch {
      /* swept at the end */
    }
  }
  assert.not.ok(existsSync(dir));
});

t.run();
