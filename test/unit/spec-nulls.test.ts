// JSON null for optional members, as Go programs marshal nil (src/spec/nulls.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateProcess, validateResources, validateSpec } from '../../src/spec/load.js';
import { SpecError } from '../../src/spec/spec-error.js';
import { dropOptionalNulls } from '../../src/spec/nulls.js';
import { buildPlan } from '../../src/launch/plan.js';
import { resolveSeccomp } from '../../src/seccomp/compile.js';
import { v1Writes } from '../../src/cgroups/v1-resources.js';
import { v2Writes } from '../../src/cgroups/v2-resources.js';

// A config as a Go program without omitempty would write it: the members
// it has are set, the ones it lacks are null.
function config(withNulls: boolean): any {
  const n = <T>(v: T) => (withNulls ? v : undefined);
  const c: any = {
    ociVersion: '1.2.0',
    root: { path: 'rootfs', readonly: n(null) },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: n(null), uidMappings: n(null), gidMappings: n(null) },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] },
    ],
    process: {
      terminal: false,
      consoleSize: n(null),
      user: { uid: 0, gid: 0, umask: n(null), additionalGids: n(null) },
      args: ['sh'],
      env: ['PATH=/bin'],
      cwd: '/',
      capabilities: { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], inheritable: n(null), permitted: ['CAP_CHOWN'], ambient: n(null) },
      rlimits: n(null),
      noNewPrivileges: true,
      apparmorProfile: n(null),
      oomScoreAdj: n(null),
      scheduler: n(null),
      selinuxLabel: n(null),
      ioPriority: n(null),
      execCPUAffinity: n(null),
    },
    hostname: 'box',
    hooks: { prestart: n(null), createRuntime: [{ path: '/bin/true', args: n(null), env: n(null), timeout: n(null) }], poststop: n(null) },
    annotations: n(null),
    linux: {
      namespaces: [{ type: 'pid', path: n(null) }, { type: 'mount' }, { type: 'uts' }],
      uidMappings: n(null),
      gidMappings: n(null),
      devices: n(null),
      sysctl: n(null),
      resources: {
        devices: n(null),
        memory: { limit: 1048576, reservation: n(null), swap: n(null), kernel: n(null), kernelTCP: n(null), swappiness: n(null), disableOOMKiller: n(null) },
        cpu: n(null),
        pids: { limit: 100 },
        blockIO: n(null),
        hugepageLimits: n(null),
        network: n(null),
        rdma: n(null),
        unified: n(null),
      },
      cgroupsPath: '/hako-nulls',
      intelRdt: n(null),
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: n(null),
        architectures: n(null),
        flags: n(null),
        listenerPath: n(null),
        syscalls: [
          // podman's seccomp.json format writes "args": null in most rules.
          { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: n(null), errnoRet: n(null) },
          { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ', valueTwo: n(null) }] },
        ],
      },
      rootfsPropagation: n(null),
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: n(null),
      mountLabel: n(null),
      personality: n(null),
    },
  };
  return JSON.parse(JSON.stringify(c));
}

const planOpts = { id: 'x', bundle: '/b', fifoPath: '/run/hako/x/exec.fifo', exists: () => true };

test('a config full of Go-style nulls validates to the config without them', () => {
  const plain = validateSpec(config(false));
  const nulls = validateSpec(config(true));
  assert.equal(nulls, plain);
  assert.not.ok(JSON.stringify(nulls).includes(':null'));
});

test('... and yields the same plan, cgroup writes and seccomp rules', () => {
  const plain = validateSpec(config(false));
  const nulls = validateSpec(config(true));
  const plan = (s: any) => {
    const p = buildPlan(s, planOpts);
    return JSON.stringify({ records: p.records, warnings: p.warnings }, (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? [...v] : v));
  };
  assert.is(plan(nulls), plan(plain));
  assert.equal(v1Writes(nulls.linux!.resources!), v1Writes(plain.linux!.resources!));
  assert.equal(v2Writes(nulls.linux!.resources!), v2Writes(plain.linux!.resources!));
  assert.equal(resolveSeccomp(nulls.linux!.seccomp!), resolveSeccomp(plain.linux!.seccomp!));
});

function refused(fn: () => unknown, path: string, detail: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, SpecError);
    assert.is((e as SpecError).path, path);
    assert.match((e as SpecError).detail, detail);
    return;
  }
  assert.unreachable(`accepted; expected an error at ${path}`);
}

