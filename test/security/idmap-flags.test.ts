// An idmapped bind's flags cleared by the container's root. The launcher
// makes an idmapped bind's tree as host root (only it may idmap the
// source's filesystem): a clone in the host's mount namespace, which the
// container's init attached. The kernel locks a mount's flags (read-only,
// nosuid, nodev, noexec, atime: MNT_LOCK_*) only when a mount namespace is
// copied into a less privileged user namespace; that tree never was, so
// root of the container's user namespace (CAP_SYS_ADMIN there) could clear
// read-only with `mount -o remount,bind,rw` or mount_setattr, and write the
// host's files: through the idmap they are its own. That undid both the
// config's "ro" and a read-only (nosuid, nodev) host mount the source is
// on; the init's own "remount" also cleared the host's nosuid and nodev.
// hako now attaches the idmapped trees in the launcher's staging mount
// namespace, with the lockable flags the config asks for, before the
// init's mount namespace is copied from it into the container's user
// namespace (addon/launcher/bindsrc.c): every one of them is locked.
// Canaries: host directories bound idmapped into a user namespace
// container, the container's root given CAP_SYS_ADMIN.
// Control: idmap-attacks.c does what the launcher and the init did (clone
// and idmap in the host's namespaces, read-only; attached by a child in a
// new user and mount namespace), and the same attack clears every flag and
// writes the canary through a read-only, nosuid, nodev host bind.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Env, REPO, uniqueId } from '../helpers.js';
import { Canary } from './lib.js';

