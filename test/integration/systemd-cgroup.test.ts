// The systemd cgroup driver (--systemd-cgroup) with a real systemd as
// PID 1: the unit systemd makes (systemctl), the cgroup the container is
// in and its limits (read from inside, through exec and the cgroup mount),
// update, pause/resume, kill --all, delete removing the unit, and failed
// creates leaving no unit behind.
//
// These hosts have no systemd: here only the refusal runs, and the rest is
// skipped with the reason. `make test-systemd` (scripts/vm/test-systemd.sh)
// boots the guest with systemd as PID 1, on pure cgroup v2 and on
// systemd's hybrid layout, with HAKO_TEST_SYSTEMD=1, which turns the skip
// into a failure.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Env, processesUnder, uniqueId } from '../helpers.js';
import { skip, skippable } from '../skip.js';

const t = suite('systemd-cgroup');
const test = skippable(t, 'systemd-cgroup');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const pid1 = (() => {
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim();
  } catch {
    return '';
  }
})();
const booted = (() => {
  try {
    return statSync('/run/systemd/system').isDirectory();
  } catch {
    return false;
  }
})();
const systemd = pid1 === 'systemd' && booted;
const SKIP = `systemd is not PID 1 here (PID 1 is ${pid1 || 'unknown'}); scripts/vm/test-systemd.sh runs these in a guest that boots systemd`;
const required = process.env.HAKO_TEST_SYSTEMD === '1';
/** Skips a systemd test where systemd is not PID 1, or fails when systemd was required. */
function needSystemd(): void {
  if (systemd) return;
  if (required) assert.unreachable(`HAKO_TEST_SYSTEMD=1 but ${SKIP}`);
  skip(SKIP);
}

const v2 = !existsSync('/sys/fs/cgroup/memory');
const MiB = 1024 * 1024;

function systemctl(...args: string[]): string {
  const r = spawnSync('systemctl', ['--no-pager', ...args], { encoding: 'utf8' });
  return r.stdout;
}

/** `systemctl show` of some properties, as a record. */
function show(unit: string, ...props: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of systemctl('show', unit, ...props.map((p) => `--property=${p}`)).split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Whether systemd has the unit loaded at all (active, failed or anything else). */
function loaded(unit: string): boolean {
  return systemctl('list-units', '--all', '--plain', '--no-legend', unit).includes(unit);
}

function ok(r: { status: number | null; stderr: string }, what: string): void {
  assert.is(r.status, 0, `${what}: ${r.stderr}`);
  assert.is(r.stderr, '', `${what} prints nothing on stderr`);
}

const sd = (args: string[]) => env.hako(['--systemd-cgroup', ...args]);
const exec = (id: string, script: string) => env.hako(['exec', id, 'sh', '-c', script]);

/** The limit files as seen from inside (the cgroup mount is the container's own cgroup). */
const LIMITS = v2
  ? 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max'
  : 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us';

test('without systemd as init, --systemd-cgroup fails in one line and leaves nothing', () => {
  if (systemd) return; // the refusal is for hosts without it
  const b = env.bundle();
  const id = uniqueId('nosd');
  const r = sd(['create', '--bundle', b, id]);
  assert.is(r.status, 1);
  assert.is(
    r.stderr,
    `hako: container "${id}": --systemd-cgroup: systemd is not running as init on this host (/run/systemd/system is missing); use the cgroupfs driver\n`,
  );
  assert.is(existsSync(path.join(env.root, id)), false);
  assert.equal(processesUnder(b), []);
});

test('create makes the scope around the init, with the limits, in the slice asked for', () => {
  needSystemd();
  const id = uniqueId('sd');
  const unit = `hako-${id}.scope`;
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    c.linux.cgroupsPath = `system.slice:hako:${id}`;
    c.linux.resources = { ...c.linux.resources, memory: { limit: 64 * MiB }, pids: { limit: 50 }, cpu: { quota: 50000, period: 100000 } };
    // A node the device rules do not allow (runc's defaults do not have it).
    c.linux.devices = [{ path: '/dev/mem', type: 'c', major: 1, minor: 1, fileMode: 0o600 }];
    for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_SYS_RAWIO');
  });
  ok(sd(['create', '--bundle', b, id]), 'create');
  try {
    // systemd's view: an active transient scope in system.slice, delegated.
    const s = show(
      unit,
      'ActiveState',
      'Transient',
      'Slice',
      'Delegate',
      'ControlGroup',
      'TasksMax',
      v2 ? 'MemoryMax' : 'MemoryLimit',
      'CPUQuotaPerSecUSec',
      'DevicePolicy',
    );
    assert.equal(s, {
      ActiveState: 'active',
      Transient: 'yes',
      Slice: 'system.slice',
      Delegate: 'yes',
      ControlGroup: `/system.slice/${unit}`,
      TasksMax: '50',
      [v2 ? 'MemoryMax' : 'MemoryLimit']: String(64 * MiB),
      CPUQuotaPerSecUSec: '500ms',
      DevicePolicy: 'strict',
    });
    ok(env.hako(['start', id]), 'start');
    // From inside: the init and an exec'd process are in the scope, under
    // the limits. (No cgroup namespace: /proc/PID/cgroup shows the host path.)
    const r = exec(id, `grep -h '^0::' /proc/1/cgroup /proc/self/cgroup; ${LIMITS}`);
    ok(r, 'exec');
    assert.equal(r.stdout.trim().split('\n'), [`0::/system.slice/${unit}`, `0::/system.slice/${unit}`, String(64 * MiB), '50', v2 ? '50000 100000' : '50000']);
    // Devices: systemd's rules and hako's let /dev/zero through, not /dev/mem.
    const d = exec(id, 'head -c1 /dev/zero | wc -c; test -c /dev/mem && (head -c1 /dev/mem >/dev/null 2>&1 && echo opened || echo refused)');
    assert.equal(d.stdout.trim().split('\n'), ['1', 'refused']);
  } finally {
    env.hako(['delete', '--force', id]);
  }
  assert.is(loaded(unit), false, `${unit} is gone after delete`);
});

