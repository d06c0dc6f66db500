// slice:prefix:name → the systemd unit and its cgroup, by runc's rules.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CgroupError } from '../../src/cgroups/cgroup-error.js';
import { expandSlice, resolveSystemdPath } from '../../src/cgroups/systemd-unit.js';

function throws(fn: () => unknown, message: string | RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, CgroupError);
    if (typeof message === 'string') assert.is((e as Error).message, message);
    else assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected: ${message}`);
}

test('slices expand to nested cgroup paths; "-.slice" is the root', () => {
  assert.is(expandSlice('system.slice'), '/system.slice');
  assert.is(expandSlice('machine-libpod_pod_1.slice'), '/machine.slice/machine-libpod_pod_1.slice');
  assert.is(expandSlice('kubepods-burstable-podX.slice'), '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podX.slice');
  assert.is(expandSlice('-.slice'), '/');
  for (const bad of ['.slice', 'system', 'a--b.slice', '-a.slice', 'a-.slice', 'a/b.slice']) assert.is(typeof expandSlice(bad), 'object', bad);
});

test("runc's unit names: prefix-name.scope in the slice, system.slice by default", () => {
  assert.equal(resolveSystemdPath({ cgroupsPath: 'system.slice:hako:abc', id: 'abc' }), {
    slice: 'system.slice',
    unit: 'hako-abc.scope',
    kind: 'scope',
    cgroup: '/system.slice/hako-abc.scope',
    name: 'abc',
  });
  // podman's and Docker's forms.
  assert.equal(resolveSystemdPath({ cgroupsPath: 'machine.slice:libpod:0123', id: '0123' }).cgroup, '/machine.slice/libpod-0123.scope');
  assert.equal(resolveSystemdPath({ cgroupsPath: 'system.slice:docker:f00', id: 'x' }).unit, 'docker-f00.scope');
  // An empty slice is system.slice; an empty cgroupsPath is :hako:<id>.
  assert.is(resolveSystemdPath({ cgroupsPath: ':p:n', id: 'x' }).cgroup, '/system.slice/p-n.scope');
  assert.equal(resolveSystemdPath({ id: 'c1' }), {
    slice: 'system.slice',
    unit: 'hako-c1.scope',
    kind: 'scope',
    cgroup: '/system.slice/hako-c1.scope',
    name: 'c1',
  });
  // An empty prefix gives runc's (and crun's) "-name.scope".
  assert.is(resolveSystemdPath({ cgroupsPath: 'system.slice::n', id: 'x' }).unit, '-n.scope');
  // The root slice and nested slices.
  assert.is(resolveSystemdPath({ cgroupsPath: '-.slice:hako:n', id: 'x' }).cgroup, '/hako-n.scope');
  assert.is(
    resolveSystemdPath({ cgroupsPath: 'kubepods-besteffort.slice:cri-containerd:ab', id: 'x' }).cgroup,
    '/kubepods.slice/kubepods-besteffort.slice/cri-containerd-ab.scope',
  );
});

test('a name ending in .slice is a slice unit, and must be a child of the slice', () => {
  assert.equal(resolveSystemdPath({ cgroupsPath: 'machine.slice:x:machine-pod1.slice', id: 'x' }), {
    slice: 'machine.slice',
    unit: 'machine-pod1.slice',
    kind: 'slice',
    cgroup: '/machine.slice/machine-pod1.slice',
    name: 'machine-pod1.slice',
  });
  assert.is(resolveSystemdPath({ cgroupsPath: '-.slice:x:top.slice', id: 'x' }).cgroup, '/top.slice');
  throws(
    () => resolveSystemdPath({ cgroupsPath: 'machine.slice:x:pod1.slice', id: 'x' }),
    'config.json: /linux/cgroupsPath: the slice "pod1.slice" would not be inside machine.slice: systemd places a slice by its name (/pod1.slice), so name it "machine-pod1.slice"',
  );
});

test('malformed paths name the JSON path and what is wrong', () => {
  throws(
    () => resolveSystemdPath({ cgroupsPath: '/a/b', id: 'x' }),
    'config.json: /linux/cgroupsPath: "/a/b" is not of the form slice:prefix:name, which the systemd cgroup driver (--systemd-cgroup) expects, e.g. "system.slice:hako:<id>"',
  );
  throws(() => resolveSystemdPath({ cgroupsPath: 'a:b:c:d', id: 'x' }), /is not of the form slice:prefix:name/);
  throws(() => resolveSystemdPath({ cgroupsPath: 'system.slice:hako:', id: 'x' }), /has an empty name/);
  throws(
    () => resolveSystemdPath({ cgroupsPath: 'system:hako:x', id: 'x' }),
    'config.json: /linux/cgroupsPath: the slice "system" is not a slice unit: a slice name ends in ".slice"',
  );
  throws(() => resolveSystemdPath({ cgroupsPath: 'a--b.slice:hako:x', id: 'x' }), /a slice name has no empty "-"-separated parts/);
  throws(() => resolveSystemdPath({ cgroupsPath: 'system.slice:ha ko:x', id: 'x' }), /the unit "ha ko-x.scope" is not a valid systemd unit name/);
  throws(() => resolveSystemdPath({ cgroupsPath: `system.slice:hako:${'x'.repeat(250)}`, id: 'x' }), /longer than systemd's 255-byte limit/);
  throws(() => resolveSystemdPath({ cgroupsPath: 'system.slice:hako:a@b', id: 'x' }), /not a valid systemd unit name/);
});

test.run();
