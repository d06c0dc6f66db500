import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';

const test = skippable(uvuTest, 'spec');
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpec, parseSpec, readJsonFile, validateFeatures, validateProcess, validateResources, validateSpec, validateState } from '../../src/spec/load.js';
import { SpecError } from '../../src/spec/spec-error.js';
import { defaultSpec, specJson } from '../../src/spec/default.js';
import { toInt64, toUint64 } from '../../src/spec/numbers.js';
import { OCI_VERSION } from '../../src/spec/version.js';

// `runc spec` and `runc spec --rootless` of runc 1.1.5 (run as root, so the
// rootless mappings name host id 0), with the ociVersion hako writes.
const RUNC_SPEC = `{
\t"ociVersion": "1.0.2-dev",
\t"process": {
\t\t"terminal": true,
\t\t"user": {
\t\t\t"uid": 0,
\t\t\t"gid": 0
\t\t},
\t\t"args": [
\t\t\t"sh"
\t\t],
\t\t"env": [
\t\t\t"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
\t\t\t"TERM=xterm"
\t\t],
\t\t"cwd": "/",
\t\t"capabilities": {
\t\t\t"bounding": [
\t\t\t\t"CAP_AUDIT_WRITE",
\t\t\t\t"CAP_KILL",
\t\t\t\t"CAP_NET_BIND_SERVICE"
\t\t\t],
\t\t\t"effective": [
\t\t\t\t"CAP_AUDIT_WRITE",
\t\t\t\t"CAP_KILL",
\t\t\t\t"CAP_NET_BIND_SERVICE"
\t\t\t],
\t\t\t"permitted": [
\t\t\t\t"CAP_AUDIT_WRITE",
\t\t\t\t"CAP_KILL",
\t\t\t\t"CAP_NET_BIND_SERVICE"
\t\t\t],
\t\t\t"ambient": [
\t\t\t\t"CAP_AUDIT_WRITE",
\t\t\t\t"CAP_KILL",
\t\t\t\t"CAP_NET_BIND_SERVICE"
\t\t\t]
\t\t},
\t\t"rlimits": [
\t\t\t{
\t\t\t\t"type": "RLIMIT_NOFILE",
\t\t\t\t"hard": 1024,
\t\t\t\t"soft": 1024
\t\t\t}
\t\t],
\t\t"noNewPrivileges": true
\t},
\t"root": {
\t\t"path": "rootfs",
\t\t"readonly": true
\t},
\t"hostname": "runc",
\t"mounts": [
\t\t{
\t\t\t"destination": "/proc",
\t\t\t"type": "proc",
\t\t\t"source": "proc"
\t\t},
\t\t{
\t\t\t"destination": "/dev",
\t\t\t"type": "tmpfs",
\t\t\t"source": "tmpfs",
\t\t\t"options": [
\t\t\t\t"nosuid",
\t\t\t\t"strictatime",
\t\t\t\t"mode=755",
\t\t\t\t"size=65536k"
\t\t\t]
\t\t},
\t\t{
\t\t\t"destination": "/dev/pts",
\t\t\t"type": "devpts",
\t\t\t"source": "devpts",
\t\t\t"options": [
\t\t\t\t"nosuid",
\t\t\t\t"noexec",
\t\t\t\t"newinstance",
\t\t\t\t"ptmxmode=0666",
\t\t\t\t"mode=0620",
\t\t\t\t"gid=5"
\t\t\t]
\t\t},
\t\t{
\t\t\t"destination": "/dev/shm",
\t\t\t"type": "tmpfs",
\t\t\t"source": "shm",
\t\t\t"options": [
\t\t\t\t"nosuid",
\t\t\t\t"noexec",
\t\t\t\t"nodev",
\t\t\t\t"mode=1777",
\t\t\t\t"size=65536k"
\t\t\t]
\t\t},
\t\t{
\t\t\t"destination": "/dev/mqueue",
\t\t\t"type": "mqueue",
\t\t\t"source": "mqueue",
\t\t\t"options": [
\t\t\t\t"nosuid",
\t\t\t\t"noexec",
\t\t\t\t"nodev"
\t\t\t]
\t\t},
\t\t{
\t\t\t"destination": "/sys",
\t\t\t"type": "sysfs",
\t\t\t"source": "sysfs",
\t\t\t"options": [
\t\t\t\t"nosuid",
\t\t\t\t"noexec",
\t\t\t\t"nodev",
\t\t\t\t"ro"
\t\t\t]
\t\t},
\t\t{
\t\t\t"destination": "/sys/fs/cgroup",
\t\t\t"type": "cgroup",
\t\t\t"source": "cgroup",
\t\t\t"options": [
\t\t\t\t"nosuid",
\t\t\t\t"noexec",
\t\t\t\t"nodev",
\t\t\t\t"relatime",
\t\t\t\t"ro"
\t\t\t]
\t\t}
\t],
\t"linux": {
\t\t"resources": {
\t\t\t"devices": [
\t\t\t\t{
\t\t\t\t\t"allow": false,
\t\t\t\t\t"access": "rwm"
\t\t\t\t}
\t\t\t]
\t\t},
\t\t"namespaces": [
\t\t\t{
\t\t\t\t"type": "pid"
\t\t\t},
\t\t\t{
\t\t\t\t"type": "network"
\t\t\t},
\t\t\t{
\t\t\t\t"type": "ipc"
\t\t\t},
\t\t\t{
\t\t\t\t"type": "uts"
\t\t\t},
\t\t\t{
\t\t\t\t"type": "mount"
\t\t\t}
\t\t],
\t\t"maskedPaths": [
\t\t\t"/proc/acpi",
\t\t\t"/proc/asound",
\t\t\t"/proc/kcore",
\t\t\t"/proc/keys",
\t\t\t"/proc/latency_stats",
\t\t\t"/proc/timer_list",
\t\t\t"/proc/timer_stats",
\t\t\t"/proc/sched_debug",
\t\t\t"/sys/firmware",
\t\t\t"/proc/scsi"
\t\t],
\t\t"readonlyPaths": [
\t\t\t"/proc/bus",
\t\t\t"/proc/fs",
\t\t\t"/proc/irq",
\t\t\t"/proc/sys",
\t\t\t"/proc/sysrq-trigger"
\t\t]
\t}
}`;

