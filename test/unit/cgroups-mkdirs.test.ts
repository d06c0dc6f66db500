// mkdirs: the parents a create makes, and a parent that another (failed)
// create removes under it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { mkdirs, undoMkdirs } from '../../src/cgroups/common.js';
import type { CgroupFs } from '../../src/cgroups/fs.js';

const enoent = (p: string) => Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });

function tree(onMkdir?: (d: string, dirs: Set<string>) => void): CgroupFs & { dirs: Set<string> } {
  const dirs = new Set(['/cg']);
  return {
    dirs,
    read: () => '',
    write: () => {},
    exists: (p) => dirs.has(p),
    mkdir(d) {
      onMkdir?.(d, dirs);
      if (!dirs.has(path.dirname(d))) throw enoent(d);
      if (dirs.has(d)) return false;
      dirs.add(d);
      return true;
    },
    rmdir(d) {
      if ([...dirs].some((x) => path.dirname(x) === d)) throw Object.assign(new Error('EBUSY'), { code: 'EBUSY' });
      dirs.delete(d);
    },
    subdirs: (d) => [...dirs].filter((x) => path.dirname(x) === d).map((x) => path.basename(x)),
  };
}

test('mkdirs returns what it made, outermost first; undoMkdirs removes exactly that', () => {
  const fs = tree();
  fs.dirs.add('/cg/a');
  assert.equal(mkdirs(fs, '/cg', '/cg/a/b/c'), ['/cg/a/b', '/cg/a/b/c']);
  undoMkdirs(fs, ['/cg/a/b', '/cg/a/b/c']);
  assert.equal([...fs.dirs].sort(), ['/cg', '/cg/a'], 'the parent that was there stays');
});

test('a parent removed between two mkdirs (a concurrent failed create): made again', () => {
  let once = true;
  const fs = tree((d, dirs) => {
    if (once && d === '/cg/p/leaf') {
      once = false;
      dirs.delete('/cg/p');
    }
  });
  assert.equal(mkdirs(fs, '/cg', '/cg/p/leaf'), ['/cg/p', '/cg/p/leaf']);
  assert.ok(fs.dirs.has('/cg/p/leaf'));
});

test('a parent that keeps vanishing: the error after a few tries', () => {
  const fs = tree((d, dirs) => {
    if (d === '/cg/p/leaf') dirs.delete('/cg/p');
  });
  assert.throws(() => mkdirs(fs, '/cg', '/cg/p/leaf'), /cannot create cgroup \/cg\/p\/leaf/);
});

test.run();
