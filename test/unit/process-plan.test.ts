// One translation of a process (src/launch/process-plan.ts): create's init
// and an exec'd process given the same process get the same records, and
// the differences are the documented ones only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPlan, initProcessContext, PlanError } from '../../src/launch/plan.js';
import { buildExecPlan, execProcessContext } from '../../src/launch/exec-plan.js';
import { processPlan } from '../../src/launch/process-plan.js';
import { T, type TagName } from '../../src/launch/plan-tags.js';
import { PROPAGATION, MS } from '../../src/launch/linux-consts.js';
import { KNOWN_MOUNT_OPTIONS, parseMountOptions } from '../../src/launch/mount-options.js';
import { encode, type Rec } from '../../src/launch/tlv.js';
import type { HostLsm } from '../../src/launch/lsm.js';

const LSM: HostLsm = { apparmor: true, selinux: true, apparmorConfined: true };

/** The plan records that belong to the process (plan.tags "plan: the process", scheduling, LSM labels). */
const PROCESS_TAGS: readonly TagName[] = [
  'ARG',
  'ENV',
  'CWD',
  'UID',
  'GID',
  'ADDITIONAL_GID',
  'UMASK',
  'RLIMIT',
  'OOM_SCORE_ADJ',
  'PERSONALITY',
  'CAP_BOUNDING',
  'CAP_EFFECTIVE',
  'CAP_PERMITTED',
  'CAP_INHERITABLE',
  'CAP_AMBIENT',
  'NO_NEW_PRIVS',
  'SECCOMP_BPF',
  'SECCOMP_FLAGS',
  'APPARMOR_PROFILE',
  'SELINUX_LABEL',
  'APPARMOR_STACK',
  'PRESERVE_FDS',
  'NEW_KEYRING',
  'KEYRING_NAME',
  'SETSID',
  'CONSOLE_WIDTH',
  'CONSOLE_HEIGHT',
  'SETGROUPS_DENY',
  'SCHED',
  'IOPRIO',
];
const processTags: ReadonlySet<number> = new Set<number>(PROCESS_TAGS.map((n) => T[n]));

function spec(edit?: (c: any) => void): any {
  const c: any = {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: {
      terminal: true,
      consoleSize: { height: 20, width: 70 },
      args: ['sh', '-c', 'echo hi'],
      cwd: '/srv/',
      env: ['PATH=/bin', 'A=1', 'HOME=/root', 'A=2'],
      user: { uid: 5, gid: 6, additionalGids: [7, 8], umask: 0o27 },
      capabilities: {
        bounding: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NOPE'],
        effective: ['CAP_KILL'],
        permitted: ['CAP_KILL', 'CAP_CHOWN'],
        inheritable: ['CAP_CHOWN'],
        ambient: ['CAP_CHOWN', 'CAP_KILL'],
      },
      rlimits: [
        { type: 'RLIMIT_NOFILE', soft: 10, hard: 20 },
        { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
      ],
      oomScoreAdj: 100,
      scheduler: { policy: 'SCHED_BATCH', nice: 5 },
      ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 4 },
      noNewPrivileges: true,
      apparmorProfile: 'hako-test',
      selinuxLabel: 'system_u:system_r:container_t:s0:c1,c2',
    },
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }],
      personality: { domain: 'LINUX32' },
      memoryPolicy: { mode: 'MPOL_BIND', nodes: '0' },
    },
  };
  edit?.(c);
  return c;
}

const seccomp = { bpf: new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]), flags: 4 };
const host = { capLastCap: 40, hostCapBnd: ~0n, lsm: LSM, seccomp, preserveFds: 2, setgroupsDeny: false, cpuPossible: 2 };
const createOpts = { ...host, id: 'c1', bundle: '/b', fifoPath: '/run/hako/c1/exec.fifo' };
const execOpts = { ...host, id: 'c1', rootfs: '/b/rootfs', joinNamespaces: 0x20000000 | 0x20000, mountNamespace: true };

