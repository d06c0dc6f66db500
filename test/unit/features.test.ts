// `hako features` against the code: every field is checked against what the
// code that implements it does, not against a second list.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CGROUP_FEATURES, features } from '../../src/features.js';
import { validateFeatures, validateSpec } from '../../src/spec/load.js';
import { HOOK_KINDS, HOOK_STATUS } from '../../src/hooks/kinds.js';
import { parseMountOptions } from '../../src/launch/mount-options.js';
import { MS } from '../../src/launch/linux-consts.js';
import { buildPlan, capMask, NS_FLAGS, PlanError } from '../../src/launch/plan.js';
import { memoryPolicyRecs } from '../../src/launch/sched.js';
import { v1Writes } from '../../src/cgroups/v1-resources.js';
import { v2Writes } from '../../src/cgroups/v2-resources.js';
import { SystemdManager, systemdBooted } from '../../src/cgroups/systemd.js';
import { plannedCgroup } from '../../src/container/cgroup.js';
import { OCI_VERSION, OCI_VERSION_MIN, checkOciVersion } from '../../src/spec/version.js';
import { resourceProperties, PROPERTY_ANNOTATION } from '../../src/cgroups/systemd-props.js';

const f = features();
const linux = f.linux!;

function spec(edit?: (c: any) => void): any {
  const c: any = {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { args: ['sh'], cwd: '/', user: { uid: 0, gid: 0 } },
    linux: { namespaces: [{ type: 'mount' }] },
  };
  edit?.(c);
  return c;
}
const planOpts = { id: 'x', bundle: '/b', fifoPath: '/run/hako/x/exec.fifo', exists: () => true };

test('features is a valid features document', () => {
  validateFeatures(f);
});

test('versions: the range checkOciVersion accepts', () => {
  assert.is(f.ociVersionMin, OCI_VERSION_MIN);
  assert.is(f.ociVersionMax, OCI_VERSION);
  checkOciVersion(f.ociVersionMin, 'config.json');
  checkOciVersion(f.ociVersionMax, 'config.json');
});

test('hooks: every kind hako runs, each with its status', () => {
  assert.equal(f.hooks, [...HOOK_KINDS]);
  // The decision and its reasons: src/hooks/kinds.ts (runc's statuses).
  assert.equal(HOOK_STATUS, {
    prestart: 'creating',
    createRuntime: 'creating',
    createContainer: 'creating',
    startContainer: 'created',
    poststart: 'running',
    poststop: 'stopped',
  });
});

test('mount options: each one is understood (none is passed on as filesystem data), acl and noacl among them', () => {
  for (const o of f.mountOptions!) assert.equal(parseMountOptions([o]).data, [], o);
  assert.ok(f.mountOptions!.includes('acl'));
  assert.ok(f.mountOptions!.includes('noacl'));
  assert.is(parseMountOptions(['acl']).flags, MS.POSIXACL);
  assert.is(parseMountOptions(['acl', 'noacl']).cleared, MS.POSIXACL);
});

test('namespaces: those the plan creates, each valid in config.json', () => {
  assert.equal(linux.namespaces, Object.keys(NS_FLAGS));
  for (const t of linux.namespaces!) {
    const s = validateSpec(spec((c) => (c.linux.namespaces = [{ type: t }])));
    assert.ok(NS_FLAGS[s.linux!.namespaces![0]!.type], t);
  }
});

test('capabilities: every one is known to the plan (none is warned about as unknown)', () => {
  const warnings: string[] = [];
  capMask(linux.capabilities!, '/process/capabilities/bounding', warnings, 63);
  assert.equal(warnings, []);
  assert.ok(linux.capabilities!.includes('CAP_CHECKPOINT_RESTORE'));
});

test('cgroup: v1, v2 and rdma translations exist; systemd driver present; systemdUser refused', () => {
  assert.equal(linux.cgroup, { ...CGROUP_FEATURES });
  const limit = { memory: { limit: 1 << 26 } };
  assert.is(linux.cgroup!.v1, v1Writes(limit).writes.length > 0);
  assert.is(linux.cgroup!.v2, v2Writes(limit).writes.length > 0);
  const rdma = { rdma: { mlx5_0: { hcaHandles: 3 } } };
  const hasRdma = (w: { file: string }[]) => w.some((x) => x.file === 'rdma.max');
  assert.is(linux.cgroup!.rdma, hasRdma(v1Writes(rdma).writes) && hasRdma(v2Writes(rdma).writes));
  assert.is(linux.cgroup!.systemd, typeof SystemdManager === 'function' && resourceProperties(limit, 'v2').length > 0);
  if (systemdBooted()) {
    assert.throws(() => plannedCgroup(spec(), 'x', { systemd: true, rootless: true }), /rootless/);
    assert.is(linux.cgroup!.systemdUser, false);
  }
});

test('seccomp: asked of libseccomp and the kernel; every action and operator one config.json may name', () => {
  const s = linux.seccomp!;
  if (!s.enabled) return;
  for (const a of s.actions!) validateSpec(spec((c) => (c.linux.seccomp = { defaultAction: a === 'SCMP_ACT_NOTIFY' ? 'SCMP_ACT_ALLOW' : a })));
  for (const op of s.operators!)
    validateSpec(
      spec(
        (c) =>
          (c.linux.seccomp = {
            defaultAction: 'SCMP_ACT_ALLOW',
            syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op }] }],
          }),
      ),
    );
  for (const fl of s.supportedFlags!) assert.ok(s.knownFlags!.includes(fl), fl);
});

test('intelRdt and netDevices: disabled exactly when the plan refuses them', () => {
  const refused = (edit: (c: any) => void) => {
    try {
      buildPlan(spec(edit), planOpts);
      return false;
    } catch (e) {
      return e instanceof PlanError && /not supported/.test(e.message);
    }
  };
  assert.is(linux.intelRdt!.enabled, !refused((c) => (c.linux.intelRdt = { closID: 'x' })));
  assert.is(linux.netDevices!.enabled, !refused((c) => (c.linux.netDevices = { eth9: {} })));
});

test('idmap mounts and memory policies: what the plan takes', () => {
  assert.is(linux.mountExtensions!.idmap!.enabled, parseMountOptions(['idmap']).idmap);
  for (const mode of linux.memoryPolicy!.modes!) {
    const nodes = mode === 'MPOL_DEFAULT' || mode === 'MPOL_LOCAL' ? undefined : '0';
    assert.ok(memoryPolicyRecs({ mode, nodes }).length > 0, mode);
  }
  for (const flag of linux.memoryPolicy!.flags!) memoryPolicyRecs({ mode: 'MPOL_BIND', nodes: '0', flags: [flag] });
});

test('potentially unsafe annotations: the systemd property prefix, which create reads', () => {
  assert.equal(f.potentiallyUnsafeConfigAnnotations, [PROPERTY_ANNOTATION]);
});

test.run();
