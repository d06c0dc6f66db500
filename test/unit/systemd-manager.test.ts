// The systemd driver's sequence of calls, against a fake systemd and a
// recording cgroupfs manager: the unit is started around the init before
// any file is written, a failed unit of the same name is reset and the
// start retried, properties systemd does not know are dropped, a create
// that never got its unit stops nothing, and delete stops and resets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CgroupError } from '../../src/cgroups/cgroup-error.js';
import type { CgroupManager } from '../../src/cgroups/manager.js';
import { SystemdManager, type SystemdDeps } from '../../src/cgroups/systemd.js';
import { resolveSystemdPath } from '../../src/cgroups/systemd-unit.js';
import { DBusConnectionError, DBusError } from '../../src/dbus/connection.js';
import type { Property, SystemdClient } from '../../src/dbus/systemd1.js';

const JOB = '/org/freedesktop/systemd1/job/1';

class FakeSystemd implements SystemdClient {
  readonly peer = 'fake';
  calls: string[] = [];
  started: Property[][] = [];
  /** Errors StartTransientUnit throws, in order, before it succeeds. */
  startErrors: DBusError[] = [];
  jobResult = 'done';
  stopError: DBusError | undefined;
  resetError: DBusError | undefined;
  closed = 0;
  startTransientUnit(name: string, mode: string, properties: Property[]): string {
    this.calls.push(`start ${name} ${mode}`);
    this.started.push(properties);
    const e = this.startErrors.shift();
    if (e) throw e;
    return JOB;
  }
  stopUnit(name: string, mode: string): string {
    this.calls.push(`stop ${name} ${mode}`);
    if (this.stopError) throw this.stopError;
    return JOB;
  }
  resetFailedUnit(name: string): void {
    this.calls.push(`reset ${name}`);
    if (this.resetError) throw this.resetError;
  }
  setUnitProperties(name: string, runtime: boolean, properties: Property[]): void {
    this.calls.push(`set ${name} ${runtime} ${properties.map(([n]) => n).join(',')}`);
  }
  waitJob(job: string): string {
    this.calls.push(`wait ${job}`);
    return this.jobResult;
  }
  close(): void {
    this.closed++;
  }
}

/** Records what the driver asks of the cgroupfs manager, into the same log. */
function fakeFs(log: string[], pids: () => number[] = () => []): CgroupManager {
  return {
    mode: 'v2',
    dirs: { '': '/sys/fs/cgroup/system.slice/hako-c1.scope' },
    create: () => void log.push('fs.create'),
    apply: (pid) => void log.push(`fs.apply ${pid}`),
    set: (r) => {
      log.push(`fs.set ${Object.keys(r).sort().join(',')}`);
      return ['a warning from the files'];
    },
    freeze: () => void log.push('fs.freeze'),
    thaw: () => void log.push('fs.thaw'),
    freezerState: () => 'thawed',
    pids,
    killAll: (sig) => void log.push(`fs.killAll ${sig}`),
    stats: () => ({}) as never,
    oomKillCount: () => 0n,
    destroy: () => void log.push('fs.destroy'),
    parents: () => ['/sys/fs/cgroup/system.slice'],
    exists: () => true,
  };
}

function setup(deps: Partial<SystemdDeps> = {}, pids?: () => number[]) {
  const sd = new FakeSystemd();
  const unit = resolveSystemdPath({ cgroupsPath: 'system.slice:hako:c1', id: 'c1' });
  const m = new SystemdManager(unit, fakeFs(sd.calls, pids), 'v2', {
    connect: () => sd,
    procCgroup: () => '0::/system.slice/hako-c1.scope\n',
    booted: () => true,
    sleep: () => {},
    ...deps,
  });
  return { sd, m };
}

const resources = { memory: { limit: 1 << 20 }, pids: { limit: 5 }, devices: [{ allow: false, access: 'rwm' }] };

