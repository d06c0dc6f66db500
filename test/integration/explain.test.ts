// `hako explain` on real bundles: the demo bundle, podman-like and
// containerd-like configs (hand-made with the fields those clients
// typically write, their default seccomp profiles from
// seccomp-profiles.ts), the agreement of create's and exec's process for
// the same process, create's errors, and that nothing is left behind:
// no state directory, no cgroup, no process, no mount.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUSYBOX_BUNDLE, Env, uniqueId } from '../helpers.js';
import { context, explain } from '../../src/index.js';
import { explanationJson } from '../../src/explain/index.js';
import { containerdDefault, podmanDefault, PODMAN_CAPS } from './seccomp-profiles.js';

const t = suite('explain');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

function explainJson(args: string[]): any {
  const r = env.hako(['explain', '--format', 'json', ...args]);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const MASKED = [
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/dev/block',
];
const READONLY = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** A config as podman writes it (its usual fields; hand-made, not podman's output). */
function podmanLike(c: any, id: string): void {
  c.process.args = ['sh', '-c', 'sleep 1'];
  c.process.terminal = false;
  c.process.env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm', 'container=podman', 'HOSTNAME=' + id];
  c.process.capabilities = { bounding: PODMAN_CAPS, effective: PODMAN_CAPS, permitted: PODMAN_CAPS };
  c.process.rlimits = [
    { type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 },
    { type: 'RLIMIT_NPROC', hard: 4194304, soft: 4194304 },
  ];
  c.process.oomScoreAdj = 0;
  c.hostname = id;
  c.mounts = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=64000k'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    { destination: '/etc/hostname', type: 'bind', source: '/etc/hostname', options: ['bind', 'rprivate', 'nosuid', 'noexec', 'nodev'] },
  ];
  c.annotations = { 'io.container.manager': 'libpod', 'org.opencontainers.image.stopSignal': '15' };
  c.linux = {
    sysctl: { 'net.ipv4.ping_group_range': '0 0' },
    resources: { pids: { limit: 2048 }, memory: { limit: 256 << 20 } },
    // podman's is /libpod_parent/libpod-ID: a parent of our own, not to meet a real podman's.
    cgroupsPath: `/${id}_parent/libpod-${id}`,
    namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
    seccomp: podmanDefault().profile,
    maskedPaths: MASKED,
    readonlyPaths: READONLY,
  };
}

/** A config as containerd's ctr writes it for `ctr run` (its usual fields; hand-made). */
function containerdLike(c: any, id: string): void {
  const caps = [
    'CAP_CHOWN',
    'CAP_DAC_OVERRIDE',
    'CAP_FSETID',
    'CAP_FOWNER',
    'CAP_MKNOD',
    'CAP_NET_RAW',
    'CAP_SETGID',
    'CAP_SETUID',
    'CAP_SETFCAP',
    'CAP_SETPCAP',
    'CAP_NET_BIND_SERVICE',
    'CAP_SYS_CHROOT',
    'CAP_KILL',
    'CAP_AUDIT_WRITE',
  ];
  c.process.args = ['sh'];
  c.process.terminal = false;
  c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
  c.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }];
  c.process.noNewPrivileges = true;
  c.mounts = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  ];
  c.linux = {
    resources: { devices: [{ allow: false, access: 'rwm' }], cpu: { shares: 1024 } },
    cgroupsPath: `/default/${id}`,
    namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network' }],
    seccomp: containerdDefault(),
    maskedPaths: MASKED,
    readonlyPaths: READONLY,
  };
}

t("the demo bundle: text and JSON, create's plan", () => {
  const r = env.hako(['explain', '--bundle', BUSYBOX_BUNDLE, uniqueId('ex')]);
  assert.is(r.status, 0, r.stderr);
  for (const h of ['namespaces:', 'cgroup:', 'mounts, in order:', 'devices:', 'masked paths:', 'process:'])
    assert.ok(r.stdout.includes(`\n${h}\n`), `${h} in\n${r.stdout}`);
  const e = explainJson(['--bundle', BUSYBOX_BUNDLE]);
  const config = JSON.parse(readFileSync(path.join(BUSYBOX_BUNDLE, 'config.json'), 'utf8'));
  assert.is(e.operation, 'create');
  assert.equal(e.plan.process.args, config.process.args);
  assert.equal(e.plan.mounts.map((m: any) => m.target).slice(0, 3), config.mounts.map((m: any) => m.destination).slice(0, 3));
  assert.equal(e.plan.maskedPaths, config.linux.maskedPaths);
  assert.equal(e.plan.namespaces.new.sort(), config.linux.namespaces.map((n: any) => n.type).sort());
  assert.ok(e.cgroup.ops.some((o: any) => o.op === 'mkdir'));
});