test('update goes to systemd and the files; pause and resume freeze the scope; kill --all; delete removes the unit', () => {
  needSystemd();
  const id = uniqueId('sdu');
  const unit = `hako-${id}.scope`;
  const dir = v2 ? `/sys/fs/cgroup/system.slice/${unit}` : `/sys/fs/cgroup/memory/system.slice/${unit}`;
  const b = env.bundle((c) => {
    c.process.args = ['sh', '-c', 'sleep 1000 & sleep 1000'];
    c.linux.cgroupsPath = `system.slice:hako:${id}`;
    c.linux.resources = { ...c.linux.resources, memory: { limit: 64 * MiB }, pids: { limit: 50 } };
  });
  ok(sd(['run', '-d', '--bundle', b, id]), 'run -d');
  try {
    ok(env.hako(['update', '--memory', String(128 * MiB), '--pids-limit', '20', '--cpu-quota', '20000', '--cpu-period', '100000', id]), 'update');
    const r = exec(id, LIMITS);
    assert.equal(r.stdout.trim().split('\n'), [String(128 * MiB), '20', v2 ? '20000 100000' : '20000']);
    assert.equal(show(unit, v2 ? 'MemoryMax' : 'MemoryLimit', 'TasksMax', 'CPUQuotaPerSecUSec'), {
      [v2 ? 'MemoryMax' : 'MemoryLimit']: String(128 * MiB),
      TasksMax: '20',
      CPUQuotaPerSecUSec: '200ms',
    });

    // A limit below the usage with checkBeforeUpdate is refused before
    // systemd is told (it would OOM-kill the container on v2), and nothing
    // changes.
    const file = path.join(env.dir, `${id}-low.json`);
    writeFileSync(file, JSON.stringify({ memory: { limit: 4096, checkBeforeUpdate: true } }));
    const low = env.hako(['update', '--resources', file, id]);
    assert.is(low.status, 1, low.stderr);
    assert.match(low.stderr, new RegExp(`^hako: container "${id}": `));
    assert.is(show(unit, v2 ? 'MemoryMax' : 'MemoryLimit')[v2 ? 'MemoryMax' : 'MemoryLimit'], String(128 * MiB));
    assert.is(JSON.parse(env.hako(['state', id]).stdout).status, 'running');

    ok(env.hako(['pause', id]), 'pause');
    assert.is(JSON.parse(env.hako(['state', id]).stdout).status, 'paused');
    const frozen = v2
      ? readFileSync(path.join(dir, 'cgroup.freeze'), 'utf8').trim()
      : readFileSync(`/sys/fs/cgroup/freezer/system.slice/${unit}/freezer.state`, 'utf8').trim();
    assert.is(frozen, v2 ? '1' : 'FROZEN');
    ok(env.hako(['resume', id]), 'resume');
    assert.is(JSON.parse(env.hako(['state', id]).stdout).status, 'running');

    // Both sleeps are in the scope (the shell became the second one, by
    // exec); kill --all ends them all.
    const before = env.hako(['ps', '--format', 'json', id]);
    assert.is(JSON.parse(before.stdout).length, 2, before.stdout);
    ok(env.hako(['kill', '--all', id, 'KILL']), 'kill --all');
    let status = '';
    for (let i = 0; i < 200 && status !== 'stopped'; i++) {
      status = JSON.parse(env.hako(['state', id]).stdout).status;
      if (status !== 'stopped') spawnSync('sleep', ['0.1']);
    }
    assert.is(status, 'stopped');
    ok(env.hako(['delete', id]), 'delete');
  } finally {
    env.hako(['delete', '--force', id]);
  }
  assert.is(loaded(unit), false, `${unit} is gone after delete`);
  assert.is(existsSync(dir), false, `${dir} is gone`);
});

