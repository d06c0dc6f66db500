// The parents of a nested cgroupsPath that delete removes
// (src/container/cgroup-parents.ts), and the managers' list of them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dirsBetween } from '../../src/cgroups/common.js';
import { HybridManager, V1Manager, V2Manager } from '../../src/cgroups/manager.js';
import { SystemdManager } from '../../src/cgroups/systemd.js';
import { claimedInStore, claimedParents, isParentOf, parentsToRecord, removalOrder, removeParents } from '../../src/container/cgroup-parents.js';

test('dirsBetween: the directories strictly between the mount point and the cgroup', () => {
  assert.equal(dirsBetween('/cg', '/cg/a/b/c'), ['/cg/a', '/cg/a/b']);
  assert.equal(dirsBetween('/cg', '/cg/a'), []);
  assert.equal(dirsBetween('/cg', '/cg'), []);
  assert.equal(dirsBetween('/cg', '/other/a/b'), []);
});

test('managers list the parents of every hierarchy, outermost first', () => {
  const v2 = new V2Manager('/sys/fs/cgroup/unified', '/sys/fs/cgroup/unified/x/a/c1');
  assert.equal(v2.parents(), ['/sys/fs/cgroup/unified/x', '/sys/fs/cgroup/unified/x/a']);
  const v1 = new V1Manager([
    { key: 'memory', controllers: ['memory'], mountpoint: '/sys/fs/cgroup/memory', dir: '/sys/fs/cgroup/memory/x/c1' },
    { key: 'pids', controllers: ['pids'], mountpoint: '/sys/fs/cgroup/pids', dir: '/sys/fs/cgroup/pids/c1' },
  ]);
  assert.equal(v1.parents(), ['/sys/fs/cgroup/memory/x']);
  assert.equal(new HybridManager(v1, v2).parents(), ['/sys/fs/cgroup/memory/x', '/sys/fs/cgroup/unified/x', '/sys/fs/cgroup/unified/x/a']);
});

test('systemd: only the parents in v1 hierarchies systemd does not manage; its slices are its own', () => {
  const unit = { unit: 'hako-c1.scope', slice: 'a-b.slice', kind: 'scope' as const, cgroup: '/a.slice/a-b.slice/hako-c1.scope', name: 'c1' };
  const at = (mp: string) => `${mp}${unit.cgroup}`;
  const member = (key: string, mp: string) => ({ key, controllers: key.split(','), mountpoint: mp, dir: at(mp) });
  const v1 = new V1Manager([
    member('name=systemd', '/cg/systemd'),
    member('cpu,cpuacct', '/cg/cpu'),
    member('freezer', '/cg/freezer'),
    member('cpuset', '/cg/cpuset'),
  ]);
  const mine = ['/cg/freezer/a.slice', '/cg/freezer/a.slice/a-b.slice', '/cg/cpuset/a.slice', '/cg/cpuset/a.slice/a-b.slice'];
  assert.equal(new SystemdManager(unit, v1, 'v1').parents(), mine);
  const hybrid = new HybridManager(v1, new V2Manager('/cg/unified', at('/cg/unified')));
  assert.equal(new SystemdManager(unit, hybrid, 'hybrid').parents(), mine, 'not the unified tree, which systemd manages');
  assert.equal(new SystemdManager(unit, new V2Manager('/cg', at('/cg')), 'v2').parents(), []);
});

test('recorded: the missing parents, and existing ones another container claims', () => {
  const exists = (d: string) => d === '/cg/top' || d === '/cg/top/shared';
  assert.equal(parentsToRecord(['/cg/top', '/cg/top/shared', '/cg/top/shared/new'], exists, new Set()), ['/cg/top/shared/new']);
  assert.equal(parentsToRecord(['/cg/top', '/cg/top/shared', '/cg/top/shared/new'], exists, new Set(['/cg/top/shared'])), [
    '/cg/top/shared',
    '/cg/top/shared/new',
  ]);
  assert.equal(parentsToRecord([], exists, new Set(['/cg/top'])), []);
});

test('claims are read from the other records of the store, damaged ones skipped', () => {
  const recs: Record<string, { rec?: { cgroupParents?: string[] } } | null> = {
    self: { rec: { cgroupParents: ['/cg/mine'] } },
    a: { rec: { cgroupParents: ['/cg/x', '/cg/x/y'] } },
    b: { rec: {} },
    damaged: {},
    gone: null,
  };
  const store = { ids: () => Object.keys(recs), load: (id: string) => recs[id] as never };
  assert.equal([...claimedInStore(store, 'self')].sort(), ['/cg/x', '/cg/x/y']);
  assert.equal([...claimedParents([undefined, { cgroupParents: ['/a'] }])], ['/a']);
  assert.equal(
    claimedInStore(
      {
        load: () => null,
        ids: () => {
          throw Object.assign(new Error('EACCES'), { code: 'EACCES' });
        },
      },
      'self',
    ).size,
    0,
  );
});

test('removal: innermost first, across hierarchies; failures (busy, gone) are left alone', () => {
  assert.equal(removalOrder(['/m/x', '/u/x', '/m/x/y', '/u/x/y/z', '/m/x']), ['/u/x/y/z', '/m/x/y', '/m/x', '/u/x']);
  const tried: string[] = [];
  const removed = removeParents(['/m/x', '/m/x/y', '/u/x'], (d) => {
    tried.push(d);
    if (d === '/m/x') throw Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
  });
  assert.equal(tried, ['/m/x/y', '/m/x', '/u/x']);
  assert.equal(removed, ['/m/x/y', '/u/x']);
  assert.equal(
    removeParents(undefined, () => assert.unreachable()),
    [],
  );
});

test('isParentOf: proper ancestors only', () => {
  assert.ok(isParentOf('/cg/a', ['/cg/a/b']));
  assert.ok(isParentOf('/cg', ['/x', '/cg/a/b']));
  assert.not.ok(isParentOf('/cg/a/b', ['/cg/a/b']));
  assert.not.ok(isParentOf('/cg/a', ['/cg/ab']));
  assert.not.ok(isParentOf('/cg/a', []));
});

test.run();