// The rootless variant differs in /dev/pts (no gid=5), /sys (a read-only
// bind of the host's), and linux: mappings first, no resources, user
// namespace instead of network.
const RUNC_SPEC_ROOTLESS = RUNC_SPEC.replace(',\n\t\t\t\t"gid=5"', '')
  .replace(
    `"destination": "/sys",\n\t\t\t"type": "sysfs",\n\t\t\t"source": "sysfs",\n\t\t\t"options": [\n`,
    `"destination": "/sys",\n\t\t\t"type": "none",\n\t\t\t"source": "/sys",\n\t\t\t"options": [\n\t\t\t\t"rbind",\n`,
  )
  .replace(
    `\t"linux": {\n\t\t"resources": {\n\t\t\t"devices": [\n\t\t\t\t{\n\t\t\t\t\t"allow": false,\n\t\t\t\t\t"access": "rwm"\n\t\t\t\t}\n\t\t\t]\n\t\t},\n`,
    `\t"linux": {\n` +
      ['uidMappings', 'gidMappings']
        .map((k) => `\t\t"${k}": [\n\t\t\t{\n\t\t\t\t"containerID": 0,\n\t\t\t\t"hostID": 0,\n\t\t\t\t"size": 1\n\t\t\t}\n\t\t],\n`)
        .join(''),
  )
  .replace(`\t\t\t{\n\t\t\t\t"type": "network"\n\t\t\t},\n`, '')
  .replace(`\t\t\t{\n\t\t\t\t"type": "mount"\n\t\t\t}\n`, `\t\t\t{\n\t\t\t\t"type": "mount"\n\t\t\t},\n\t\t\t{\n\t\t\t\t"type": "user"\n\t\t\t}\n`);

const withVersion = (text: string) => text.replace('"ociVersion": "1.0.2-dev"', `"ociVersion": "${OCI_VERSION}"`);

// Roughly what podman 4 writes for `podman run --memory 512m --cpus 0.5 --pids-limit 2048 -v /srv:/data:ro`.
function podmanConfig(): any {
  return {
    ociVersion: '1.0.2-dev',
    process: {
      user: { uid: 1000, gid: 1000, umask: 18, additionalGids: [1000, 10] },
      args: ['/usr/bin/sleep', 'infinity'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'container=podman', 'EMPTY='],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID'],
        effective: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID'],
        permitted: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID'],
      },
      rlimits: [
        { type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 },
        { type: 'RLIMIT_NPROC', hard: 4194304, soft: 4194304 },
        // RLIM_INFINITY, which JSON.parse rounds to 2^64.
        { type: 'RLIMIT_CORE', hard: 18446744073709551615, soft: 18446744073709551615 },
      ],
      terminal: false,
      oomScoreAdj: 0,
      apparmorProfile: 'containers-default-0.50.1',
      selinuxLabel: 'system_u:system_r:container_t:s0:c1,c2',
    },
    root: { path: '/var/lib/containers/storage/overlay/0123abcd/merged' },
    hostname: 'f00dcafe',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
      { destination: '/data', type: 'bind', source: '/srv', options: ['ro', 'rbind', 'nosuid', 'nodev', 'rprivate'] },
      { destination: '/etc/hosts', type: 'bind', source: '/run/containers/storage/overlay-containers/f00d/userdata/hosts', options: ['bind', 'rprivate'] },
    ],
    hooks: {
      prestart: [{ path: '/usr/libexec/podman/netavark-hook', args: ['netavark-hook', 'setup'], env: ['A=1'], timeout: 10 }],
      createRuntime: [{ path: '/usr/bin/nvidia-ctk', args: ['nvidia-ctk', 'hook'] }],
      poststop: [{ path: '/usr/bin/podman', args: ['podman', '--root', '/var/lib/containers/storage', 'container', 'cleanup'] }],
    },
    annotations: {
      'io.container.manager': 'libpod',
      'io.podman.annotations.autoremove': 'FALSE',
      'org.opencontainers.image.stopSignal': '15',
      'com.example.empty': '',
    },
    linux: {
      sysctl: { 'net.ipv4.ping_group_range': '0 0' },
      resources: {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        ],
        memory: { limit: 536870912, swap: 1073741824, swappiness: 18446744073709551615 },
        cpu: { shares: 1024, quota: 50000, period: 100000, burst: 10000, cpus: '0-3', idle: 0 },
        pids: { limit: 2048 },
        blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 100 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
        hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
        unified: { 'memory.high': '400000000' },
      },
      cgroupsPath: 'machine.slice:libpod:f00dcafe',
      namespaces: [
        { type: 'pid' },
        { type: 'network', path: '/run/netns/netns-1234' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        { type: 'cgroup' },
      ],
      devices: [
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 },
        { path: '/dev/myfifo', type: 'p' },
      ],
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 38,
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
        flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
        syscalls: [
          { names: ['accept', 'read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' },
          { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 4294967295, op: 'SCMP_CMP_EQ' }] },
          { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
          { names: ['bdflush'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
        ],
      },
      rootfsPropagation: 'rslave',
      maskedPaths: ['/proc/acpi', '/proc/kcore', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/sys'],
      mountLabel: 'system_u:object_r:container_file_t:s0:c1,c2',
    },
  };
}