test('create: nothing before the init; then the unit around it, its job, and the files', () => {
  const { sd, m } = setup();
  m.prepare(resources, { 'org.systemd.property.TimeoutStopSec': '3' });
  m.create();
  assert.equal(sd.calls, []);
  const warnings = m.start(42);
  assert.equal(sd.calls, ['start hako-c1.scope replace', `wait ${JOB}`, 'fs.create', 'fs.set devices,memory,pids', 'fs.apply 42']);
  assert.equal(warnings, ['a warning from the files']);
  const names = sd.started[0]!.map(([n]) => n);
  assert.equal(names.slice(0, 4), ['Description', 'Slice', 'Delegate', 'PIDs']);
  for (const n of ['TasksMax', 'MemoryMax', 'DevicePolicy', 'DeviceAllow', 'DefaultDependencies']) assert.ok(names.includes(n), n);
  // Annotations come last, so they can override, as in runc.
  assert.is(names[names.length - 1], 'TimeoutStopUSec');
  assert.is(sd.closed, 1);
});

test('a failed unit of the same name is reset and the start retried once', () => {
  const { sd, m } = setup();
  m.prepare(resources, undefined);
  sd.startErrors = [new DBusError('org.freedesktop.systemd1.UnitExists', 'Unit hako-c1.scope was already loaded or has a fragment file.')];
  m.start(42);
  assert.equal(sd.calls.slice(0, 3), ['start hako-c1.scope replace', 'reset hako-c1.scope', 'start hako-c1.scope replace']);
  // Twice: the unit is someone else's, running; it is not stopped by the cleanup.
  const two = setup();
  two.m.prepare(resources, undefined);
  const exists = new DBusError('org.freedesktop.systemd1.UnitExists', 'Unit hako-c1.scope was already loaded or has a fragment file.');
  two.sd.startErrors = [exists, exists];
  try {
    two.m.start(42);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, CgroupError);
    assert.is(
      (e as Error).message,
      'systemd refused to start unit hako-c1.scope: org.freedesktop.systemd1.UnitExists: Unit hako-c1.scope was already loaded or has a fragment file.',
    );
  }
  two.sd.calls.length = 0;
  two.m.destroy();
  assert.equal(two.sd.calls, []);
});

test('a property this systemd does not know is dropped with a warning; an essential one fails', () => {
  const { sd, m } = setup();
  m.prepare(resources, undefined);
  sd.startErrors = [new DBusError('org.freedesktop.DBus.Error.PropertyReadOnly', 'Cannot set property TasksMax, or unknown property.')];
  const warnings = m.start(42);
  assert.is(
    sd.started[1]!.some(([n]) => n === 'TasksMax'),
    false,
  );
  assert.match(warnings[0]!, /systemd does not know the unit property TasksMax .*written to the cgroup files only/);
  const two = setup();
  two.m.prepare(resources, undefined);
  two.sd.startErrors = [new DBusError('org.freedesktop.DBus.Error.PropertyReadOnly', 'Cannot set property Delegate, or unknown property.')];
  try {
    two.m.start(42);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /^systemd refused to start unit hako-c1\.scope: org\.freedesktop\.DBus\.Error\.PropertyReadOnly/);
  }
});

test('a start job that fails resets the unit and says so; the files are not touched', () => {
  const { sd, m } = setup();
  m.prepare(resources, undefined);
  sd.jobResult = 'failed';
  try {
    m.start(42);
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'systemd could not start unit hako-c1.scope: its start job ended "failed"');
  }
  assert.equal(sd.calls, ['start hako-c1.scope replace', `wait ${JOB}`, 'reset hako-c1.scope']);
  // The unit was accepted: the create's cleanup stops it.
  sd.calls.length = 0;
  m.destroy();
  assert.equal(sd.calls, ['stop hako-c1.scope replace', `wait ${JOB}`, 'reset hako-c1.scope', 'fs.destroy']);
});

test('systemd must have put the init where the record says', () => {
  const { m } = setup({ procCgroup: () => '0::/user.slice/elsewhere.scope\n' });
  m.prepare(resources, undefined);
  try {
    m.start(42);
    assert.unreachable();
  } catch (e) {
    assert.is(
      (e as Error).message,
      "systemd placed process 42 in /user.slice/elsewhere.scope, not in unit hako-c1.scope's /system.slice/hako-c1.scope (is hako in a cgroup namespace?)",
    );
  }
});