test('a failed create leaves no unit, no cgroup and no state', () => {
  needSystemd();
  // The unit exists by the time the process fails to start: it is stopped.
  const id = uniqueId('sdf');
  const unit = `hako-${id}.scope`;
  const b = env.bundle((c) => {
    c.process.args = ['/nonexistent'];
    c.linux.cgroupsPath = `system.slice:hako:${id}`;
  });
  const r = sd(['create', '--bundle', b, id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, new RegExp(`^hako: container "${id}": .*nonexistent`));
  assert.is(r.stderr.trim().split('\n').length, 1);
  assert.is(loaded(unit), false, `${unit} is gone`);
  assert.is(existsSync(`/sys/fs/cgroup${v2 ? '' : '/memory'}/system.slice/${unit}`), false);
  assert.is(existsSync(path.join(env.root, id)), false);
  assert.equal(processesUnder(b), []);

  // A limit the kernel refuses, after systemd made the unit.
  const id2 = uniqueId('sdf');
  const b2 = env.bundle((c) => {
    c.linux.cgroupsPath = `system.slice:hako:${id2}`;
    c.linux.resources = { ...c.linux.resources, cpu: { cpus: '4095' } };
  });
  const r2 = sd(['create', '--bundle', b2, id2]);
  assert.is(r2.status, 1);
  assert.match(r2.stderr, new RegExp(`^hako: container "${id2}": .*cpuset.cpus`));
  assert.is(loaded(`hako-${id2}.scope`), false);

  // A path that is not slice:prefix:name: refused before anything exists.
  const b3 = env.bundle((c) => (c.linux.cgroupsPath = '/not/systemd'));
  const r3 = sd(['create', '--bundle', b3, uniqueId('sdf')]);
  assert.is(r3.status, 1);
  assert.match(r3.stderr, /config\.json: \/linux\/cgroupsPath: "\/not\/systemd" is not of the form slice:prefix:name/);
});

test('a name ending in .slice makes a slice unit for the container', () => {
  needSystemd();
  const id = uniqueId('sds').replace(/-/g, '_');
  const unit = `system-hako_${id}.slice`;
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    c.linux.cgroupsPath = `system.slice:x:${unit}`;
  });
  ok(sd(['run', '-d', '--bundle', b, id]), 'run -d');
  try {
    assert.is(show(unit, 'ActiveState').ActiveState, 'active');
    const r = exec(id, "grep -h '^0::' /proc/1/cgroup");
    assert.is(r.stdout.trim(), `0::/system.slice/${unit}`);
  } finally {
    env.hako(['delete', '--force', id]);
  }
  assert.is(loaded(unit), false);
});

test('without the system bus, root reaches systemd on its private socket', () => {
  needSystemd();
  const id = uniqueId('sdp');
  const unit = `hako-${id}.scope`;
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    c.linux.cgroupsPath = `system.slice:hako:${id}`;
  });
  // A bus address that leads nowhere, as on a host whose dbus-daemon is down.
  const noBus = { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${env.dir}/no-bus` } };
  ok(env.hako(['--systemd-cgroup', 'run', '-d', '--bundle', b, id], noBus), 'run -d');
  try {
    assert.is(show(unit, 'ActiveState').ActiveState, 'active');
  } finally {
    ok(env.hako(['delete', '--force', id], noBus), 'delete --force');
  }
  assert.is(loaded(unit), false);
});

t.run();