const bytes = (rs: Rec[]) => Buffer.concat(rs.map(encode)).toString('hex');
const processPart = (rs: Rec[]) => rs.filter((r) => processTags.has(r.tag));
const restOf = (rs: Rec[]) => rs.filter((r) => !processTags.has(r.tag));
const values = (rs: Rec[], tag: number) => rs.filter((r) => r.tag === tag).map((r) => r.value);

test('the same process: create and exec give the same process records, byte for byte, and the same warnings', () => {
  const s = spec();
  const created = buildPlan(s, createOpts);
  const execd = buildExecPlan(s, s.process, execOpts);
  assert.ok(processPart(created.records).length > 30, 'the process part is there');
  assert.is(bytes(processPart(created.records)), bytes(processPart(execd.records)));
  assert.equal(created.warnings, execd.warnings);
  assert.ok(created.warnings.some((w) => w.includes('CAP_NOPE')));
  assert.equal(created.debug, execd.debug);
  assert.ok(created.debug.some((d) => d.includes('CAP_KILL') && d.includes('not raised')));
  // Every process record of exec's comes from the shared translation: what
  // is left is its framing.
  assert.equal(
    restOf(execd.records).map((r) => r.tag),
    [T.MODE, T.EXEC_NS],
  );
  // create's own records around the process: the fifo and the memory policy.
  const rest = new Set(restOf(created.records).map((r) => r.tag));
  assert.ok(rest.has(T.EXEC_FIFO) && rest.has(T.MEMPOLICY));
  assert.not.ok(restOf(execd.records).some((r) => r.tag === T.EXEC_FIFO || r.tag === T.MEMPOLICY));
});

test('the same process, with setgroups denied and no terminal, no keyring, no seccomp', () => {
  const s = spec((c) => {
    c.process.terminal = false;
    c.process.user.additionalGids = [];
    delete c.process.apparmorProfile;
  });
  const o = { setgroupsDeny: true, noNewKeyring: true, seccomp: undefined, preserveFds: 0 };
  const created = buildPlan(s, { ...createOpts, ...o });
  const execd = buildExecPlan(s, s.process, { ...execOpts, ...o });
  assert.is(bytes(processPart(created.records)), bytes(processPart(execd.records)));
  assert.equal(values(created.records, T.SETGROUPS_DENY), [true]);
  assert.equal(values(created.records, T.CONSOLE_WIDTH), []);
  assert.equal(values(created.records, T.NEW_KEYRING), []);
});

test("the translation itself: the init's and an exec's contexts differ only in their role", () => {
  const s = spec();
  const init = initProcessContext(s, { ...createOpts, listenFds: 0 });
  const exec = execProcessContext(s, execOpts);
  const { role: r1, ...i } = init;
  const { role: r2, ...e } = exec;
  assert.equal(i, e);
  assert.is(r1.kind, 'init');
  assert.is(r2.kind, 'exec');
  assert.is(bytes(processPlan(s.process, init).records), bytes(processPlan(s.process, exec).records));
});

test("execCPUAffinity is an exec'd process's alone; the rest of the process is the same", () => {
  const s = spec((c) => (c.process.execCPUAffinity = { initial: '0', final: '1' }));
  const created = buildPlan(s, createOpts);
  const execd = buildExecPlan(s, s.process, execOpts);
  const affinity = (rs: Rec[]) => rs.filter((r) => r.tag === T.CPU_AFFINITY_INITIAL || r.tag === T.CPU_AFFINITY_FINAL);
  assert.equal(affinity(created.records), [], 'runtime-spec: "not applicable to the container\'s init process"');
  assert.equal(
    affinity(execd.records).map((r) => [r.tag, Buffer.from(r.value as Uint8Array).readBigUInt64LE()]),
    [
      [T.CPU_AFFINITY_INITIAL, 1n],
      [T.CPU_AFFINITY_FINAL, 2n],
    ],
  );
  assert.is(bytes(processPart(created.records)), bytes(processPart(execd.records)));
  assert.equal(
    restOf(execd.records).map((r) => r.tag),
    [T.MODE, T.EXEC_NS, T.CPU_AFFINITY_INITIAL, T.CPU_AFFINITY_FINAL],
  );
});

