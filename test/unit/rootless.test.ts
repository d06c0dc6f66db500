// Rootless decisions without root: runc's detection and state-root rules,
// who writes the user namespace maps, the config checks of an unprivileged
// runtime, and which cgroups a user without delegation gets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultRoot, honorXdgRuntimeDir, ownerName, rootlessCgroups, uidMapIsInitial, type Identity } from '../../src/container/rootless-identity.js';
import { helperArgs, mapText, rootlessChecks, userMapsPlan } from '../../src/launch/rootless-checks.js';
import { buildPlan, PlanError } from '../../src/launch/plan.js';
import { buildExecPlan } from '../../src/launch/exec-plan.js';
import { T } from '../../src/launch/plan-tags.js';
import { CgroupError } from '../../src/cgroups/cgroup-error.js';
import { layoutOf, parseMountinfo, parseProcCgroup } from '../../src/cgroups/host.js';
import { newManager } from '../../src/cgroups/manager.js';
import { resolveCgroupPath } from '../../src/cgroups/path.js';
import { mayUse, requestedLimits, rootlessCgroup } from '../../src/cgroups/rootless-cgroups.js';
import { findHelper } from '../../src/container/usermaps.js';

const user: Identity = { euid: 1000, egid: 1000, inUserns: false };
const root: Identity = { euid: 0, egid: 0, inUserns: false };
const nsRoot: Identity = { euid: 0, egid: 0, inUserns: true };

// --- detection and defaults (runc's rootless_linux.go) -----------------------

test('the initial user namespace is the one mapping everything onto itself', () => {
  assert.ok(uidMapIsInitial('         0          0 4294967295\n'));
  assert.not.ok(uidMapIsInitial('         0       1000          1\n'));
  assert.not.ok(uidMapIsInitial('0 1000 1\n1 100000 65536\n'));
  assert.not.ok(uidMapIsInitial(''));
});

test('--rootless: an explicit value wins; auto is euid != 0, or root of a user namespace', () => {
  assert.is(rootlessCgroups(true, root), true);
  assert.is(rootlessCgroups(false, user), false);
  assert.is(rootlessCgroups(undefined, user), true);
  assert.is(rootlessCgroups(undefined, root), false);
  assert.is(rootlessCgroups(undefined, nsRoot), true);
});

test('state root: $XDG_RUNTIME_DIR/hako for a user; root keeps /run/hako; USER=root in a user namespace too', () => {
  const xdg = { XDG_RUNTIME_DIR: '/run/user/1000' };
  assert.equal(defaultRoot(xdg, user, '/run/hako'), { root: '/run/user/1000/hako', xdg: true });
  assert.equal(defaultRoot({}, user, '/run/hako'), { root: '/run/hako', xdg: false });
  assert.equal(defaultRoot({ XDG_RUNTIME_DIR: '/run/user/0' }, root, '/run/hako'), { root: '/run/hako', xdg: false });
  assert.is(honorXdgRuntimeDir(xdg, nsRoot), true);
  assert.is(honorXdgRuntimeDir({ ...xdg, USER: 'root' }, nsRoot), false);
  assert.is(honorXdgRuntimeDir({ ...xdg, USER: 'alice' }, nsRoot), true);
  assert.is(honorXdgRuntimeDir({ XDG_RUNTIME_DIR: '' }, user), false);
});

test('list OWNER: the passwd name of the state directory owner, else #uid (runc)', () => {
  const passwd = 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n';
  assert.is(ownerName(0, passwd), 'root');
  assert.is(ownerName(1000, passwd), 'alice');
  assert.is(ownerName(4242, passwd), '#4242');
});

// --- user namespace maps --------------------------------------------------------

function spec(edit?: (c: any) => void): any {
  const c: any = {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { args: ['sh'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }],
      uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
    },
  };
  edit?.(c);
  return c;
}
const wide = [
  { containerID: 0, hostID: 1000, size: 1 },
  { containerID: 1, hostID: 100000, size: 65536 },
];

