// A read-only bind written through the launcher's staging tmpfs (found in
// hako). With a new user namespace the launcher stages every plain bind's
// source (and every idmapped tree) on a numbered entry of a tmpfs it
// mounts over the container's state directory, in the mount namespace the
// init's is copied from (addon/launcher/bindsrc.c). Each entry is a mount
// of its own there, and a plain one was a bare clone of the source: the
// host's flags, not the config's. A container given a recursive bind of an
// ancestor of its state directory ("/", "/run", --root's parent: a node
// agent's hostPath "/" read-only) gets those entries too, and "ro" on an
// rbind is its top mount's alone: <rbind>/<state>/<id>/N was the source,
// writable, while the container's own mount of it was read-only. Reachable
// wherever the state root lets the container's root walk: a user namespace
// mapping root to host root (CAP_DAC_OVERRIDE over root's 0700 --root), or
// a --root that others may search.
// hako now stages plain clones with the lockable flags their mount asks
// for added, as it always did for idmapped trees: locked by the copy into
// the user namespace, an entry is never more than the container's own
// mount of that source.
// Control: the same layout made by the host in a private mount namespace
// (a tmpfs over a state directory, a bare bind of the canary on entry 0, a
// read-only rbind of the ancestor): the canary is written through it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Env, uniqueId } from '../helpers.js';
import { Canary } from './lib.js';

const t = suite('staged-binds');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

/** Every entry the container can name under its staging directory, written through; one line each. */
function attackScript(stageDir: string): string {
  return [
    'echo x >> /m/secret 2>/dev/null && echo own-mount-written',
    `for n in $(seq 0 63); do f=${stageDir}/$n/secret; [ -e $f ] || continue; echo found $n; echo pwned >> $f 2>/dev/null && echo written $n; done`,
    'true',
  ].join('; ');
}

/**
 * The attack from inside a user namespace container (default capabilities):
 * /m is the canary bound read-only, /outer a read-only rbind of the test's
 * directory, which holds the state root.
 */
function attack(canary: Canary, hostRoot: number): string {
  const id = uniqueId('staged');
  const rel = path.relative(env.dir, env.root);
  const map = [{ containerID: 0, hostID: hostRoot, size: 65536 }];
  const b = env.bundle((c) => {
    c.process.args = ['sh', '-c', attackScript(path.join('/outer', rel, id))];
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = map;
    c.linux.gidMappings = map;
    c.mounts.push({ destination: '/m', type: 'bind', source: canary.dir, options: ['bind', 'ro'] });
    c.mounts.push({ destination: '/outer', type: 'bind', source: env.dir, options: ['rbind', 'ro'] });
  });
  // Mount points the container's root (nobody on the host) cannot make.
  for (const d of ['m', 'outer']) mkdirSync(path.join(b, 'rootfs', d));
  const r = env.hako(['run', '--bundle', b, id]);
  assert.is(r.status, 0, r.stderr);
  return r.stdout;
}

function held(out: string, canary: Canary, what: string): void {
  assert.not.match(out, /own-mount-written/, `${what}: the container's own read-only mount was written\n${out}`);
  // The entry was reached: the test attacked.
  assert.match(out, /^found \d+$/m, `${what}: no staged entry reached, nothing attacked\n${out}`);
  assert.not.match(out, /^written/m, `${what}: a staged entry was written\n${out}`);
  assert.ok(canary.intact(), `${what}: the canary was written`);
}

t('control: a bare clone on a tmpfs entry under a read-only rbind of its ancestor is writable', () => {
  const canary = new Canary(env, 'control');
  const top = path.join(env.dir, uniqueId('ctl'));
  const state = path.join(top, 'state', 'c1');
  const outer = path.join(env.dir, uniqueId('ctl-outer'));
  mkdirSync(state, { recursive: true });
  mkdirSync(outer);
  const script = [
    `mount -t tmpfs -o mode=0711 none ${state}`,
    `mkdir ${state}/0`,
    `mount --bind ${canary.dir} ${state}/0`,
    `mount --rbind ${top} ${outer}`,
    `mount -o remount,bind,ro ${outer}`,
    `echo pwned >> ${outer}/state/c1/0/secret && echo written`,
  ].join(' && ');
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'written\n');
  assert.not.ok(canary.intact(), 'the control did not write the canary');
});

t('root mapped to host root: the default 0700 --root is walked; the staged entry is read-only as the bind', () => {
  const canary = new Canary(env, 'root-mapped');
  const out = attack(canary, 0);
  held(out, canary, 'root mapped to host root');
});

t('root mapped elsewhere, a --root others may search: the staged entry is read-only as the bind', () => {
  const canary = new Canary(env, 'searchable');
  // The container's root owns the volume: only the mount's flags stand between it and the canary.
  for (const f of [canary.dir, canary.file]) chownSync(f, 100000, 100000);
  mkdirSync(env.root, { recursive: true, mode: 0o700 });
  chmodSync(env.root, 0o711);
  const out = attack(canary, 100000);
  held(out, canary, 'searchable --root');
});

t('nothing of the staging is left on the host', () => {
  assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(env.root));
  assert.equal(
    readdirSync(env.root).filter((n) => !n.startsWith('.')),
    [],
  );
});

t.run();
