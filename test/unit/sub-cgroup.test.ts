// exec --cgroup: runc 1.2's argument parsing and errors, and the sub-cgroup
// directories derived from the recorded ones (src/container/sub-cgroup.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSubCgroupArgs, SubCgroupError, subCgroupDirs } from '../../src/container/sub-cgroup.js';

const throws = (f: () => unknown, msg: string) => {
  try {
    f();
    assert.unreachable(`no error, expected ${msg}`);
  } catch (e) {
    assert.instance(e, SubCgroupError);
    assert.is((e as Error).message, msg);
  }
};

test('parse: none, one path, controllers with paths', () => {
  assert.is(parseSubCgroupArgs([]), null);
  assert.equal([...parseSubCgroupArgs(['sub/a'])!], [['', 'sub/a']]);
  assert.equal(
    [...parseSubCgroupArgs(['cpu,cpuacct:x', 'memory:y'])!],
    [
      ['cpu', 'x'],
      ['cpuacct', 'x'],
      ['memory', 'y'],
    ],
  );
});

test("parse: runc's refusals", () => {
  throws(() => parseSubCgroupArgs(['a', 'b']), 'invalid --cgroup argument: a (missing <controller>: prefix)');
  throws(() => parseSubCgroupArgs(['cpu:a', 'b']), 'invalid --cgroup argument: b (missing <controller>: prefix)');
  throws(() => parseSubCgroupArgs(['a:b:c']), 'invalid --cgroup argument: a:b:c');
  throws(() => parseSubCgroupArgs([':x']), 'invalid --cgroup argument: :x (empty <controller> prefix)');
  throws(() => parseSubCgroupArgs(['cpu:x', 'cpu:y']), 'invalid --cgroup argument(s): controller cpu specified multiple times');
});

test('dirs: one path joins every hierarchy; ".." may not leave the container\'s cgroup, even to a sibling sharing its prefix', () => {
  const v2 = { '': '/sys/fs/cgroup/hako/c1' };
  assert.equal(subCgroupDirs(v2, parseSubCgroupArgs(['a/b'])!), { '': '/sys/fs/cgroup/hako/c1/a/b' });
  assert.equal(subCgroupDirs(v2, parseSubCgroupArgs(['a/../b'])!), { '': '/sys/fs/cgroup/hako/c1/b' });
  throws(() => subCgroupDirs(v2, parseSubCgroupArgs(['..'])!), '.. is not a sub cgroup path');
  throws(() => subCgroupDirs(v2, parseSubCgroupArgs(['../c10'])!), '../c10 is not a sub cgroup path');
  throws(() => subCgroupDirs(v2, parseSubCgroupArgs(['/../../x'])!), '/../../x is not a sub cgroup path');
  const v1 = { cpu: '/sys/fs/cgroup/cpu/c1', memory: '/sys/fs/cgroup/memory/c1' };
  assert.equal(subCgroupDirs(v1, parseSubCgroupArgs(['s'])!), { cpu: '/sys/fs/cgroup/cpu/c1/s', memory: '/sys/fs/cgroup/memory/c1/s' });
});

test('dirs: by controller, a co-mounted hierarchy found by any of its controllers; unknown ones refused', () => {
  const v1 = { 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/c1', memory: '/sys/fs/cgroup/memory/c1', '': '/sys/fs/cgroup/unified/c1' };
  assert.equal(subCgroupDirs(v1, parseSubCgroupArgs(['cpuacct:s'])!), { ...v1, 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/c1/s' });
  assert.equal(subCgroupDirs(v1, parseSubCgroupArgs(['cpu,cpuacct:s'])!), { ...v1, 'cpu,cpuacct': '/sys/fs/cgroup/cpu,cpuacct/c1/s' });
  throws(
    () => subCgroupDirs(v1, parseSubCgroupArgs(['cpu:s', 'cpuacct:t'])!),
    'invalid --cgroup argument(s): controllers of one hierarchy (cpu,cpuacct) with different paths (s, t)',
  );
  throws(() => subCgroupDirs(v1, parseSubCgroupArgs(['pids:s'])!), 'unknown controller pids in SubCgroupPaths');
  // cgroup v2 has no controller keys (runc: "unknown controller").
  throws(() => subCgroupDirs({ '': '/sys/fs/cgroup/c1' }, parseSubCgroupArgs(['cpu:s'])!), 'unknown controller cpu in SubCgroupPaths');
  throws(() => subCgroupDirs({}, parseSubCgroupArgs(['cpu:s'])!), 'unknown controller cpu in SubCgroupPaths');
  assert.equal(subCgroupDirs({}, parseSubCgroupArgs(['s'])!), {});
});

test.run();