test("maps: the caller's own id alone is written by hako, with setgroups denied before gid_map", () => {
  assert.equal(userMapsPlan(spec(), user), { uid: 'kernel', gid: 'kernel', setgroupsDeny: true });
  // Any container id will do: the kernel checks the host side.
  assert.equal(
    userMapsPlan(
      spec((c) => (c.linux.uidMappings = [{ containerID: 1000, hostID: 1000, size: 1 }])),
      user,
    ).uid,
    'kernel',
  );
});

test('maps: anything more goes through newuidmap/newgidmap, and setgroups stays allowed', () => {
  assert.equal(
    userMapsPlan(
      spec((c) => {
        c.linux.uidMappings = wide;
        c.linux.gidMappings = wide;
      }),
      user,
    ),
    { uid: 'newuidmap', gid: 'newgidmap', setgroupsDeny: false },
  );
  // Someone else's id, or more than one id, is not ours to map.
  assert.is(
    userMapsPlan(
      spec((c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1001, size: 1 }])),
      user,
    ).uid,
    'newuidmap',
  );
  assert.equal(
    userMapsPlan(
      spec((c) => (c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 2 }])),
      user,
    ),
    { uid: 'kernel', gid: 'newgidmap', setgroupsDeny: false },
  );
});

test('maps: root (also root of a user namespace) writes any map itself, setgroups allowed', () => {
  const s = spec((c) => (c.linux.uidMappings = wide));
  assert.equal(userMapsPlan(s, root), { uid: 'kernel', gid: 'kernel', setgroupsDeny: false });
  assert.equal(userMapsPlan(s, nsRoot), { uid: 'kernel', gid: 'kernel', setgroupsDeny: false });
});

test('maps: the text for /proc/PID/uid_map and the helper arguments', () => {
  assert.is(mapText(wide), '0 1000 1\n1 100000 65536\n');
  assert.equal(helperArgs(42, wide), ['42', '0', '1000', '1', '1', '100000', '65536']);
});

test('findHelper looks through PATH like exec.LookPath, and only there', () => {
  assert.is(findHelper('sh', '/nonexistent:/bin'), '/bin/sh');
  assert.is(findHelper('sh', '/nonexistent'), undefined);
});

// --- config checks of rootless EUID -----------------------------------------------

function refuses(fn: () => unknown, pointer: string, reason: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, PlanError);
    assert.is((e as PlanError).pointer, pointer);
    assert.match((e as PlanError).reason, reason);
    return;
  }
  assert.unreachable(`expected a PlanError at ${pointer}`);
}

test('rootless: the container needs a user namespace (runc: "rootless container requires user namespaces")', () => {
  refuses(
    () =>
      rootlessChecks(
        spec((c) => (c.linux.namespaces = [{ type: 'mount' }])),
        1000,
        true,
      ),
    '/linux/namespaces',
    /uid 1000 \(rootless\).*user namespace/,
  );
  rootlessChecks(spec(), 1000, true);
  // A joined one will do.
  rootlessChecks(
    spec((c) => (c.linux.namespaces = [{ type: 'mount' }, { type: 'user', path: '/proc/1/ns/user' }])),
    1000,
    true,
  );
  // Mounts need a mount namespace the user owns.
  refuses(
    () =>
      rootlessChecks(
        spec((c) => (c.linux.namespaces = [{ type: 'user' }])),
        1000,
        true,
      ),
    '/linux/namespaces',
    /needs a mount namespace of its own/,
  );
  rootlessChecks(
    spec((c) => {
      c.linux.namespaces = [{ type: 'user' }];
      c.mounts = [];
    }),
    1000,
    true,
  );
});

test('rootless: additional gids only where setgroups(2) is allowed (a newgidmap map)', () => {
  const s = spec((c) => (c.process.user.additionalGids = [5]));
  refuses(() => rootlessChecks(s, 1000, true), '/process/user/additionalGids', /setgroups\(2\) is denied/);
  rootlessChecks(s, 1000, false);
});

