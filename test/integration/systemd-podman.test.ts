// podman with cgroup_manager = "systemd" running its containers with hako,
// in the guest that boots systemd (scripts/vm/test-systemd.sh): podman puts
// conmon in a scope of its own, calls `hako --systemd-cgroup create` with
// cgroupsPath machine.slice:libpod:<id>, and removing the container must
// remove hako's libpod-<id>.scope. Skipped where systemd is not PID 1 or
// podman is not installed (`make test-clients` installs it).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { IMAGE, Podman } from '../clients/podman-env.js';
import { skip, skippable } from '../skip.js';

const t = suite('systemd-podman');
const test = skippable(t, 'systemd-podman');

const booted = (() => {
  try {
    return readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd' && statSync('/run/systemd/system').isDirectory();
  } catch {
    return false;
  }
})();
const podman = ['/usr/bin/podman', '/usr/bin/conmon'].every((p) => existsSync(p));
const why = !booted ? 'systemd is not PID 1 here' : !podman ? 'podman and conmon are not installed (make test-clients installs them)' : undefined;
let pm: Podman | undefined;

t.before(() => {
  if (why) {
    if (process.env.HAKO_TEST_SYSTEMD === '1' && !booted) assert.unreachable(`HAKO_TEST_SYSTEMD=1 but ${why}`);
    return;
  }
  pm = new Podman({ cgroupManager: 'systemd' });
  pm.importImage();
});
t.after(() => pm?.cleanup());

const v2 = !existsSync('/sys/fs/cgroup/memory');
const loaded = (unit: string) =>
  spawnSync('systemctl', ['--no-pager', 'list-units', '--all', '--plain', '--no-legend', unit], { encoding: 'utf8' }).stdout.includes(unit);

test('podman run: the container is in machine.slice/libpod-<id>.scope, under its limits; rm removes the unit', () => {
  if (!pm) skip(why!);
  const limits = v2 ? 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max' : 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max';
  const name = `hako-sd-${process.pid}`;
  const id = pm.ok(['run', '-d', '--name', name, '--memory', '64m', '--pids-limit', '30', IMAGE, 'sleep', '1000']).stdout.trim();
  const unit = `libpod-${id}.scope`;
  try {
    const pid = Number(pm.ok(['inspect', '--format', '{{.State.Pid}}', name]).stdout.trim());
    const cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    assert.match(cg, new RegExp(`^0::/machine\\.slice/${unit.replace(/\./g, '\\.')}$`, 'm'));
    assert.is(loaded(unit), true, `${unit} is loaded`);
    const r = pm.ok(['exec', name, 'sh', '-c', limits]);
    assert.equal(r.stdout.trim().split('\n'), [String(64 * 1024 * 1024), '30']);
  } finally {
    pm.run(['rm', '--force', '--time', '0', name]);
  }
  assert.is(loaded(unit), false, `${unit} is gone after podman rm`);
  assert.equal(pm.leftovers(), []);
});

t.run();
