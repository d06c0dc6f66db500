// The pure parts of the state store: what a state file must hold to be
// believed (src/container/record.ts), whole writes, work directory names.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RecordError, checkRecord, parseRecord } from '../../src/container/record.js';
import { parseWorkName, writeAll } from '../../src/container/store.js';

const good = () => ({
  ociVersion: '1.3.0',
  id: 'box',
  pid: 1234,
  initStartTime: '98765',
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: '2025-01-01T00:00:00.000000000Z',
  owner: '',
  annotations: { a: 'b' },
  newNamespaces: 0x20000000,
  cgroup: { memory: '/sys/fs/cgroup/memory/hako/box' },
});

const bad = (text: string, why: RegExp, id = 'box') => {
  assert.throws(
    () => parseRecord(text, id),
    (e: unknown) => e instanceof RecordError && why.test(e.message) && !e.message.includes('\n'),
    `${text.slice(0, 60)} -> ${why}`,
  );
};

test('a whole record passes, with and without the optional parts', () => {
  assert.equal(parseRecord(JSON.stringify(good()), 'box'), good());
  const { annotations: _a, cgroup: _c, ...min } = good();
  assert.equal(checkRecord(min, 'box'), min);
  const creating = { ...good(), pid: 0, initStartTime: '', creating: { pid: 7, startTime: '1' } };
  assert.equal(checkRecord(creating, 'box'), creating);
  const sd = { ...good(), systemd: { unit: 'x.scope', slice: 'system.slice', kind: 'scope', cgroup: '/system.slice/x.scope' } };
  assert.equal(checkRecord(sd, 'box'), sd);
  const mounts = { ...good(), rootfsMounts: { root: '/b/rootfs', before: [3], made: [{ id: 47, path: '/b/rootfs/proc' }] } };
  assert.equal(checkRecord(mounts, 'box'), mounts);
  const parents = { ...good(), cgroupParents: ['/sys/fs/cgroup/memory/hako'] };
  assert.equal(checkRecord(parents, 'box'), parents);
});