test('rootless: no idmapped mounts (runc refuses them too); uid=/gid= options must be mapped', () => {
  refuses(
    () =>
      rootlessChecks(
        spec((c) => c.mounts.push({ destination: '/m', type: 'bind', source: '/s', options: ['rbind', 'idmap'] })),
        1000,
        true,
      ),
    '/mounts/1/options/1',
    /idmapped mounts are not supported for rootless containers/,
  );
  refuses(
    () =>
      rootlessChecks(
        spec((c) => c.mounts.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['mode=755', 'uid=5'] })),
        1000,
        true,
      ),
    '/mounts/1/options/1',
    /uid=5: uid 5 is not mapped in \/linux\/uidMappings/,
  );
  refuses(
    () =>
      rootlessChecks(
        spec((c) => c.mounts.push({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['newinstance', 'gid=5'] })),
        1000,
        true,
      ),
    '/mounts/1/options/1',
    /gid=5: gid 5 is not mapped/,
  );
  rootlessChecks(
    spec((c) => c.mounts.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['uid=0', 'gid=0'] })),
    1000,
    true,
  );
});

const planOpts = { id: 'x', bundle: '/b', fifoPath: '/run/user/1000/hako/x/exec.fifo' };

test('plan: rootless checks run for an unprivileged euid only; SETGROUPS_DENY reaches the init', () => {
  const noUserns = spec((c) => (c.linux.namespaces = [{ type: 'mount' }]));
  delete noUserns.linux.uidMappings;
  delete noUserns.linux.gidMappings;
  buildPlan(noUserns, planOpts);
  assert.throws(
    () => buildPlan(noUserns, { ...planOpts, rootlessEuid: 1000 }),
    (e: unknown) => e instanceof PlanError && e.pointer === '/linux/namespaces',
  );
  const p = buildPlan(spec(), { ...planOpts, rootlessEuid: 1000, setgroupsDeny: true });
  assert.ok(p.records.some((r) => r.tag === T.SETGROUPS_DENY && r.value === true));
  assert.not.ok(buildPlan(spec(), planOpts).records.some((r) => r.tag === T.SETGROUPS_DENY));
});

test('plan: RUNTIME_UNPRIVILEGED (the launcher re-execs inside the user namespace) for an unprivileged euid only', () => {
  assert.ok(buildPlan(spec(), { ...planOpts, rootlessEuid: 1000 }).records.some((r) => r.tag === T.RUNTIME_UNPRIVILEGED && r.value === true));
  assert.not.ok(buildPlan(spec(), planOpts).records.some((r) => r.tag === T.RUNTIME_UNPRIVILEGED));
});

test('exec plan: additional gids where setgroups is denied are an error, not silently dropped', () => {
  const s = spec();
  const proc = { args: ['id'], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [5] } };
  const o = { id: 'x', rootfs: '/r', joinNamespaces: 0, mountNamespace: true };
  assert.throws(
    () => buildExecPlan(s, proc, { ...o, setgroupsDeny: true }),
    (e: unknown) => e instanceof PlanError && e.pointer === '/process/user/additionalGids',
  );
  assert.ok(buildExecPlan(s, proc, o).records.some((r) => r.tag === T.ADDITIONAL_GID));
});

// --- rootless cgroups (runc's rootless cgroupfs manager) -----------------------------

const HYBRID_MOUNTINFO = [
  '30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate',
  '32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,xattr,name=systemd',
  '33 30 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory',
  '34 30 0:30 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,pids',
].join('\n');
const HYBRID_SELF =
  '4:pids:/user.slice\n3:memory:/user.slice\n1:name=systemd:/user.slice/user-1000.slice/session-1.scope\n0::/user.slice/user-1000.slice/session-1.scope\n';
const hybrid = layoutOf(parseMountinfo(HYBRID_MOUNTINFO), parseProcCgroup(HYBRID_SELF));
const V2_MOUNTINFO = '30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate';
const v2 = layoutOf(parseMountinfo(V2_MOUNTINFO), parseProcCgroup('0::/deleg/shell\n'));

/** A tree where `owned` (and everything below) is the user's and the rest root's. */
function tree(existing: string[], owned: string[]) {
  const present = (p: string) => existing.some((e) => e === p || e.startsWith(p + '/'));
  const access = (p: string) => owned.some((o) => p === o || p.startsWith(o + '/'));
  return { present, access };
}