// A valid config changed by `edit`; its validation must fail with `message`.
function rejects(edit: (c: any) => void, message: string): void {
  const c = podmanConfig();
  edit(c);
  try {
    validateSpec(c);
  } catch (e) {
    assert.instance(e, SpecError);
    assert.is((e as Error).message, message);
    return;
  }
  assert.unreachable(`accepted, expected: ${message}`);
}

function accepts(edit: (c: any) => void): void {
  const c = podmanConfig();
  edit(c);
  validateSpec(c);
}

function throwsSpecError(fn: () => unknown, message: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, SpecError);
    assert.is((e as Error).message, message);
    return;
  }
  assert.unreachable(`no error, expected: ${message}`);
}

test('defaults: byte for byte what runc 1.1.5 `spec` writes, ociVersion aside', () => {
  assert.fixture(specJson(defaultSpec({ rootless: false })), withVersion(RUNC_SPEC));
  assert.fixture(specJson(defaultSpec({ rootless: true, uid: 0, gid: 0 })), withVersion(RUNC_SPEC_ROOTLESS));
});

test('defaults: rootless maps the effective uid and gid, as runc', () => {
  const s = defaultSpec({ rootless: true });
  assert.equal(s.linux?.uidMappings, [{ containerID: 0, hostID: process.geteuid!(), size: 1 }]);
  assert.equal(s.linux?.gidMappings, [{ containerID: 0, hostID: process.getegid!(), size: 1 }]);
  assert.equal(defaultSpec({ rootless: true, uid: 1000, gid: 100 }).linux?.uidMappings?.[0]?.hostID, 1000);
});

