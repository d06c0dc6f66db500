// linux.cgroupsPath → where the cgroup lives, as runc's cgroupfs driver
// decides, with ".." escapes and the systemd form refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CgroupError } from '../../src/cgroups/cgroup-error.js';
import { layoutOf, parseMountinfo, parseProcCgroup } from '../../src/cgroups/host.js';
import { cgroupDir, resolveCgroupPath } from '../../src/cgroups/path.js';

function throws(fn: () => unknown, message: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, CgroupError);
    assert.is((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected: ${message}`);
}

test('absolute, relative and empty paths', () => {
  assert.equal(resolveCgroupPath({ cgroupsPath: '/hako/c1', id: 'c1' }), { absolute: true, inner: '/hako/c1' });
  assert.equal(resolveCgroupPath({ cgroupsPath: 'pod/c1', id: 'c1' }), { absolute: false, inner: 'pod/c1' });
  // Empty: the container id, relative, exactly as runc.
  assert.equal(resolveCgroupPath({ id: 'c1' }), { absolute: false, inner: 'c1' });
  assert.equal(resolveCgroupPath({ cgroupsPath: '', id: 'c1' }), { absolute: false, inner: 'c1' });
  // Cleaned like a path.
  assert.equal(resolveCgroupPath({ cgroupsPath: '//a/./b//', id: 'x' }), { absolute: true, inner: '/a/b' });
  assert.equal(resolveCgroupPath({ cgroupsPath: '/a/b/../c', id: 'x' }), { absolute: true, inner: '/a/c' });
});

test('".." that climbs out, the root itself and odd characters are refused', () => {
  throws(
    () => resolveCgroupPath({ cgroupsPath: '/../../etc', id: 'x' }),
    'config.json: /linux/cgroupsPath: "/../../etc" climbs out of the cgroup hierarchy with ".."',
  );
  throws(
    () => resolveCgroupPath({ cgroupsPath: 'a/../../b', id: 'x' }),
    'config.json: /linux/cgroupsPath: "a/../../b" climbs out of the cgroup hierarchy with ".."',
  );
  throws(
    () => resolveCgroupPath({ cgroupsPath: '/', id: 'x' }),
    'config.json: /linux/cgroupsPath: must name a cgroup below the hierarchy root, not the root itself',
  );
  throws(
    () => resolveCgroupPath({ cgroupsPath: '/a/..', id: 'x' }),
    'config.json: /linux/cgroupsPath: must name a cgroup below the hierarchy root, not the root itself',
  );
  throws(() => resolveCgroupPath({ cgroupsPath: '.', id: 'x' }), "config.json: /linux/cgroupsPath: must name a cgroup below hako's own, not hako's own cgroup");
  throws(() => resolveCgroupPath({ cgroupsPath: '/a\nb', id: 'x' }), 'config.json: /linux/cgroupsPath: must not contain NUL or newline characters');
});

test('the systemd form without --systemd-cgroup is a mistake worth naming', () => {
  throws(
    () => resolveCgroupPath({ cgroupsPath: ':docker:abc', id: 'x' }),
    'config.json: /linux/cgroupsPath: ":docker:abc" looks like a systemd slice:prefix:name path, which needs the systemd cgroup driver (--systemd-cgroup); hako\'s cgroupfs driver takes a path such as /hako/<id>',
  );
  // A colon alone does not make it systemd.
  assert.equal(resolveCgroupPath({ cgroupsPath: '/a:b', id: 'x' }), { absolute: true, inner: '/a:b' });
});

test('the source document is named in messages (update -r)', () => {
  throws(
    () => resolveCgroupPath({ cgroupsPath: '/', id: 'x', source: 'state.json' }),
    'state.json: /linux/cgroupsPath: must name a cgroup below the hierarchy root, not the root itself',
  );
});

const HYBRID_MOUNTINFO = [
  '30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
  '32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
  '33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
  // A container's view: the hierarchy's root is not the mount's root.
  '34 30 0:30 /docker/abc /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids',
].join('\n');

test("host directories: absolute under each mount point, relative under hako's own cgroup", () => {
  const layout = layoutOf(
    parseMountinfo(HYBRID_MOUNTINFO),
    parseProcCgroup('4:memory:/process_api/h1\n3:cpu,cpuacct:/user.slice\n2:pids:/docker/abc/sub\n0::/user.slice/session-1.scope\n'),
  );
  const [unified, memory, cpu, pids] = layout.hierarchies;
  const abs = resolveCgroupPath({ cgroupsPath: '/hako/c1', id: 'c1' });
  assert.is(cgroupDir(layout, memory!, abs, false), '/sys/fs/cgroup/memory/hako/c1');
  assert.is(cgroupDir(layout, pids!, abs, false), '/sys/fs/cgroup/pids/hako/c1');
  const rel = resolveCgroupPath({ id: 'c1' });
  assert.is(cgroupDir(layout, memory!, rel, false), '/sys/fs/cgroup/memory/process_api/h1/c1');
  assert.is(cgroupDir(layout, cpu!, rel, false), '/sys/fs/cgroup/cpu,cpuacct/user.slice/c1');
  // /proc/self/cgroup is relative to the hierarchy root, the mount shows /docker/abc.
  assert.is(cgroupDir(layout, pids!, rel, false), '/sys/fs/cgroup/pids/sub/c1');
  // Pure v2 puts a relative path next to hako's own cgroup, not inside it.
  assert.is(cgroupDir(layout, unified!, rel, true), '/sys/fs/cgroup/unified/user.slice/c1');
  assert.is(cgroupDir(layout, unified!, rel, false), '/sys/fs/cgroup/unified/user.slice/session-1.scope/c1');
});

test('host directories: own cgroup at the root, or outside the cgroup namespace', () => {
  const layout = layoutOf(parseMountinfo('31 25 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw'), parseProcCgroup('0::/\n'));
  const h = layout.hierarchies[0]!;
  assert.is(cgroupDir(layout, h, resolveCgroupPath({ id: 'c1' }), true), '/sys/fs/cgroup/c1');
  const outside = layoutOf(layout.hierarchies, parseProcCgroup('0::/../../x\n'));
  try {
    cgroupDir(outside, h, resolveCgroupPath({ id: 'c1' }), true);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /outside this cgroup namespace/);
  }
});

test.run();