test('requestedLimits: every set resource but device rules', () => {
  assert.equal(requestedLimits(undefined), []);
  assert.equal(requestedLimits({ devices: [{ allow: false, access: 'rwm' }] }), []);
  assert.equal(requestedLimits({ memory: {}, cpu: { shares: undefined } } as any), []);
  assert.equal(requestedLimits({ memory: { limit: 1 }, pids: { limit: 10 }, unified: { 'memory.high': '1' } }), [
    '/linux/resources/memory',
    '/linux/resources/pids',
    '/linux/resources/unified',
  ]);
});

test('mayUse: an existing cgroup and its cgroup.procs, else the deepest existing ancestor', () => {
  const t = tree(['/sys/fs/cgroup/deleg/shell'], ['/sys/fs/cgroup/deleg']);
  assert.equal(mayUse('/sys/fs/cgroup/deleg/c1', '/sys/fs/cgroup', t.access, t.present), { ok: true, checked: '/sys/fs/cgroup/deleg' });
  assert.equal(mayUse('/sys/fs/cgroup/other/c1', '/sys/fs/cgroup', t.access, t.present), { ok: false, checked: '/sys/fs/cgroup' });
  assert.equal(mayUse('/sys/fs/cgroup/deleg/shell', '/sys/fs/cgroup', t.access, t.present), { ok: true, checked: '/sys/fs/cgroup/deleg/shell/cgroup.procs' });
});

test('rootless cgroups, no delegation: no cgroup at all when nothing is asked of it', () => {
  const full = newManager(hybrid, resolveCgroupPath({ id: 'c1' }));
  const t = tree(['/sys/fs/cgroup/unified/user.slice', '/sys/fs/cgroup/memory/user.slice'], []);
  const c = rootlessCgroup(full, hybrid, { explicitPath: false, resources: { devices: [{ allow: false, access: 'rwm' }] }, ...t });
  assert.is(c.manager, null);
  assert.is(c.skipped.length, Object.keys(full.dirs).length);
});

test('rootless cgroups, no delegation: a limit or a cgroupsPath is an error naming what the user may not write', () => {
  const t = tree(['/sys/fs/cgroup/memory/user.slice'], []);
  const full = newManager(hybrid, resolveCgroupPath({ id: 'c1' }));
  try {
    rootlessCgroup(full, hybrid, { explicitPath: false, resources: { memory: { limit: 1 << 20 } }, ...t });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, CgroupError);
    assert.match(
      (e as Error).message,
      /^config\.json: \/linux\/resources\/memory: cannot be applied: hako runs rootless and may not write \/sys\/fs\/cgroup\/memory\/user\.slice \(nor 3 other cgroup directories\)/,
    );
  }
  const fixed = newManager(hybrid, resolveCgroupPath({ cgroupsPath: '/box/c1', id: 'c1' }));
  assert.throws(() => rootlessCgroup(fixed, hybrid, { explicitPath: true, ...t }), /\/linux\/cgroupsPath: cannot be used: hako runs rootless/);
});

test('rootless cgroups: a delegated v2 subtree is used as root would use it, limits and all', () => {
  const full = newManager(v2, resolveCgroupPath({ id: 'c1' }));
  assert.equal(full.dirs, { '': '/sys/fs/cgroup/deleg/c1' });
  const t = tree(['/sys/fs/cgroup/deleg/shell'], ['/sys/fs/cgroup/deleg']);
  const c = rootlessCgroup(full, v2, { explicitPath: false, resources: { memory: { limit: 1 << 20 } }, ...t });
  assert.is(c.manager, full);
  assert.equal(c.skipped, []);
});

test('rootless cgroups: the hierarchies a user owns are joined (no limits), the others skipped', () => {
  const full = newManager(hybrid, resolveCgroupPath({ id: 'c1' }));
  const own = '/sys/fs/cgroup/unified/user.slice/user-1000.slice/session-1.scope';
  const t = tree([own, '/sys/fs/cgroup/systemd/user.slice/user-1000.slice/session-1.scope', '/sys/fs/cgroup/memory/user.slice'], [own]);
  const c = rootlessCgroup(full, hybrid, { explicitPath: false, ...t });
  assert.equal(c.manager?.dirs, { '': `${own}/c1` });
  assert.is(c.skipped.length, 3);
});

test.run();
