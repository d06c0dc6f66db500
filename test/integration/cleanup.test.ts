// `delete` removes what `create` made (runtime.md's delete: "resources
// created during create MUST be removed"), where runc leaves things behind:
//  - the parent cgroups made for a nested cgroupsPath, in every hierarchy,
//    but never a parent that was there before or that another container
//    still uses;
//  - the mounts a container without a mount namespace made under its rootfs
//    in the host's mount table (proc, sys, dev, ... and the config's).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { readLayout } from '../../src/cgroups/host.js';
import { Env, isRoot, uniqueId } from '../helpers.js';

const t = suite('cleanup');
let env: Env;
t.before(() => {
  env = new Env();
});
const tops: string[] = [];
t.after(() => {
  env.cleanup();
  // A failed test's leftovers: innermost first, only what this run named.
  for (const top of tops) for (const d of everywhere(top)) rmTree(d);
});

/** Every cgroup mount point (those a container does not join just never have its directories). */
const mountpoints = readLayout().hierarchies.map((h) => h.mountpoint);

/** `rel` (a cgroupsPath) in every cgroup hierarchy. */
function everywhere(rel: string): string[] {
  return [...new Set(mountpoints)].map((m) => path.join(m, rel));
}

/** rmdir of a cgroup and the cgroups below it (empty ones: nothing runs in them any more). */
function rmTree(d: string): void {
  if (!existsSync(d)) return;
  for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rmTree(path.join(d, e.name));
  try {
    rmdirSync(d);
  } catch {
    /* reported by the test that left it */
  }
}

const exists = (rel: string) => everywhere(rel).filter((d) => existsSync(d));

function create(id: string, cgroupsPath: string): void {
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    c.linux.cgroupsPath = cgroupsPath;
  });
  const r = env.hako(['create', '--bundle', b, id]);
  assert.is(r.status, 0, r.stderr);
}

function del(id: string): void {
  const r = env.hako(['delete', '--force', id]);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
}

t('delete removes the parents create made for a nested cgroupsPath, in every hierarchy', () => {
  if (!isRoot) return;
  const top = `/hako-test-nest-${process.pid}`;
  tops.push(top);
  const id = uniqueId('nest');
  create(id, `${top}/a/b/${id}`);
  const made = exists(`${top}/a/b/${id}`);
  assert.ok(made.length > 0, 'the cgroup exists');
  assert.equal(exists(top).length, made.length, 'its parents too, in the same hierarchies');
  del(id);
  for (const rel of [`${top}/a/b/${id}`, `${top}/a/b`, `${top}/a`, top]) assert.equal(exists(rel), [], `${rel} is gone`);
});

t('a parent that was there before stays, even when empty', () => {
  if (!isRoot) return;
  const top = `/hako-test-pre-${process.pid}`;
  tops.push(top);
  const mine = everywhere(top);
  for (const d of mine) mkdirSync(d);
  try {
    const id = uniqueId('pre');
    create(id, `${top}/x/${id}`);
    assert.ok(exists(`${top}/x/${id}`).length > 0, 'the cgroup exists');
    del(id);
    assert.equal(exists(`${top}/x`), [], 'the parent it made is gone');
    assert.equal(exists(top), mine, 'the one that was there stays');
  } finally {
    for (const d of mine) rmTree(d);
  }
});

t('a parent two containers share goes with the last of them', () => {
  if (!isRoot) return;
  const top = `/hako-test-shared-${process.pid}`;
  tops.push(top);
  const a = uniqueId('sa');
  const b = uniqueId('sb');
  create(a, `${top}/s/${a}`);
  create(b, `${top}/s/${b}`);
  const made = exists(`${top}/s`);
  assert.ok(made.length > 0);
  del(a);
  assert.equal(exists(`${top}/s`), made, 'still in use by the second container');
  assert.equal(exists(`${top}/s/${a}`), [], "the first one's cgroup is gone");
  del(b);
  assert.equal(exists(`${top}/s`), [], 'gone with the second');
  assert.equal(exists(top), []);
});