test('defaults: the same as the runc installed here, when there is one', () => {
  const runc = '/usr/sbin/runc';
  if (!existsSync(runc)) skip('no runc at /usr/sbin/runc to compare with');
  for (const args of [['spec'], ['spec', '--rootless']]) {
    const dir = mkdtempSync(join(tmpdir(), 'hako-spec-'));
    try {
      const r = spawnSync(runc, args, { cwd: dir });
      if (r.status !== 0) continue; // e.g. a runc too new to write this layout
      const theirs = readFileSync(join(dir, 'config.json'), 'utf8').replace(/"ociVersion": "[^"]*"/, `"ociVersion": "${OCI_VERSION}"`);
      assert.fixture(specJson(defaultSpec({ rootless: args.length > 1 })), theirs, `runc ${args.join(' ')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('valid: runc defaults, rootless defaults, a podman-like config', () => {
  validateSpec(JSON.parse(RUNC_SPEC));
  validateSpec(JSON.parse(RUNC_SPEC_ROOTLESS));
  validateSpec(defaultSpec({ rootless: false }));
  validateSpec(defaultSpec({ rootless: true }));
  const s = validateSpec(podmanConfig());
  assert.is(s.process.args[0], '/usr/bin/sleep');
  assert.is(s.root.path, '/var/lib/containers/storage/overlay/0123abcd/merged');
});

test('valid: unknown properties are extensions and ignored, at every level', () => {
  accepts((c) => {
    c['org.example.top'] = { any: 'thing' };
    c.process.org_example = 1;
    c.process.user.org_example = [];
    c.linux.resources.org_example = true;
    c.linux.intelRdt = { closID: 'c1', enableCMT: true, enableMBM: true }; // dropped in 1.3.0
    c.hooks.org_example = 'x';
    c.windows = { layerFolders: [] };
    c.vm = { hypervisor: { path: '/usr/bin/qemu' } };
  });
});

test('valid: versions 1.0.0 to 1.3.x with suffixes', () => {
  for (const v of ['1.0.0', '1.0.0-rc5', '1.0.2-dev', '1.1.0', '1.2.1', '1.3.0', '1.3.0+dev', '1.3.7-rc.1+abc']) {
    accepts((c) => (c.ociVersion = v));
  }
});

test('valid: the fields most configs leave out', () => {
  accepts((c) => {
    c.domainname = 'example.org';
    c.process.terminal = true;
    c.process.consoleSize = { height: 25, width: 80 };
    c.process.capabilities.inheritable = [];
    c.process.capabilities.ambient = ['CAP_KILL'];
    c.process.noNewPrivileges = true;
    c.process.scheduler = { policy: 'SCHED_DEADLINE', nice: -5, flags: ['SCHED_FLAG_RESET_ON_FORK'], runtime: 1, deadline: 2, period: 3 };
    c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 4 };
    c.process.execCPUAffinity = { initial: '0-3,7', final: '4' };
    c.hooks.createContainer = [{ path: '/bin/true' }];
    c.hooks.startContainer = [{ path: '/bin/true' }];
    c.hooks.poststart = [{ path: '/bin/true' }];
    c.mounts.push({ destination: 'relative/is/deprecated', type: 'tmpfs', source: 'tmpfs' });
    c.mounts.push({
      destination: '/idmapped',
      type: 'bind',
      source: '/srv',
      options: ['rbind', 'ridmap'],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    });
    c.linux.namespaces.push({ type: 'user' }, { type: 'time' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.timeOffsets = { monotonic: { secs: -86400, nanosecs: 5 }, boottime: { secs: 1 } };
    c.linux.netDevices = { eth1: { name: 'ctr1' }, eth2: {} };
    c.linux.resources.memory = {
      limit: -1,
      reservation: -1,
      swap: -1,
      kernel: -1,
      kernelTCP: -1,
      swappiness: 60,
      disableOOMKiller: true,
      useHierarchy: true,
      checkBeforeUpdate: true,
    };
    c.linux.resources.cpu = { shares: 2, quota: -1, burst: 5, period: 100000, realtimeRuntime: 0, realtimePeriod: 0, mems: '0', idle: 1 };
    c.linux.resources.pids = {};
    c.linux.resources.network = { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }] };
    c.linux.resources.rdma = { mlx5_1: { hcaHandles: 3 }, mlx4_0: { hcaObjects: 10000 } };
    c.linux.intelRdt = { closID: 'guaranteed', l3CacheSchema: 'L3:0=7f0;1=1f', memBwSchema: 'MB:0=20;1=70', schemata: ['L2:0=ff'], enableMonitoring: true };
    c.linux.memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES'] };
    c.linux.seccomp.listenerPath = '/run/seccomp-agent.sock';
    c.linux.seccomp.listenerMetadata = 'opaque';
    c.linux.seccomp.syscalls.push({ names: ['mount'], action: 'SCMP_ACT_NOTIFY' });
    c.linux.personality = { domain: 'LINUX32', flags: [] };
  });
});

test('invalid: the schema, one line with file and JSON pointer', () => {
  rejects((c) => (c.process.args = []), 'config.json: /process/args: must NOT have fewer than 1 items');
  rejects((c) => delete c.process.args, "config.json: /process: must have required property 'args'");
  rejects((c) => delete c.process.cwd, "config.json: /process: must have required property 'cwd'");
  rejects((c) => (c.process.cwd = 'home'), 'config.json: /process/cwd: must be an absolute path');
  rejects((c) => delete c.ociVersion, "config.json: must have required property 'ociVersion'");
  rejects((c) => (c.ociVersion = 1.3), 'config.json: /ociVersion: must be a string');
  rejects((c) => (c.root = { path: '' }), 'config.json: /root/path: must not be empty');
  rejects((c) => (c.root = {}), "config.json: /root: must have required property 'path'");
  rejects((c) => (c.mounts[2] = { type: 'tmpfs' }), "config.json: /mounts/2: must have required property 'destination'");
  rejects((c) => (c.process.user.uid = 4294967296), 'config.json: /process/user/uid: must be <= 4294967295');
  rejects((c) => (c.process.user.gid = -1), 'config.json: /process/user/gid: must be >= 0');
  rejects((c) => (c.process.user.additionalGids = [1, 2.5]), 'config.json: /process/user/additionalGids/1: must be an integer');
  rejects((c) => delete c.process.user.gid, "config.json: /process/user: must have required property 'gid'");
  rejects((c) => (c.process.env = ['A=1', 'NOEQUALS']), 'config.json: /process/env/1: must be NAME=value');
  rejects((c) => (c.process.env = ['=1']), 'config.json: /process/env/0: must be NAME=value');
  rejects((c) => (c.process.terminal = 'yes'), 'config.json: /process/terminal: must be a boolean');
  rejects((c) => (c.process.consoleSize = { height: 25 }), "config.json: /process/consoleSize: must have required property 'width'");
  rejects(
    (c) => (c.process.rlimits[0].type = 'RLIMIT_BOGUS'),
    'config.json: /process/rlimits/0/type: must be one of RLIMIT_AS, RLIMIT_CORE, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_FSIZE, RLIMIT_LOCKS, RLIMIT_MEMLOCK, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_RSS, RLIMIT_RTPRIO, RLIMIT_RTTIME, RLIMIT_SIGPENDING, RLIMIT_STACK',
  );
  rejects((c) => (c.process.rlimits[1].soft = -1), 'config.json: /process/rlimits/1/soft: must be >= 0');
  rejects((c) => (c.process.capabilities.bounding = 'CAP_KILL'), 'config.json: /process/capabilities/bounding: must be an array');
  rejects((c) => (c.process.oomScoreAdj = 1001), 'config.json: /process/oomScoreAdj: must be <= 1000');
  rejects(
    (c) => (c.process.scheduler = { policy: 'SCHED_MAGIC' }),
    'config.json: /process/scheduler/policy: must be one of SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE',
  );
  rejects((c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }), 'config.json: /process/ioPriority/priority: must be <= 7');
  rejects((c) => (c.process.execCPUAffinity = { initial: 'all' }), 'config.json: /process/execCPUAffinity/initial: must be a CPU list such as 0-3,7');
  rejects((c) => (c.hooks.poststop[0].timeout = 0), 'config.json: /hooks/poststop/0/timeout: must be >= 1');
  rejects((c) => (c.hooks.prestart[0] = { args: ['x'] }), "config.json: /hooks/prestart/0: must have required property 'path'");
  rejects((c) => (c.hooks.createRuntime[0].path = 'nvidia-ctk'), 'config.json: /hooks/createRuntime/0/path: must be an absolute path');
  rejects((c) => (c.annotations[''] = 'x'), 'config.json: /annotations: must not have an empty key');
  rejects((c) => (c.annotations['com.example.n'] = 1), 'config.json: /annotations/com.example.n: must be a string');
  rejects(
    (c) => (c.linux.namespaces[0].type = 'pidns'),
    'config.json: /linux/namespaces/0/type: must be one of pid, network, mount, ipc, uts, user, cgroup, time',
  );
  rejects((c) => (c.linux.namespaces[1].path = 'netns'), 'config.json: /linux/namespaces/1/path: must be an absolute path');
  rejects((c) => c.linux.namespaces.push({ path: '/proc/1/ns/pid' }), "config.json: /linux/namespaces/6: must have required property 'type'");
  rejects((c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 1000 }]), "config.json: /linux/uidMappings/0: must have required property 'size'");
  rejects((c) => (c.linux.timeOffsets = { realtime: { secs: 1 } }), "config.json: /linux/timeOffsets: must NOT have additional property 'realtime'");
  rejects((c) => (c.linux.devices[0].type = 'x'), 'config.json: /linux/devices/0/type: must be one of c, b, u, p');
  rejects((c) => delete c.linux.devices[0].major, "config.json: /linux/devices/0: must have required property 'major'");
  rejects((c) => (c.linux.devices[0].path = 'dev/fuse'), 'config.json: /linux/devices/0/path: must be an absolute path');
  // Letters other than r, w and m are the device code's to warn about (src/cgroups/devices.ts).
  rejects((c) => (c.linux.resources.devices[1].access = 7), 'config.json: /linux/resources/devices/1/access: must be a string');
  rejects((c) => (c.linux.resources.devices[1].type = 'p'), 'config.json: /linux/resources/devices/1/type: must be one of a, c, b');
  rejects((c) => delete c.linux.resources.devices[0].allow, "config.json: /linux/resources/devices/0: must have required property 'allow'");
  rejects((c) => (c.linux.resources.memory.limit = '512m'), 'config.json: /linux/resources/memory/limit: must be an integer');
  rejects((c) => (c.linux.resources.memory.limit = 1.5), 'config.json: /linux/resources/memory/limit: must be an integer');
  rejects((c) => (c.linux.resources.cpu.shares = -2), 'config.json: /linux/resources/cpu/shares: must be >= 0');
  rejects((c) => (c.linux.resources.blockIO.weight = 70000), 'config.json: /linux/resources/blockIO/weight: must be <= 65535');
  rejects(
    (c) => delete c.linux.resources.blockIO.throttleReadBpsDevice[0].rate,
    "config.json: /linux/resources/blockIO/throttleReadBpsDevice/0: must have required property 'rate'",
  );
  rejects(
    (c) => (c.linux.resources.hugepageLimits[0].pageSize = '2M'),
    'config.json: /linux/resources/hugepageLimits/0/pageSize: must be a size such as 64KB, 2MB or 1GB',
  );
  rejects((c) => (c.linux.resources.unified['memory.max'] = 1024), 'config.json: /linux/resources/unified/memory.max: must be a string');
  rejects((c) => (c.linux.resources.rdma = { mlx: { hcaHandles: -1 } }), 'config.json: /linux/resources/rdma/mlx/hcaHandles: must be >= 0');
  rejects((c) => (c.linux.sysctl['net.ipv4.ip_forward'] = 1), 'config.json: /linux/sysctl/net.ipv4.ip_forward: must be a string');
  rejects(
    (c) => (c.linux.rootfsPropagation = 'rbogus'),
    'config.json: /linux/rootfsPropagation: must be one of shared, slave, private, unbindable, rshared, rslave, rprivate, runbindable',
  );
  rejects((c) => (c.linux.maskedPaths = ['proc/kcore']), 'config.json: /linux/maskedPaths/0: must be an absolute path');
  rejects((c) => (c.linux.readonlyPaths = '/proc/sys'), 'config.json: /linux/readonlyPaths: must be an array');
  rejects((c) => (c.linux.intelRdt = { memBwSchema: 'L3:0=1' }), 'config.json: /linux/intelRdt/memBwSchema: must be a single line starting with MB:');
  rejects((c) => (c.linux.memoryPolicy = { nodes: '0' }), "config.json: /linux/memoryPolicy: must have required property 'mode'");
  rejects((c) => (c.linux.personality = { domain: 'LINUX64' }), 'config.json: /linux/personality/domain: must be one of LINUX, LINUX32');
  rejects((c) => (c.linux.netDevices = { eth0: { name: 7 } }), 'config.json: /linux/netDevices/eth0/name: must be a string');
  rejects((c) => (c.mounts[4].options = 'ro'), 'config.json: /mounts/4/options: must be an array');
  rejects(
    (c) => (c.mounts[4].uidMappings = [{ containerID: 0, hostID: 1, size: 1 }]),
    'config.json: /mounts/4: must have property gidMappings when property uidMappings is present',
  );
  rejects((c) => (c.linux = []), 'config.json: /linux: must be an object');
  rejects((c) => (c.solaris = 'no'), 'config.json: /solaris: must be an object');
});

test('invalid: seccomp', () => {
  rejects((c) => delete c.linux.seccomp.defaultAction, "config.json: /linux/seccomp: must have required property 'defaultAction'");
  rejects(
    (c) => (c.linux.seccomp.defaultAction = 'SCMP_ACT_DENY'),
    'config.json: /linux/seccomp/defaultAction: must be one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY',
  );
  rejects(
    (c) => (c.linux.seccomp.architectures[1] = 'x86'),
    'config.json: /linux/seccomp/architectures/1: must be one of SCMP_ARCH_X86, SCMP_ARCH_X86_64, SCMP_ARCH_X32, SCMP_ARCH_ARM, SCMP_ARCH_AARCH64, SCMP_ARCH_MIPS, SCMP_ARCH_MIPS64, SCMP_ARCH_MIPS64N32, SCMP_ARCH_MIPSEL, SCMP_ARCH_MIPSEL64, SCMP_ARCH_MIPSEL64N32, SCMP_ARCH_PPC, SCMP_ARCH_PPC64, SCMP_ARCH_PPC64LE, SCMP_ARCH_S390, SCMP_ARCH_S390X, SCMP_ARCH_PARISC, SCMP_ARCH_PARISC64, SCMP_ARCH_RISCV64, SCMP_ARCH_LOONGARCH64, SCMP_ARCH_M68K, SCMP_ARCH_SH, SCMP_ARCH_SHEB',
  );
  rejects(
    (c) => (c.linux.seccomp.flags = ['SECCOMP_FILTER_FLAG_NEW_LISTENER']),
    'config.json: /linux/seccomp/flags/0: must be one of SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
  );
  rejects((c) => (c.linux.seccomp.syscalls[0].names = []), 'config.json: /linux/seccomp/syscalls/0/names: must NOT have fewer than 1 items');
  rejects((c) => delete c.linux.seccomp.syscalls[0].action, "config.json: /linux/seccomp/syscalls/0: must have required property 'action'");
  rejects(
    (c) => (c.linux.seccomp.syscalls[1].action = 'ALLOW'),
    'config.json: /linux/seccomp/syscalls/1/action: must be one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY',
  );
  rejects((c) => delete c.linux.seccomp.syscalls[1].args[0].op, "config.json: /linux/seccomp/syscalls/1/args/0: must have required property 'op'");
  rejects(
    (c) => (c.linux.seccomp.syscalls[2].args[0].op = 'SCMP_CMP_MASKED'),
    'config.json: /linux/seccomp/syscalls/2/args/0/op: must be one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ',
  );
  rejects((c) => (c.linux.seccomp.syscalls[2].args[0].value = -1), 'config.json: /linux/seccomp/syscalls/2/args/0/value: must be >= 0');
  rejects((c) => (c.linux.seccomp.syscalls[3].errnoRet = -1), 'config.json: /linux/seccomp/syscalls/3/errnoRet: must be >= 0');
  rejects(
    (c) => (c.linux.seccomp.listenerMetadata = 'x'),
    'config.json: /linux/seccomp: must have property listenerPath when property listenerMetadata is present',
  );
  // Semantic: errnoRet only with actions that return one.
  rejects(
    (c) => (c.linux.seccomp.syscalls[0].errnoRet = 1),
    'config.json: /linux/seccomp/syscalls/0/errnoRet: applies only to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not SCMP_ACT_ALLOW',
  );
  rejects(
    (c) => (c.linux.seccomp.defaultAction = 'SCMP_ACT_KILL'),
    'config.json: /linux/seccomp/defaultErrnoRet: applies only to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not SCMP_ACT_KILL',
  );
  accepts((c) => (c.linux.seccomp.syscalls[3].action = 'SCMP_ACT_TRACE'));
});

test('invalid: rules the schema cannot state', () => {
  rejects((c) => (c.ociVersion = '2.0.0'), 'config.json: /ociVersion: version 2.0.0 is not supported (hako supports 1.0.0 to 1.3.x)');
  rejects((c) => (c.ociVersion = '1.4.0'), 'config.json: /ociVersion: version 1.4.0 is not supported (hako supports 1.0.0 to 1.3.x)');
  rejects((c) => (c.ociVersion = '0.6.0'), 'config.json: /ociVersion: version 0.6.0 is not supported (hako supports 1.0.0 to 1.3.x)');
  rejects((c) => (c.ociVersion = '1.0'), 'config.json: /ociVersion: "1.0" is not a SemVer version such as 1.3.0');
  rejects((c) => (c.ociVersion = ''), 'config.json: /ociVersion: "" is not a SemVer version such as 1.3.0');
  rejects((c) => delete c.root, "config.json: must have required property 'root'");
  rejects((c) => delete c.process, "config.json: must have required property 'process'");
  rejects(
    (c) => c.linux.namespaces.push({ type: 'pid', path: '/proc/1/ns/pid' }),
    'config.json: /linux/namespaces/6/type: namespace pid is already given at /linux/namespaces/0',
  );
  rejects(
    (c) => c.process.rlimits.push({ type: 'RLIMIT_NPROC', soft: 1, hard: 1 }),
    'config.json: /process/rlimits/3/type: RLIMIT_NPROC is already given at /process/rlimits/1',
  );
  rejects(
    (c) => (c.linux.resources.blockIO.weightDevice[0] = { major: 8, minor: 0 }),
    'config.json: /linux/resources/blockIO/weightDevice/0: must have weight or leafWeight',
  );
  rejects((c) => (c.linux.resources.rdma = { 'mlx5/1': {} }), 'config.json: /linux/resources/rdma/mlx5~11: must have hcaHandles or hcaObjects');
  rejects((c) => (c.linux.resources.cpu.burst = 60000), 'config.json: /linux/resources/cpu/burst: must not be larger than quota (50000)');
  rejects(
    (c) => c.mounts.push({ destination: '/m', type: 'bind', source: '/srv', options: ['bind', 'idmap'] }),
    'config.json: /mounts/6/options/1: idmap needs uidMappings and gidMappings on the mount, or a user namespace',
  );
  accepts((c) => {
    c.mounts.push({ destination: '/m', type: 'bind', source: '/srv', options: ['bind', 'idmap'] });
    c.linux.namespaces.push({ type: 'user' });
  });
});

test('errors carry file, pointer and detail', () => {
  const c = podmanConfig();
  c.linux.namespaces[0].type = 'pidns';
  try {
    validateSpec(c, 'bundle/config.json');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, SpecError);
    const se = e as SpecError;
    assert.is(se.file, 'bundle/config.json');
    assert.is(se.path, '/linux/namespaces/0/type');
    assert.ok(se.detail.startsWith('must be one of pid, network,'));
    assert.is(se.name, 'SpecError');
    assert.not.ok(se.message.includes('\n'));
  }
});

test('JSON syntax errors name line and column', () => {
  throwsSpecError(
    () => parseSpec('{\n  "ociVersion": "1.0.0",\n}'),
    'config.json: invalid JSON at line 3, column 1: expected a property name in double quotes, found "}"',
  );
  throwsSpecError(() => parseSpec('{"a": }'), 'config.json: invalid JSON at line 1, column 7: expected a value, found "}"');
  throwsSpecError(() => parseSpec('{"a": [1 2]}'), "config.json: invalid JSON at line 1, column 10: expected ',' or ']', found \"2\"");
  throwsSpecError(() => parseSpec('{"a" 1}'), 'config.json: invalid JSON at line 1, column 6: expected \':\' after the property name, found "1"');
  throwsSpecError(
    () => parseSpec('{"a": "b\nc"}'),
    'config.json: invalid JSON at line 1, column 9: control character in string (newlines must be written \\n)',
  );
  throwsSpecError(() => parseSpec('{"a": "b'), 'config.json: invalid JSON at line 1, column 9: unterminated string');
  throwsSpecError(() => parseSpec(''), 'config.json: invalid JSON at line 1, column 1: expected a value, found end of input');
  throwsSpecError(() => parseSpec('{} {}'), 'config.json: invalid JSON at line 1, column 4: unexpected "{" after the end of the document');
  throwsSpecError(() => parseSpec('{"a": tru}'), 'config.json: invalid JSON at line 1, column 7: unexpected "t"');
  throwsSpecError(() => parseSpec('{"a": -}'), 'config.json: invalid JSON at line 1, column 7: invalid number');
  throwsSpecError(() => parseSpec('{"a": "\\x"}'), 'config.json: invalid JSON at line 1, column 8: invalid escape sequence in string');
  throwsSpecError(() => parseSpec('\uFEFF{}'), 'config.json: invalid JSON at line 1, column 1: expected a value, found U+FEFF');
  throwsSpecError(() => parseSpec('[]'), 'config.json: must be an object');
});

test('loadSpec reads <bundle>/config.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hako-spec-'));
  try {
    throwsSpecError(() => loadSpec(dir), `config.json: cannot read ${join(dir, 'config.json')}: no such file or directory`);
    writeFileSync(join(dir, 'config.json'), specJson(defaultSpec({ rootless: false })));
    const s = loadSpec(dir);
    assert.is(s.ociVersion, OCI_VERSION);
    assert.is(s.root.path, 'rootfs');
    writeFileSync(join(dir, 'config.json'), '{"ociVersion": "1.0.0", "root": {"path": "rootfs"}, "process": {"cwd": "/", "args": []}}');
    throwsSpecError(() => loadSpec(dir), 'config.json: /process/args: must NOT have fewer than 1 items');
    writeFileSync(join(dir, 'p.json'), '{"cwd": "/", "args": ["sh"]');
    throwsSpecError(
      () => readJsonFile(join(dir, 'p.json'), 'process.json'),
      "process.json: invalid JSON at line 1, column 28: expected ',' or '}', found end of input",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('process and resources documents (exec --process, update --resources)', () => {
  assert.equal(validateProcess({ cwd: '/', args: ['ls'] }), { cwd: '/', args: ['ls'] });
  throwsSpecError(() => validateProcess({ cwd: '/' }), "process.json: must have required property 'args'");
  throwsSpecError(
    () =>
      validateProcess({
        cwd: '/',
        args: ['ls'],
        rlimits: [
          { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
          { type: 'RLIMIT_CORE', soft: 1, hard: 1 },
        ],
      }),
    'process.json: /rlimits/1/type: RLIMIT_CORE is already given at /rlimits/0',
  );
  assert.equal(validateResources({ memory: { limit: 1024 } }), { memory: { limit: 1024 } });
  throwsSpecError(() => validateResources({ pids: { limit: 'max' } }, '-'), '-: /pids/limit: must be an integer');
  throwsSpecError(() => validateResources({ cpu: { quota: 1000, burst: 2000 } }), 'resources.json: /cpu/burst: must not be larger than quota (1000)');
});

test('state: the OCI fields plus what runc adds', () => {
  const st = {
    ociVersion: '1.3.0',
    id: 'c1',
    pid: 4242,
    status: 'running',
    bundle: '/b',
    rootfs: '/b/rootfs',
    created: '2024-01-02T03:04:05.123456789Z',
    owner: '',
    annotations: { a: 'b' },
  };
  assert.equal(validateState(st), st);
  validateState({ ociVersion: '1.3.0', id: 'c1', status: 'stopped', bundle: '/b' });
  validateState({ ociVersion: '1.3.0', id: 'c1', status: 'stopped', pid: 0, bundle: '/b' });
  validateState({ ociVersion: '1.3.0', id: 'c1', status: 'paused', pid: 3, bundle: '/b' });
  throwsSpecError(() => validateState({ ...st, status: 'exited' }), 'state: /status: must be one of creating, created, running, stopped, paused');
  throwsSpecError(() => validateState({ ociVersion: '1.3.0', id: 'c1', status: 'created', bundle: '/b' }), "state: must have required property 'pid'");
  throwsSpecError(() => validateState({ ...st, bundle: 'b' }), 'state: /bundle: must be an absolute path');
  throwsSpecError(() => validateState({ ...st, id: '' }), 'state: /id: must not be empty');
  throwsSpecError(() => validateState({ ...st, pid: -1 }), 'state: /pid: must be >= 0');
});

test('features: runc 1.1.5 output, nulls, and what 1.3.0 does not define', () => {
  const runc = {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.0.2-dev',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: ['bind', 'rbind', 'ro', 'tmpcopyup'],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      capabilities: ['CAP_CHOWN', 'CAP_CHECKPOINT_RESTORE'],
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: true },
      seccomp: {
        enabled: true,
        actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_NOTIFY'],
        operators: ['SCMP_CMP_EQ', 'SCMP_CMP_MASKED_EQ'],
        archs: ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_X86_64'],
      },
      apparmor: { enabled: true },
      selinux: { enabled: true },
    },
    annotations: { 'io.github.seccomp.libseccomp.version': '2.5.4', 'org.opencontainers.runc.version': '1.1.5+ds1' },
  };
  validateFeatures(runc);
  validateFeatures({
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.3.0',
    hooks: null,
    mountOptions: null,
    potentiallyUnsafeConfigAnnotations: ['com.example.foo.bar', 'org.systemd.property.'],
    linux: {
      namespaces: null,
      cgroup: { v2: true, rdma: null },
      seccomp: { knownFlags: ['SECCOMP_FILTER_FLAG_LOG'], supportedFlags: [] },
      intelRdt: { enabled: true, schemata: true, monitoring: false },
      mountExtensions: { idmap: { enabled: true } },
      netDevices: { enabled: true },
      memoryPolicy: { modes: ['MPOL_BIND'], flags: ['MPOL_F_STATIC_NODES'] },
      apparmor: null,
    },
    annotations: null,
  });
  validateFeatures({ ociVersionMin: '1.0.0', ociVersionMax: '1.3.0', linux: null });
  throwsSpecError(() => validateFeatures({ ociVersionMin: '1.0.0' }), "features: must have required property 'ociVersionMax'");
  throwsSpecError(
    () => validateFeatures({ ociVersionMin: '1.2.0', ociVersionMax: '1.1.0' }),
    'features: /ociVersionMax: must not be less than ociVersionMin (1.2.0)',
  );
  throwsSpecError(() => validateFeatures({ ...runc, extra: 1 }), "features: must NOT have additional property 'extra'");
  throwsSpecError(() => validateFeatures({ ...runc, hooks: 'all' }), 'features: /hooks: must be an array or null');
  throwsSpecError(
    () => validateFeatures({ ...runc, linux: { namespaces: ['net'] } }),
    'features: /linux/namespaces/0: must be one of pid, network, mount, ipc, uts, user, cgroup, time',
  );
  throwsSpecError(
    () => validateFeatures({ ...runc, linux: { capabilities: ['chown'] } }),
    'features: /linux/capabilities/0: must be a capability name such as CAP_CHOWN',
  );
  throwsSpecError(() => validateFeatures({ ...runc, linux: { cgroup: { v3: true } } }), "features: /linux/cgroup: must NOT have additional property 'v3'");
});

test('64-bit values clamp back into range', () => {
  assert.is(toUint64(18446744073709551615), 18446744073709551615n);
  assert.is(toUint64(1048576), 1048576n);
  assert.is(toInt64(9223372036854775807), 9223372036854775807n);
  assert.is(toInt64(-9223372036854775808), -9223372036854775808n);
  assert.is(toInt64(-1), -1n);
});

uvuTest.run();