const t = suite('idmapped bind flags');
let env: Env;
let tool: string;
const hostMounts: string[] = [];
t.before(() => {
  env = new Env();
  tool = path.join(env.dir, 'idmap-attacks');
  const r = spawnSync('cc', ['-static', '-O2', '-Wall', '-o', tool, path.join(REPO, 'test/security/idmap-attacks.c')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc -static idmap-attacks.c: ${r.stderr || r.error}`);
});
t.after(() => {
  for (const m of hostMounts.reverse()) spawnSync('umount', ['-l', m]);
  env.cleanup();
});

const MAP = [{ containerID: 0, hostID: 100000, size: 65536 }];
const SYS_ADMIN = ['CAP_SYS_ADMIN'];

/** A bind of `dir` on the host with `flags` (remount,bind,<flags>), unmounted after the suite. */
function hostBind(dir: string, flags: string): string {
  const at = path.join(env.dir, uniqueId('hostbind'));
  mkdirSync(at, { mode: 0o755 });
  for (const args of [
    ['--bind', dir, at],
    ['-o', `remount,bind,${flags}`, at],
  ]) {
    const r = spawnSync('mount', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mount ${args.join(' ')}: ${r.stderr}`);
    if (args[0] === '--bind') hostMounts.push(at);
  }
  return at;
}

/**
 * The attack's lines from inside a user namespace container with
 * CAP_SYS_ADMIN, `mount` on /m; the user namespace new with MAP, or the one
 * of `joinPid`.
 */
function attackInContainer(mount: any, joinPid?: number): string {
  const b = env.bundle((c) => {
    c.process.args = ['/idmap-attacks', 'attack', '/m', 'secret'];
    if (joinPid) {
      c.linux.namespaces.push({ type: 'user', path: `/proc/${joinPid}/ns/user` });
    } else {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = MAP;
      c.linux.gidMappings = MAP;
    }
    for (const k of ['bounding', 'effective', 'permitted']) c.process.capabilities[k].push(...SYS_ADMIN);
    c.mounts.push({ destination: '/m', type: 'bind', ...mount });
  });
  mkdirSync(path.join(b, 'rootfs/m')); // the rootfs is host root's: the container's root cannot make it
  copyFileSync(tool, path.join(b, 'rootfs/idmap-attacks'));
  chmodSync(path.join(b, 'rootfs/idmap-attacks'), 0o755);
  const r = env.hako(['run', '--bundle', b, uniqueId('c')]);
  assert.is(r.status, 0, r.stderr);
  return r.stdout;
}

/** The defence: the flags are there, nothing cleared one, nothing was written. */
function held(out: string, canary: Canary, what: string): void {
  assert.match(out, /^flags ro nosuid nodev$/m, `${what}: the mount lacks a flag\n${out}`);
  assert.equal(
    out.split('\n').filter((l) => / ok$/.test(l)),
    [],
    `${what}: a flag was cleared\n${out}`,
  );
  assert.match(out, /^write EROFS$/m, `${what}\n${out}`);
  assert.ok(canary.intact(), `${what}: the canary was written`);
}

t("control: a tree idmapped in the host's namespaces and attached in the container's is not locked: every flag cleared, the canary written", () => {
  const canary = new Canary(env, 'control');
  const src = hostBind(canary.dir, 'ro,nosuid,nodev');
  const dir = path.join(env.dir, uniqueId('control-mp'));
  mkdirSync(dir, { mode: 0o755 });
  const r = spawnSync(tool, ['control', src, dir, 'secret'], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'flags ro nosuid nodev\nsetattr-rw ok\nsetattr-suid ok\nsetattr-dev ok\nremount-rw ok\nwrite ok\n');
  assert.not.ok(canary.intact(), 'the control did not write the canary');
  console.log(`  idmap-flags control:\n${r.stdout.replace(/^/gm, '    ')}`);
});

t('"ro", "nosuid", "nodev" asked with idmap (the container\'s maps): locked', () => {
  const canary = new Canary(env, 'idmap');
  const out = attackInContainer({ source: canary.dir, options: ['rbind', 'ro', 'nosuid', 'nodev', 'idmap'] });
  held(out, canary, 'idmap');
  console.log(`  idmap-flags hako:\n${out.replace(/^/gm, '    ')}`);
});

t('"ro", "nosuid", "nodev" asked with the mount\'s own uidMappings/gidMappings: locked', () => {
  const canary = new Canary(env, 'mappings');
  const out = attackInContainer({ source: canary.dir, options: ['rbind', 'ro', 'nosuid', 'nodev'], uidMappings: MAP, gidMappings: MAP });
  held(out, canary, 'uidMappings');
});

t("a read-only, nosuid, nodev host bind as the source, nothing asked: the host's flags kept and locked", () => {
  const canary = new Canary(env, 'host-ro');
  const out = attackInContainer({ source: hostBind(canary.dir, 'ro,nosuid,nodev'), options: ['rbind', 'idmap'] });
  held(out, canary, 'host read-only bind');
});

t('a nosuid, nodev host bind, "ro" asked: the host\'s nosuid and nodev kept too, all locked', () => {
  const canary = new Canary(env, 'host-nosuid');
  const out = attackInContainer({ source: hostBind(canary.dir, 'nosuid,nodev'), options: ['rbind', 'ro', 'idmap'] });
  held(out, canary, 'host nosuid bind');
});

t('a read-only host bind, "rw" asked: stays read-only', () => {
  const canary = new Canary(env, 'host-ro-rw');
  const out = attackInContainer({ source: hostBind(canary.dir, 'ro,nosuid,nodev'), options: ['rbind', 'rw', 'idmap'] });
  held(out, canary, 'host read-only bind, rw asked');
});

t('a joined user namespace: locked too', async () => {
  const canary = new Canary(env, 'joined');
  const holder = spawn(tool, ['userns'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const pid = await new Promise<number>((resolve, reject) => {
      let out = '';
      holder.stdout!.on('data', (d) => {
        out += d;
        const m = /^userns (\d+)$/m.exec(out);
        if (m) resolve(Number(m[1]));
      });
      holder.once('exit', (code) => reject(new Error(`idmap-attacks userns exited with ${code}`)));
    });
    const out = attackInContainer({ source: canary.dir, options: ['rbind', 'ro', 'nosuid', 'nodev'], uidMappings: MAP, gidMappings: MAP }, pid);
    held(out, canary, 'joined user namespace');
  } finally {
    holder.kill('SIGKILL'); // its child dies with it (PR_SET_PDEATHSIG)
  }
});

t.run();