test('what a damaged or foreign state file holds is refused, naming why', () => {
  bad('', /^empty file$/);
  bad('  \n', /^empty file$/);
  bad('{"ociVersion":"1.3', /^not JSON/);
  bad('\x00\x01garbage', /^not JSON/);
  bad('null', /must be an object, not null/);
  bad('[]', /must be an object, not an array/);
  bad('42', /must be an object, not number/);
  bad('{}', /^\/id: must be "box"/);
  bad(JSON.stringify({ ...good(), id: 'other' }), /^\/id: must be "box"/);
  bad(JSON.stringify({ ...good(), pid: -1 }), /^\/pid: /);
  bad(JSON.stringify({ ...good(), pid: '1234' }), /^\/pid: /);
  bad(JSON.stringify({ ...good(), pid: 1.5 }), /^\/pid: /);
  bad(JSON.stringify({ ...good(), initStartTime: 12 }), /^\/initStartTime: /);
  bad(JSON.stringify({ ...good(), initStartTime: '12; rm' }), /^\/initStartTime: /);
  bad(JSON.stringify({ ...good(), bundle: undefined }), /^\/bundle: must be a string/);
  bad(JSON.stringify({ ...good(), newNamespaces: null }), /^\/newNamespaces: /);
  bad(JSON.stringify({ ...good(), annotations: { a: 1 } }), /^\/annotations\/a: /);
  bad(JSON.stringify({ ...good(), creating: { pid: 0, startTime: '1' } }), /^\/creating\/pid: /);
  bad(JSON.stringify({ ...good(), creating: 'yes' }), /^\/creating: /);
  bad(JSON.stringify({ ...good(), cgroup: { memory: 'relative/x' } }), /^\/cgroup\/memory: /);
  bad(JSON.stringify({ ...good(), cgroup: { memory: '/sys/fs/cgroup/memory/../../etc' } }), /^\/cgroup\/memory: /);
  bad(JSON.stringify({ ...good(), cgroup: ['/x'] }), /^\/cgroup: /);
  bad(JSON.stringify({ ...good(), systemd: { unit: 'u', slice: 's', kind: 'service', cgroup: '/c' } }), /^\/systemd\/kind: /);
  bad(JSON.stringify({ ...good(), noNewKeyring: 'yes' }), /^\/noNewKeyring: /);
  const rm = (x: object) => JSON.stringify({ ...good(), rootfsMounts: { root: '/b/rootfs', before: [], ...x } });
  bad(JSON.stringify({ ...good(), rootfsMounts: [] }), /^\/rootfsMounts: must be an object/);
  bad(rm({ root: 'rootfs' }), /^\/rootfsMounts\/root: /);
  bad(rm({ before: ['1'] }), /^\/rootfsMounts\/before: /);
  bad(rm({ made: {} }), /^\/rootfsMounts\/made: must be an array/);
  bad(rm({ made: [{ id: -1, path: '/b/rootfs/proc' }] }), /^\/rootfsMounts\/made\/0\/id: /);
  // Never the rootfs itself, nor anything outside it.
  bad(rm({ made: [{ id: 4, path: '/b/rootfs' }] }), /^\/rootfsMounts\/made\/0\/path: must be a path below/);
  bad(rm({ made: [{ id: 4, path: '/proc' }] }), /^\/rootfsMounts\/made\/0\/path: must be a path below/);
  bad(rm({ made: [{ id: 4, path: '/b/rootfs/../../proc' }] }), /^\/rootfsMounts\/made\/0\/path: must be a path below/);
  bad(JSON.stringify({ ...good(), cgroupParents: '/sys/fs/cgroup/memory/hako' }), /^\/cgroupParents: must be an array/);
  bad(JSON.stringify({ ...good(), cgroupParents: ['hako'] }), /^\/cgroupParents\/0: must be an absolute path/);
  bad(JSON.stringify({ ...good(), cgroupParents: ['/sys/fs/cgroup/memory/hako/..'] }), /^\/cgroupParents\/0: must be an absolute path/);
  // Only the cgroup's own parents: never the cgroup itself, another tree, or a path beside it.
  bad(JSON.stringify({ ...good(), cgroupParents: ['/sys/fs/cgroup/memory/hako/box'] }), /^\/cgroupParents\/0: must be a parent/);
  bad(JSON.stringify({ ...good(), cgroupParents: ['/etc'] }), /^\/cgroupParents\/0: must be a parent/);
  bad(JSON.stringify({ ...good(), cgroupParents: ['/sys/fs/cgroup/memory/ha'] }), /^\/cgroupParents\/0: must be a parent/);
  bad(JSON.stringify({ ...good(), cgroup: undefined, cgroupParents: ['/sys/fs/cgroup/memory/hako'] }), /^\/cgroupParents\/0: must be a parent/);
});

test('writeAll: a short write is continued, a write that takes nothing fails', () => {
  const data = Buffer.from('0123456789');
  const got: string[] = [];
  writeAll(3, data, (_fd, b, off, len) => {
    const n = Math.min(3, len);
    got.push(Buffer.from(b.subarray(off, off + n)).toString());
    return n;
  });
  assert.equal(got, ['012', '345', '678', '9']);
  let calls = 0;
  assert.throws(
    () =>
      writeAll(3, data, () => {
        calls++;
        return calls === 1 ? 4 : 0;
      }),
    (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOSPC' && /took 4 of 10 bytes/.test((e as Error).message),
  );
  // ENOSPC (or any error) from the write itself goes straight up.
  assert.throws(
    () =>
      writeAll(3, data, () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }),
    /ENOSPC/,
  );
  writeAll(3, Buffer.alloc(0), () => {
    assert.unreachable('nothing to write');
    return 0;
  });
});

test('work directory names say whose they are; container ids never look like one', () => {
  assert.equal(parseWorkName('.tmp-123-4567-0a1b2c3d'), { pid: 123, startTime: '4567' });
  assert.equal(parseWorkName('.tmp-123--0a1b2c3d'), { pid: 123, startTime: '' });
  for (const n of ['tmp-1-2-ab', '.tmp-1-2-', '.tmp-x-2-ab', '.tmp-1-2-ab/..', 'box', '.tmp-1-2-AB']) assert.is(parseWorkName(n), null, n);
});

test.run();
