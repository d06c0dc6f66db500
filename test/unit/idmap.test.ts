import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPlan, PlanError } from '../../src/launch/plan.js';
import { parseMountOptions } from '../../src/launch/mount-options.js';
import { T } from '../../src/launch/plan-tags.js';
import { MS } from '../../src/launch/linux-consts.js';
import type { Rec } from '../../src/launch/tlv.js';
import { features } from '../../src/features.js';

function spec(edit?: (c: any) => void): any {
  const c: any = {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { args: ['sh'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
    mounts: [],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] },
  };
  edit?.(c);
  return c;
}
const opts = { id: 'x', bundle: '/b', fifoPath: '/run/hako/x/exec.fifo' };
const all = (rs: Rec[], tag: number) => rs.filter((r) => r.tag === tag);
const one = (rs: Rec[], tag: number) => rs.find((r) => r.tag === tag)?.value;
const maps = (containerID: number, hostID: number, size: number) => ({
  uidMappings: [{ containerID, hostID, size }],
  gidMappings: [{ containerID, hostID, size }],
});
const userns = (c: any) => {
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: 200000, size: 1000 }];
};

/** The M_IDMAP fields of the only MOUNT, or undefined. */
function idmapOf(c: any): Rec[] | undefined {
  const m = all(buildPlan(c, opts).records, T.MOUNT);
  assert.is(m.length, 1);
  return one(m[0]!.value as Rec[], T.M_IDMAP) as Rec[] | undefined;
}
const lines = (f: Rec[], tag: number) =>
  all(f, tag).map((l) => {
    const v = l.value as Rec[];
    return [one(v, T.IDM_CONTAINER), one(v, T.IDM_HOST), one(v, T.IDM_SIZE)];
  });
const planError = (c: any, pointer: string, text: RegExp) => {
  try {
    buildPlan(c, opts);
  } catch (e) {
    assert.instance(e, PlanError);
    assert.is((e as PlanError).pointer, pointer, String(e));
    assert.match(String((e as Error).message), text);
    return;
  }
  assert.unreachable('no PlanError');
};

test('mount options: idmap and ridmap', () => {
  assert.is(parseMountOptions(['bind']).idmap, false);
  const i = parseMountOptions(['rbind', 'idmap']);
  assert.is(i.idmap, true);
  assert.is(i.ridmap, false);
  assert.is(i.flags, MS.BIND | MS.REC);
  assert.equal(i.data, [], 'never passed to mount(2) as data');
  const r = parseMountOptions(['bind', 'ridmap']);
  assert.is(r.idmap, true);
  assert.is(r.ridmap, true);
});

test("idmap with the mount's own maps: lines as given, not recursive", () => {
  const f = idmapOf(
    spec((c) =>
      c.mounts.push({
        destination: '/m',
        type: 'bind',
        source: '/srv',
        options: ['rbind', 'idmap'],
        uidMappings: [
          { containerID: 100, hostID: 1100, size: 3 },
          { containerID: 5000000, hostID: 3000, size: 1000 },
        ],
        gidMappings: [{ containerID: 200, hostID: 1900, size: 50 }],
      }),
    ),
  );
  assert.ok(f);
  assert.is(one(f, T.IDM_RECURSIVE), undefined);
  assert.equal(lines(f, T.IDM_UID), [
    [100, 1100, 3],
    [5000000, 3000, 1000],
  ]);
  assert.equal(lines(f, T.IDM_GID), [[200, 1900, 50]]);
  assert.is(one(f, T.IDM_USERNS), undefined);
});

test('ridmap is recursive; the bind keeps its own flags', () => {
  const c = spec((c) => c.mounts.push({ destination: '/m', source: 'vol', options: ['rbind', 'ridmap', 'ro'], ...maps(0, 1000, 1) }));
  const m = all(buildPlan(c, opts).records, T.MOUNT)[0]!.value as Rec[];
  assert.is(one(m, T.M_SOURCE), '/b/vol');
  assert.is(one(m, T.M_FLAGS), MS.BIND | MS.REC);
  assert.is(one(m, T.M_REMOUNT_FLAGS), MS.RDONLY);
  assert.is(one(one(m, T.M_IDMAP) as Rec[], T.IDM_RECURSIVE), true);
});