t('a podman-like config: cgroup writes with their values, the seccomp profile summarised', () => {
  const id = uniqueId('pod');
  const b = env.bundle((c) => podmanLike(c, id));
  const e = explainJson(['--bundle', b, id]);
  const writes = e.cgroup.ops.filter((o: any) => o.op === 'write');
  assert.ok(
    writes.some((w: any) => w.path.endsWith(`/${id}_parent/libpod-${id}/pids.max`) && w.value === '2048'),
    JSON.stringify(writes),
  );
  assert.ok(writes.some((w: any) => /memory\.(max|limit_in_bytes)$/.test(w.path) && w.value === String(256 << 20)));
  assert.is(
    e.seccomp.defaultAction,
    podmanDefault().profile.defaultErrnoRet === undefined
      ? podmanDefault().profile.defaultAction
      : `${podmanDefault().profile.defaultAction}(${podmanDefault().profile.defaultErrnoRet})`,
  );
  const names = (podmanDefault().profile.syscalls ?? []).reduce((n, s) => n + s.names.length, 0);
  assert.is(
    Object.values(e.seccomp.syscallsPerAction as Record<string, number>).reduce((a, b) => a + b, 0),
    names,
  );
  assert.ok(e.seccomp.instructions > 100 && e.seccomp.bytes === e.seccomp.instructions * 8);
  assert.is(e.plan.process.seccomp.instructions, e.seccomp.instructions);
  assert.equal(e.plan.process.capabilities.bounding.sort(), [...PODMAN_CAPS].sort());
  assert.equal(e.plan.sysctl, { 'net.ipv4.ping_group_range': '0 0' });
  assert.ok(e.plan.namespaces.new.includes('cgroup'));
  assert.ok(e.plan.mounts.some((m: any) => m.target === '/etc/hostname' && m.flags.includes('MS_BIND')));
  assert.is(e.plan.hostname, id);
});

t('a containerd-like config: the device rules as cgroup writes, no_new_privs, its seccomp profile', () => {
  const id = uniqueId('ctrd');
  const b = env.bundle((c) => containerdLike(c, id));
  const e = explainJson(['--bundle', b, id]);
  const writes = e.cgroup.ops.filter((o: any) => o.op === 'write' || o.op === 'device-filter');
  assert.ok(
    writes.some((w: any) => w.op === 'device-filter' || (w.path.endsWith('devices.deny') && w.value === 'a *:* rwm')),
    JSON.stringify(writes),
  );
  assert.ok(e.cgroup.ops.every((o: any) => o.path.includes(`/default/${id}`) || !o.path.includes(id)));
  assert.is(e.plan.process.noNewPrivileges, true);
  assert.is(e.seccomp.defaultAction, 'SCMP_ACT_ERRNO');
  assert.ok(e.seccomp.syscallsPerAction.SCMP_ACT_ALLOW > 200);
  assert.ok(e.plan.mounts.some((m: any) => m.target === '/run' && m.type === 'tmpfs'));
});

t('create and exec of the same process: the process part is identical (CLI and library)', async () => {
  const id = uniqueId('agree');
  const b = env.bundle((c) => podmanLike(c, id));
  const procFile = path.join(env.dir, `${id}-process.json`);
  writeFileSync(procFile, JSON.stringify(JSON.parse(readFileSync(path.join(b, 'config.json'), 'utf8')).process));
  const create = explainJson(['--bundle', b, id]);
  const exec = explainJson(['--bundle', b, '--process', procFile, id]);
  assert.is(exec.operation, 'exec');
  assert.equal(exec.plan.process, create.plan.process);
  assert.equal(exec.plan.execJoin.sort(), create.plan.namespaces.new.sort());
  assert.equal(exec.plan.mounts, []);
  assert.ok(Object.values(exec.cgroup.join).length > 0);
  const lib = await explain(context({ root: env.root }), { bundle: b, id, processFile: procFile });
  assert.equal(JSON.parse(explanationJson(lib)).plan.process, exec.plan.process);
});

t("errors are create's: one line, with the JSON path", () => {
  const b = env.bundle((c) => {
    c.process.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }];
  });
  const r = env.hako(['explain', '--bundle', b, 'bad1']);
  assert.is(r.status, 1);
  assert.match(r.stderr, /container "bad1": .*\/process\/rlimits\/0\/type: must be one of RLIMIT_AS/);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  const f = env.hako(['explain', '--bundle', b, '--format', 'yaml']);
  assert.is(f.status, 1);
  assert.match(f.stderr, /invalid format option: yaml/);
});

t('leaves nothing behind: no state root, no cgroup, no process, no mount', () => {
  const id = uniqueId('trace');
  const b = env.bundle((c) => podmanLike(c, id));
  const mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8');
  const e = explainJson(['--bundle', b, id]);
  assert.not.ok(existsSync(env.root), 'no state root');
  const dirs = Object.values(e.cgroup.dirs as Record<string, string>);
  assert.ok(dirs.length > 0);
  for (const d of dirs) assert.not.ok(existsSync(d), `${d} was not made`);
  for (const o of e.cgroup.ops) if (o.op === 'mkdir') assert.not.ok(existsSync(o.path), `${o.path} was not made`);
  assert.is(readFileSync('/proc/self/mountinfo', 'utf8'), mountsBefore);
  const ps = env.hako(['list', '--quiet']);
  assert.is(ps.stdout, '');
});

t.run();