test('no systemd to talk to: one line naming the unit', () => {
  const { m } = setup({
    connect: () => {
      throw new Error('cannot connect to /run/dbus/system_bus_socket: ECONNREFUSED');
    },
  });
  m.prepare(resources, undefined);
  try {
    m.start(42);
    assert.unreachable();
  } catch (e) {
    assert.is(
      (e as Error).message,
      'cannot start unit hako-c1.scope: cannot reach systemd over D-Bus: cannot connect to /run/dbus/system_bus_socket: ECONNREFUSED',
    );
  }
});

test('update: SetUnitProperties (runtime) with the limits, then the files; devices are not sent', () => {
  const { sd, m } = setup();
  const warnings = m.set({ memory: { limit: 2 << 20 }, devices: [{ allow: true, access: 'rwm' }] });
  assert.equal(sd.calls, ['set hako-c1.scope true MemoryMax', 'fs.set devices,memory']);
  assert.equal(warnings, ['a warning from the files']);
  // Nothing systemd holds: no D-Bus at all.
  sd.calls.length = 0;
  m.set({ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] });
  assert.equal(sd.calls, ['fs.set hugepageLimits']);
});

test('pause, resume, kill --all and stats go to the files only', () => {
  const { sd, m } = setup();
  m.freeze();
  m.thaw();
  m.killAll(9);
  assert.equal(sd.calls, ['fs.freeze', 'fs.thaw', 'fs.killAll 9']);
  assert.is(sd.closed, 0);
});

test('delete: a unit systemd already dropped is fine; processes still there are not killed by StopUnit', () => {
  const { sd, m } = setup();
  sd.stopError = new DBusError('org.freedesktop.systemd1.NoSuchUnit', 'Unit hako-c1.scope not loaded.');
  sd.resetError = new DBusError('org.freedesktop.systemd1.NoSuchUnit', 'Unit hako-c1.scope not loaded.');
  m.destroy();
  assert.equal(sd.calls, ['stop hako-c1.scope replace', 'reset hako-c1.scope', 'fs.destroy']);

  const busy = setup({}, () => [7]);
  try {
    busy.m.destroy();
    assert.unreachable();
  } catch (e) {
    assert.is((e as CgroupError).code, 'EBUSY');
    assert.is((e as Error).message, 'cannot stop unit hako-c1.scope: processes are still in /system.slice/hako-c1.scope');
  }
  assert.equal(busy.sd.calls, []);

  // Without systemd as init nothing can be loaded: only the files.
  const gone = setup({ booted: () => false });
  gone.m.destroy();
  assert.equal(gone.sd.calls, ['fs.destroy']);
});

test('a create that failed before the unit was asked for stops nothing', () => {
  const { sd, m } = setup();
  m.prepare(resources, undefined);
  m.destroy();
  assert.equal(sd.calls, []);
});

test('no answer to StartTransientUnit: the unit may exist, so the cleanup stops it', () => {
  const { sd, m } = setup();
  m.prepare(resources, undefined);
  sd.startTransientUnit = () => {
    throw new DBusConnectionError('/run/dbus/system_bus_socket: no answer to StartTransientUnit within the timeout', 'ETIMEDOUT');
  };
  try {
    m.start(42);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /^cannot start unit hako-c1\.scope: .*no answer to StartTransientUnit/);
  }
  m.destroy();
  assert.equal(sd.calls, ['stop hako-c1.scope replace', `wait ${JOB}`, 'reset hako-c1.scope', 'fs.destroy']);
});

test('memory.oom.group is OOMPolicy, as runc maps it', () => {
  const { sd, m } = setup();
  m.prepare({ unified: { 'memory.oom.group': '1' } }, undefined);
  m.start(42);
  assert.ok(sd.started[0]!.some(([n, v]) => n === 'OOMPolicy' && v.value === 'kill'));
});

test.run();