test('uidMappings without idmap/ridmap still idmap the mount, as in runc', () => {
  const f = idmapOf(spec((c) => c.mounts.push({ destination: '/m', type: 'bind', source: '/srv', options: ['bind'], ...maps(1000, 0, 1) })));
  assert.ok(f);
  assert.equal(lines(f, T.IDM_UID), [[1000, 0, 1]]);
});

test('a plain bind mount has no M_IDMAP', () => {
  assert.is(idmapOf(spec((c) => c.mounts.push({ destination: '/m', type: 'bind', source: '/srv', options: ['rbind'] }))), undefined);
  assert.is(
    idmapOf(spec((c) => c.mounts.push({ destination: '/m', type: 'bind', source: '/srv', options: ['rbind'], uidMappings: [], gidMappings: [] }))),
    undefined,
  );
});

test("idmap without maps takes the new user namespace's maps", () => {
  const f = idmapOf(
    spec((c) => {
      userns(c);
      c.mounts.push({ destination: '/m', type: 'bind', source: '/srv', options: ['bind', 'idmap'] });
    }),
  );
  assert.ok(f);
  assert.equal(lines(f, T.IDM_UID), [[0, 100000, 65536]]);
  assert.equal(lines(f, T.IDM_GID), [[0, 200000, 1000]]);
});

test("the mount's own maps win over the container's", () => {
  const f = idmapOf(
    spec((c) => {
      userns(c);
      c.mounts.push({ destination: '/m', type: 'bind', source: '/srv', options: ['bind', 'idmap'], ...maps(0, 100000, 10) });
    }),
  );
  assert.equal(lines(f!, T.IDM_UID), [[0, 100000, 10]]);
});

test('idmap without maps in a joined user namespace: that namespace', () => {
  const f = idmapOf(
    spec((c) => {
      c.linux.namespaces.push({ type: 'user', path: '/proc/42/ns/user' });
      c.mounts.push({ destination: '/m', type: 'bind', source: '/srv', options: ['bind', 'ridmap'] });
    }),
  );
  assert.ok(f);
  assert.is(one(f, T.IDM_USERNS), '/proc/42/ns/user');
  assert.is(all(f, T.IDM_UID).length, 0);
});

test('errors name the JSON path', () => {
  planError(
    spec((c) => c.mounts.push({ destination: '/m', type: 'bind', source: '/srv', options: ['bind', 'idmap'] })),
    '/mounts/0/options/1',
    /idmap needs uidMappings and gidMappings on the mount, or a user namespace/,
  );
  planError(
    spec((c) => c.mounts.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'ridmap'], ...maps(0, 1, 1) })),
    '/mounts/0/options/1',
    /only supported for bind mounts/,
  );
  planError(
    spec((c) => c.mounts.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', ...maps(0, 1, 1) })),
    '/mounts/0/uidMappings',
    /only supported for bind mounts/,
  );
  planError(
    spec((c) =>
      c.mounts.push({
        destination: '/m',
        type: 'bind',
        source: '/srv',
        options: ['bind', 'idmap'],
        uidMappings: [{ containerID: 0, hostID: 1, size: 1 }],
        gidMappings: [],
      }),
    ),
    '/mounts/0/gidMappings',
    /along with uidMappings/,
  );
  planError(
    spec((c) => c.mounts.push({ destination: '/m', type: 'bind', source: '/srv', options: ['bind', 'idmap'], ...maps(0, 1, 0) })),
    '/mounts/0/uidMappings/0/size',
    /must not be 0/,
  );
  planError(
    spec((c) => c.mounts.push({ destination: '/m', type: 'bind', source: '/srv', options: ['bind', 'idmap'], ...maps(4294967000, 1, 1000) })),
    '/mounts/0/uidMappings/0',
    /past 4294967295/,
  );
  const many = Array.from({ length: 341 }, (_, i) => ({ containerID: i, hostID: 1000 + i, size: 1 }));
  planError(
    spec((c) => c.mounts.push({ destination: '/m', type: 'bind', source: '/srv', options: ['bind', 'idmap'], uidMappings: many, gidMappings: many })),
    '/mounts/0/uidMappings',
    /at most 340/,
  );
});

test('features: idmap enabled, idmap and ridmap among the mount options', () => {
  const f = features();
  assert.is(f.linux?.mountExtensions?.idmap?.enabled, true);
  assert.ok(f.mountOptions?.includes('idmap'));
  assert.ok(f.mountOptions?.includes('ridmap'));
});

test.run();