t('a failed create removes the parents it made, not those another container uses', () => {
  if (!isRoot) return;
  const top = `/hako-test-failnest-${process.pid}`;
  tops.push(top);
  const a = uniqueId('fa');
  create(a, `${top}/s/${a}`);
  const bad = env.bundle((c) => {
    c.process.args = ['/nonexistent'];
    c.linux.cgroupsPath = `${top}/s/deeper/leaf`;
  });
  assert.is(env.hako(['create', '--bundle', bad, uniqueId('fail')]).status, 1);
  assert.equal(exists(`${top}/s/deeper`), [], 'what it made is gone');
  assert.ok(exists(`${top}/s/${a}`).length > 0, "the other container's cgroup and its parents stay");
  del(a);
  assert.equal(exists(top), []);
});

/** A bundle whose container has no mount namespace (so its mounts go to ours). */
function noMountNs(edit?: (c: any) => void): { bundle: string; rootfs: string } {
  const bundle = env.bundle((c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: any) => n.type !== 'mount');
    // Impossible without a mount namespace (refused after the mounts).
    c.root.readonly = false;
    edit?.(c);
  });
  return { bundle, rootfs: path.join(bundle, 'rootfs') };
}

/** Our mount table's mount points below `rootfs`. */
const mountsBelow = (rootfs: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(`${rootfs}/`));

t('without a mount namespace, delete unmounts what create mounted below the rootfs', () => {
  if (!isRoot) return;
  const { bundle, rootfs } = noMountNs((c) => {
    c.process.args = ['sleep', '1000'];
    c.mounts.push({ destination: '/data/m', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
  });
  const id = uniqueId('nomnt');
  const r = env.hako(['create', '--bundle', bundle, id]);
  assert.is(r.status, 0, r.stderr);
  const made = mountsBelow(rootfs);
  for (const m of ['proc', 'dev', 'dev/pts', 'dev/shm', 'dev/mqueue', 'sys', 'data/m'])
    assert.ok(made.includes(path.join(rootfs, m)), `${m} is mounted in our table: ${made.join(', ')}`);
  del(id);
  assert.equal(mountsBelow(rootfs), [], 'none left');
});

t('without a mount namespace: run, and a directory above a mount renamed and replaced by a symlink', () => {
  if (!isRoot) return;
  // The container moves /data away and points /data at a host directory
  // holding a mount of ours (the decoy): the container's mount is now at
  // data2/m, and the path data/m, looked up on the host, leads to the
  // decoy. The mount is found by its id where it is and unmounted through
  // an fd opened beneath the rootfs without following symlinks.
  const decoy = path.join(env.dir, uniqueId('decoy'));
  mkdirSync(path.join(decoy, 'm'), { recursive: true });
  assert.is(spawnSync('mount', ['-t', 'tmpfs', 'decoy', path.join(decoy, 'm')]).status, 0);
  try {
    const { bundle, rootfs } = noMountNs((c) => {
      c.process.args = ['sh', '-c', `mv /data /data2 && ln -s ${decoy} /data && grep -c " /data2/m " /proc/self/mountinfo`];
      c.mounts.push({ destination: '/data/m', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
    });
    const r = env.hako(['run', '--bundle', bundle, uniqueId('nomntrun')]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '1\n', 'the mount moved with its directory');
    assert.equal(mountsBelow(rootfs), [], 'none left');
    assert.equal(mountsBelow(decoy), [path.join(decoy, 'm')], 'the decoy is still mounted');
  } finally {
    spawnSync('umount', [path.join(decoy, 'm')]);
  }
});

t('without a mount namespace, a create that fails after the mounts unmounts them', () => {
  if (!isRoot) return;
  const { bundle, rootfs } = noMountNs((c) => {
    c.process.args = ['sleep', '1000'];
    c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }] };
  });
  const id = uniqueId('nomntfail');
  const r = env.hako(['create', '--bundle', bundle, id]);
  assert.is(r.status, 1);
  assert.match(r.stderr, /createContainer/);
  assert.equal(mountsBelow(rootfs), [], 'none left');
  assert.not.ok(existsSync(path.join(env.root, id)), 'no state');
});

t.run();
