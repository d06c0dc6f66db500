// The mounts a container without a mount namespace made below its rootfs
// (src/container/rootfs-mounts.ts): which ones delete unmounts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isBelow, newMounts, parseMountEntries, rootfsMountsBefore, toUnmount, unmountCreated, withMade } from '../../src/container/rootfs-mounts.js';

const line = (id: number, mp: string) => `${id} 27 0:42 / ${mp} rw,relatime - proc proc rw`;
const R = '/b/root fs';
const E = '/b/root\\040fs';

test('mountinfo: ids and mount points, octal escapes undone, junk skipped', () => {
  assert.equal(parseMountEntries([line(22, '/proc'), line(47, `${E}/proc`), '', 'garbage'].join('\n')), [
    { id: 22, mountpoint: '/proc' },
    { id: 47, mountpoint: `${R}/proc` },
  ]);
});

test('below: strictly, never the rootfs itself or a sibling with the same prefix', () => {
  assert.ok(isBelow(R, `${R}/proc`));
  assert.not.ok(isBelow(R, R));
  assert.not.ok(isBelow(R, `${R}x/proc`));
  assert.not.ok(isBelow(R, '/proc'));
});

test('before, made, and what delete unmounts (latest first)', () => {
  const before = [line(30, E), line(31, `${E}/pre`), line(22, '/proc')].join('\n');
  const m = rootfsMountsBefore(R, { mountinfo: () => before });
  assert.equal(m, { root: R, before: [31] }, 'the rootfs itself is not below it');
  const after = [before, line(47, `${E}/proc`), line(48, `${E}/dev`), line(49, `${E}/dev/pts`), line(50, '/elsewhere')].join('\n');
  const full = withMade(m, { mountinfo: () => after });
  assert.equal(full.made, [
    { id: 47, path: `${R}/proc` },
    { id: 48, path: `${R}/dev` },
    { id: 49, path: `${R}/dev/pts` },
  ]);
  // Later: 48 is gone, 47 moved (a renamed directory), 51 is someone else's.
  const later = parseMountEntries([line(31, `${E}/pre`), line(47, `${E}/proc2`), line(49, `${E}/dev/pts`), line(51, `${E}/other`)].join('\n'));
  assert.equal(
    toUnmount(later, full).map((e) => e.id),
    [49, 47],
  );
  // No made list (a create that never got that far): what was not there before.
  assert.equal(
    toUnmount(later, m).map((e) => e.id),
    [51, 49, 47],
  );
  assert.equal(
    newMounts(later, R, [31, 47]).map((e) => e.id),
    [49, 51],
  );
  // A recorded id now outside the rootfs is left alone.
  assert.equal(toUnmount(parseMountEntries(line(47, '/proc2')), full), []);
});

test('unmountCreated: through unmountBeneath with the path relative to the rootfs; failures reported, not thrown', () => {
  const calls: string[] = [];
  const m = {
    root: R,
    before: [],
    made: [
      { id: 47, path: `${R}/proc` },
      { id: 49, path: `${R}/dev/pts` },
    ],
  };
  const problems = unmountCreated(m, {
    mountinfo: () => [line(47, `${E}/proc`), line(49, `${E}/dev/pts`)].join('\n'),
    unmount: (root, rel, id) => {
      calls.push(`${root}|${rel}|${id}`);
      if (id === 47) throw new Error('EPERM: operation not permitted, umount2');
      return true;
    },
  });
  assert.equal(calls, [`${R}|dev/pts|49`, `${R}|proc|47`]);
  assert.equal(problems, [`cannot unmount ${R}/proc: EPERM: operation not permitted, umount2`]);
});

test.run();