test("socket activation is the init's alone: LISTEN_FDS in its environment and among its fds", () => {
  const s = spec((c) => c.process.env.push('LISTEN_FDS=9'));
  const created = buildPlan(s, { ...createOpts, listenFds: 2 });
  const env = values(created.records, T.ENV);
  // The caller's count wins over the config's, as the last value does.
  assert.equal(env.slice(-2), ['LISTEN_FDS=2', 'LISTEN_PID=1']);
  assert.is(env.filter((e) => String(e).startsWith('LISTEN_FDS=')).length, 1);
  assert.equal(values(created.records, T.PRESERVE_FDS), [4]);
  const execd = buildExecPlan(s, s.process, execOpts);
  assert.equal(values(execd.records, T.PRESERVE_FDS), [2]);
  assert.ok(values(execd.records, T.ENV).includes('LISTEN_FDS=9'));
  assert.not.ok(values(execd.records, T.ENV).includes('LISTEN_PID=1'));
});

test("what used to differ is now the same: environment, personality flags, execCPUAffinity's checks", () => {
  // The environment: duplicates removed, the last value kept, for the init too (runc's prepareEnv).
  const s = spec();
  assert.equal(values(buildPlan(s, createOpts).records, T.ENV), ['PATH=/bin', 'HOME=/root', 'A=2']);
  const refused = (edit: (c: any) => void, re: RegExp) => {
    const t = spec(edit);
    for (const build of [() => buildPlan(t, createOpts), () => buildExecPlan(t, t.process, execOpts)]) {
      assert.throws(build, (e: unknown) => e instanceof PlanError && re.test(e.message));
    }
  };
  refused((c) => (c.linux.personality.flags = ['ADDR_NO_RANDOMIZE']), /\/linux\/personality\/flags: personality flags are not supported/);
  // Not the init's, yet checked at create: config.json's lists are every exec's default.
  refused((c) => (c.process.execCPUAffinity = { initial: '0', final: '3-1' }), /\/process\/execCPUAffinity\/final: "3-1": the range 3-1 goes down/);
  refused(
    (c) => (c.process.execCPUAffinity = { initial: '0,2' }),
    /\/process\/execCPUAffinity\/initial: "0,2": CPU 2 is beyond this host's possible CPUs \(0-1\)/,
  );
  refused((c) => c.process.env.push('NOVALUE'), /\/process\/env\/4: invalid environment variable "NOVALUE": missing '='/);
  refused((c) => (c.process.cwd = 'srv'), /\/process\/cwd: must be an absolute path/);
  refused((c) => (c.process.rlimits[1].type = 'RLIMIT_NOFILE'), /\/process\/rlimits\/1\/type: RLIMIT_NOFILE given twice/);
  // setgroups(2) denied: additional gids are refused, never dropped.
  const t = spec();
  assert.throws(
    () => buildExecPlan(t, t.process, { ...execOpts, setgroupsDeny: true }),
    (e: unknown) => e instanceof PlanError && e.pointer === '/process/user/additionalGids',
  );
  assert.throws(
    () => buildPlan(t, { ...createOpts, setgroupsDeny: true }),
    (e: unknown) => e instanceof PlanError && e.pointer === '/process/user/additionalGids',
  );
});

test('one propagation table: mount options and rootfsPropagation', () => {
  for (const [name, flags] of Object.entries(PROPAGATION)) {
    assert.ok(KNOWN_MOUNT_OPTIONS.includes(name), name);
    assert.equal(parseMountOptions([name]).propagation, [flags]);
    const p = buildPlan(
      spec((c) => (c.linux.rootfsPropagation = name)),
      createOpts,
    );
    assert.equal(values(p.records, T.ROOTFS_FINAL_PROPAGATION), [flags]);
  }
  assert.is(PROPAGATION.rslave, MS.SLAVE | MS.REC);
});

test.run();