test('a null where a member is required is refused, naming its path', () => {
  const at = (edit: (c: any) => void) => () => {
    const c = config(true);
    edit(c);
    return validateSpec(c);
  };
  refused(
    at((c) => (c.process.args = null)),
    '/process/args',
    /required and must not be null/,
  );
  refused(
    at((c) => (c.process.cwd = null)),
    '/process/cwd',
    /required and must not be null/,
  );
  refused(
    at((c) => (c.ociVersion = null)),
    '/ociVersion',
    /required and must not be null/,
  );
  refused(
    at((c) => (c.linux.seccomp.syscalls[0].names = null)),
    '/linux/seccomp/syscalls/0/names',
    /required and must not be null/,
  );
  refused(
    at((c) => (c.linux.seccomp.syscalls[1].args[0].op = null)),
    '/linux/seccomp/syscalls/1/args/0/op',
    /required and must not be null/,
  );
  refused(
    at((c) => (c.linux.resources.devices = [{ allow: null, access: 'rwm' }])),
    '/linux/resources/devices/0/allow',
    /required and must not be null/,
  );
  refused(
    at((c) => (c.mounts[1].destination = null)),
    '/mounts/1/destination',
    /required and must not be null/,
  );
  refused(
    at((c) => (c.linux.seccomp.defaultAction = null)),
    '/linux/seccomp/defaultAction',
    /required and must not be null/,
  );
  // A key with a ~ or / is escaped in the path.
  refused(
    at((c) => (c.linux.resources.rdma = { 'mlx/4': { hcaHandles: null } })),
    '/linux/resources/rdma/mlx~14',
    /must have hcaHandles or hcaObjects/,
  );
});

test('nulls that are not optional members stay errors for the schema', () => {
  const at = (edit: (c: any) => void) => () => {
    const c = config(true);
    edit(c);
    return validateSpec(c);
  };
  // An array element or a map value is not an absent member.
  refused(
    at((c) => (c.mounts[0] = null)),
    '/mounts/0',
    /must be an object/,
  );
  refused(
    at((c) => (c.process.env = ['A=1', null])),
    '/process/env/1',
    /must be a string/,
  );
  refused(
    at((c) => (c.annotations = { a: null })),
    '/annotations/a',
    /must be a string/,
  );
  // Present values are checked as before.
  refused(
    at((c) => (c.linux.resources.memory.limit = 'lots')),
    '/linux/resources/memory/limit',
    /must be an integer/,
  );
  // root and process are optional in the schema (Windows) but needed here.
  refused(
    at((c) => (c.root = null)),
    '',
    /required property 'root'/,
  );
});

test('exec --process and update -r documents drop their nulls too', () => {
  const p = validateProcess({ args: ['ls'], cwd: '/', env: null, user: { uid: 1, gid: 1, additionalGids: null }, capabilities: null, rlimits: null });
  assert.equal(p, { args: ['ls'], cwd: '/', user: { uid: 1, gid: 1 } });
  refused(() => validateProcess({ args: null, cwd: '/' }), '/args', /required and must not be null/);
  const r = validateResources({ memory: { limit: 4096, swap: null }, cpu: null, devices: null, blockIO: { weight: null, throttleReadBpsDevice: null } });
  assert.equal(r, { memory: { limit: 4096 }, blockIO: {} });
});

test('dropOptionalNulls: refs, items and map values; other members untouched', () => {
  const defs = { Inner: { optional: ['x'], required: ['id'] } };
  const shape = { optional: ['list', 'map'], props: { list: { items: { ref: 'Inner' } }, map: { values: { ref: 'Inner' } } } };
  const doc: any = { list: [{ id: 1, x: null }], map: { a: { id: 2, x: null, unknown: null } }, extension: null };
  dropOptionalNulls(doc, shape, { defs }, 'f');
  assert.equal(doc, { list: [{ id: 1 }], map: { a: { id: 2, unknown: null } }, extension: null });
  const empty: any = { list: null, map: null };
  dropOptionalNulls(empty, shape, { defs }, 'f');
  assert.equal(empty, {});
  refused(() => dropOptionalNulls({ map: { 'a/b': { id: null } } }, shape, { defs }, 'f'), '/map/a~1b/id', /required and must not be null/);
});

test.run();
