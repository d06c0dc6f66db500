// Idmapped bind mounts (idmap, ridmap, per-mount uidMappings/gidMappings),
// observed from inside the container with stat. Map lines mean what runc
// makes them mean: an id stored as containerID in the source filesystem is
// seen as hostID through the mount.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { chownSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Env, isRoot } from '../helpers.js';

const t = suite('idmap');
let env: Env;
const hostMounts: string[] = [];
t.before(() => {
  env = new Env();
});
t.after(() => {
  for (const m of hostMounts.reverse()) spawnSync('umount', ['-l', m]);
  env.cleanup();
});

const USERNS = (c: any) => {
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
};
const maps = (containerID: number, hostID: number, size: number) => ({
  uidMappings: [{ containerID, hostID, size }],
  gidMappings: [{ containerID, hostID, size }],
});
const overflow = () => readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim();

let n = 0;
/** A host directory holding `file` owned by uid:gid. */
function source(uid: number, gid = uid, file = 'f'): string {
  const d = path.join(env.dir, `src-${++n}`);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, file), 'x');
  chownSync(path.join(d, file), uid, gid);
  return d;
}

if (isRoot) {
  t("idmap with the mount's maps, no user namespace: a file of uid 1000 is root's inside", () => {
    const src = source(1000);
    const r = env.sh('stat -c %u:%g /m/f; grep " /m " /proc/self/mountinfo', (c) => {
      c.mounts.push({ destination: '/m', type: 'bind', source: src, options: ['bind', 'idmap'], ...maps(1000, 0, 1) });
    });
    assert.is(r.status, 0, r.stderr);
    const [owner, mi] = r.stdout.split('\n');
    assert.is(owner, '0:0');
    assert.match(mi!, /\bidmapped\b/);
  });

  t("the map is read source id → seen id (runc): root's file seen as 1000, others unmapped", () => {
    const src = source(0);
    writeFileSync(path.join(src, 'other'), 'y');
    chownSync(path.join(src, 'other'), 7, 7);
    const r = env.sh('stat -c %u:%g /m/f /m/other', (c) => {
      c.mounts.push({ destination: '/m', type: 'bind', source: src, options: ['bind', 'idmap'], ...maps(0, 1000, 1) });
    });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, `1000:1000\n${overflow()}:${overflow()}\n`);
  });

  t('uidMappings without idmap still idmap the mount (runc)', () => {
    const src = source(1000);
    const r = env.sh('stat -c %u /m/f', (c) => {
      c.mounts.push({ destination: '/m', type: 'bind', source: src, options: ['bind'], ...maps(1000, 0, 1) });
    });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '0\n');
  });

  t("user namespace container: a volume of host root idmapped with the mount's maps is the container root's, and writable", () => {
    const src = source(0);
    chownSync(src, 0, 0);
    const r = env.sh('stat -c %u:%g /tmp/vol/f; id -u; touch /tmp/vol/new && stat -c %u:%g /tmp/vol/new; echo ok > /tmp/vol/f && echo wrote', (c) => {
      USERNS(c);
      c.mounts.push({ destination: '/tmp/vol', type: 'bind', source: src, options: ['rbind', 'idmap'], ...maps(0, 100000, 65536) });
    });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '0:0\n0\n0:0\nwrote\n');
    // On the host the new file belongs to root: the mapping undoes the container's.
    assert.is(spawnSync('stat', ['-c', '%u:%g', path.join(src, 'new')], { encoding: 'utf8' }).stdout, '0:0\n');
  });

  t("user namespace container: idmap without maps of its own uses the container's maps", () => {
    const src = source(0);
    const r = env.sh('stat -c %u:%g /tmp/vol/f', (c) => {
      USERNS(c);
      c.mounts.push({ destination: '/tmp/vol', type: 'bind', source: src, options: ['bind', 'idmap'] });
    });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '0:0\n');
  });

  t('ridmap maps the submounts of an rbind, idmap only its top', () => {
    const top = source(1000);
    const sub = source(0, 0, 'g');
    mkdirSync(path.join(top, 'sub'));
    const r0 = spawnSync('mount', ['--bind', sub, path.join(top, 'sub')], { encoding: 'utf8' });
    assert.is(r0.status, 0, r0.stderr);
    hostMounts.push(path.join(top, 'sub'));
    const m = maps(0, 2000, 2000);
    const r = env.sh('stat -c %u /r/f /r/sub/g /i/f /i/sub/g', (c) => {
      c.mounts.push({ destination: '/r', type: 'bind', source: top, options: ['rbind', 'ridmap'], ...m });
      c.mounts.push({ destination: '/i', type: 'bind', source: top, options: ['rbind', 'idmap'], ...m });
    });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '3000\n2000\n3000\n0\n');
  });

  t('errors: idmap needs a bind, and maps or a user namespace; nothing is left behind', () => {
    const src = source(0);
    const b1 = env.bundle((c) => c.mounts.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['idmap'], ...maps(0, 1, 1) }));
    const r1 = env.hako(['run', '--bundle', b1, 'idmap-e1']);
    assert.is.not(r1.status, 0);
    assert.match(r1.stderr, /mounts\/\d+\/options\/0: idmapped mounts are only supported for bind mounts/);
    const b2 = env.bundle((c) => c.mounts.push({ destination: '/m', type: 'bind', source: src, options: ['bind', 'ridmap'] }));
    const r2 = env.hako(['run', '--bundle', b2, 'idmap-e2']);
    assert.is.not(r2.status, 0);
    assert.match(r2.stderr, /ridmap needs uidMappings and gidMappings on the mount, or a user namespace/);
    const l = env.hako(['list', '-q']);
    assert.is(l.stdout, '');
  });

  t("an unsupported source filesystem fails create with the kernel's answer", () => {
    // /proc does not support idmapped mounts.
    const r = env.sh('true', (c) => {
      c.mounts.push({ destination: '/m', type: 'bind', source: '/proc/sys', options: ['bind', 'idmap'], ...maps(0, 1, 1) });
    });
    assert.is.not(r.status, 0);
    assert.match(r.stderr, /idmapped mount \/proc\/sys onto \/m: set the idmapping/);
    assert.is(env.hako(['list', '-q']).stdout, '');
  });
}

t.run();
