import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildExecPlan, dedupEnv, ExecRequestError, processFromDocument, processFromFlags } from '../../src/launch/exec-plan.js';
import { T } from '../../src/launch/plan-tags.js';
import { CLONE } from '../../src/launch/linux-consts.js';
import type { Rec } from '../../src/launch/tlv.js';
import { filterPsOutput } from '../../src/container/ps.js';
import { checkTerminal } from '../../src/container/terminal.js';

function spec(edit?: (c: any) => void): any {
  const c: any = {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: {
      terminal: true,
      consoleSize: { height: 20, width: 70 },
      args: ['sleep', '1000'],
      cwd: '/srv',
      env: ['PATH=/bin', 'HOME=/root', 'A=1'],
      user: { uid: 5, gid: 6, additionalGids: [7] },
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 20 }],
      noNewPrivileges: true,
    },
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] },
  };
  edit?.(c);
  return c;
}
const all = (rs: Rec[], tag: number) => rs.filter((r) => r.tag === tag).map((r) => r.value);
const one = (rs: Rec[], tag: number) => rs.find((r) => r.tag === tag)?.value;
const opts = { id: 'c1', rootfs: '/b/rootfs', joinNamespaces: CLONE.NEWPID | CLONE.NEWNS, mountNamespace: true };

test("exec's process: the container's, with args replaced and never its terminal", () => {
  const p = processFromFlags(spec(), { args: ['sh', '-c', 'x'] });
  assert.equal(p.args, ['sh', '-c', 'x']);
  assert.is(p.cwd, '/srv');
  assert.equal(p.user, { uid: 5, gid: 6, additionalGids: [7] });
  assert.is(p.terminal, false);
  assert.is(p.noNewPrivileges, true);
  assert.is(processFromFlags(spec(), { args: ['sh'], tty: true }).terminal, true);
  // The spec itself is left alone.
  const s = spec();
  processFromFlags(s, { args: ['x'], env: ['B=2'], caps: ['CAP_CHOWN'], user: '1' });
  assert.equal(s.process.env, ['PATH=/bin', 'HOME=/root', 'A=1']);
  assert.equal(s.process.capabilities.bounding, ['CAP_KILL']);
  assert.is(s.process.user.uid, 5);
});

test('exec flags: cwd, env, user, additional gids, caps, no-new-privs, as runc applies them', () => {
  const p = processFromFlags(spec(), {
    args: ['id'],
    cwd: '/tmp',
    env: ['A=2', 'B=3'],
    user: '1000:1001',
    additionalGids: [20, 30],
    caps: ['CAP_SYS_ADMIN'],
    noNewPrivs: false,
  });
  assert.is(p.cwd, '/tmp');
  assert.equal(p.env, ['PATH=/bin', 'HOME=/root', 'A=1', 'A=2', 'B=3']);
  assert.equal(p.user, { uid: 1000, gid: 1001, additionalGids: [7, 20, 30] });
  assert.equal(p.capabilities!.bounding, ['CAP_KILL', 'CAP_SYS_ADMIN']);
  assert.equal(p.capabilities!.permitted, ['CAP_KILL', 'CAP_SYS_ADMIN']);
  // No inheritable set in the container: --cap does not make ambient ones.
  assert.is(p.capabilities!.ambient, undefined);
  assert.is(p.noNewPrivileges, false);
  const withInh = processFromFlags(
    spec((c) => (c.process.capabilities.inheritable = [])),
    { args: ['id'], caps: ['CAP_CHOWN'] },
  );
  assert.equal(withInh.capabilities!.ambient, ['CAP_CHOWN']);
  assert.is(processFromFlags(spec(), { args: ['id'], user: '42' }).user!.gid, 6, 'uid alone keeps the gid');
});

test('exec flags: the errors runc gives', () => {
  const err = (f: any, re: RegExp) =>
    assert.throws(
      () => processFromFlags(spec(), { args: ['x'], ...f }),
      (e: unknown) => e instanceof ExecRequestError && re.test((e as Error).message),
    );
  assert.throws(() => processFromFlags(spec(), { args: [] }), /exec args cannot be empty/);
  err({ user: 'root' }, /^bad uid: strconv.Atoi: parsing "root": invalid syntax$/);
  err({ user: '1:x' }, /^bad gid/);
  err({ additionalGids: [-1] }, /additional-gids must be a positive number -1/);
  err({ cwd: 'rel' }, /Cwd must be an absolute path/);
  err({ processLabel: 'system_u:system_r:container_t:s0' }, /selinux label is specified in config, but selinux is disabled/);
  assert.not.throws(() => processFromFlags(spec(), { args: ['x'], processLabel: 'l' }, { selinuxEnabled: true }));
});

test('process.json: validated as a whole process', () => {
  const p = processFromDocument({ args: ['true'], cwd: '/', user: { uid: 1, gid: 2 } });
  assert.equal(p.args, ['true']);
  assert.throws(() => processFromDocument({ args: ['true'] }), /cwd/);
  assert.throws(() => processFromDocument({ args: ['true'], cwd: 'x' }), /process\.json: \/cwd: must be an absolute path/);
  assert.throws(() => processFromDocument({ args: [], cwd: '/' }), /process\.json: \/args/);
});

test('environment: duplicates removed, the last value wins, in order', () => {
  assert.equal(dedupEnv(['A=1', 'B=2', 'A=3', 'C=', 'B=4']), ['A=3', 'C=', 'B=4']);
  assert.throws(() => dedupEnv(['NOVALUE']), /missing '='/);
  assert.throws(() => dedupEnv(['=x']), /name cannot be empty/);
});

test('exec plan: mode 2, namespaces to join, the process, terminal size, keyring', () => {
  const s = spec();
  const proc = processFromFlags(s, { args: ['sh'], tty: true, env: ['A=9'] });
  const { records } = buildExecPlan(s, proc, { ...opts, preserveFds: 2 });
  assert.is(one(records, T.MODE), 2);
  assert.is(one(records, T.EXEC_NS), CLONE.NEWPID | CLONE.NEWNS);
  assert.is(one(records, T.ROOT_CHROOT), undefined);
  assert.equal(all(records, T.ARG), ['sh']);
  assert.equal(all(records, T.ENV), ['PATH=/bin', 'HOME=/root', 'A=9']);
  assert.is(one(records, T.CWD), '/srv');
  assert.is(one(records, T.UID), 5);
  assert.equal(all(records, T.ADDITIONAL_GID), [7]);
  assert.is(one(records, T.CAP_BOUNDING), 1n << 5n);
  assert.is(one(records, T.NO_NEW_PRIVS), true);
  assert.is(one(records, T.PRESERVE_FDS), 2);
  assert.is(one(records, T.CONSOLE_WIDTH), 70);
  assert.is(one(records, T.CONSOLE_HEIGHT), 20);
  assert.is(one(records, T.KEYRING_NAME), '_ses.c1');
  assert.is(one(records, T.SETSID), true);
  assert.equal(all(records, T.RLIMIT).length, 1);
  // Container-setup tags never appear: the launcher refuses them in exec mode.
  for (const tag of [T.ROOTFS, T.MOUNT, T.EXEC_FIFO, T.NS_NEW, T.NS_JOIN, T.HOSTNAME]) assert.is(one(records, tag), undefined);
  // The fds are the launcher session's to add.
  assert.is(one(records, T.CONSOLE_FD), undefined);
  assert.is(one(records, T.EXEC_PIDFD), undefined);
});

test('exec plan: no terminal size without a terminal, --no-new-keyring, no mount namespace, seccomp', () => {
  const s = spec((c) => (c.linux.namespaces = [{ type: 'pid' }]));
  const proc = processFromFlags(s, { args: ['true'] });
  const bpf = new Uint8Array(8);
  const { records } = buildExecPlan(s, proc, { ...opts, joinNamespaces: CLONE.NEWPID, mountNamespace: false, noNewKeyring: true, seccomp: { bpf, flags: 4 } });
  assert.is(one(records, T.CONSOLE_WIDTH), undefined);
  assert.is(one(records, T.NEW_KEYRING), undefined);
  assert.is(one(records, T.ROOT_CHROOT), true);
  assert.is(one(records, T.ROOTFS), '/b/rootfs');
  assert.is(one(records, T.SECCOMP_BPF), bpf);
  assert.is(one(records, T.SECCOMP_FLAGS), 4);
  // Nothing to join: no EXEC_NS at all.
  assert.is(one(buildExecPlan(s, proc, { ...opts, joinNamespaces: 0 }).records, T.EXEC_NS), undefined);
});

// docker exec --privileged asks for every capability; a host whose
// bounding set lacks some (no CAP_SYS_RESOURCE here) must not fail the exec
// on capset, as create does not fail on them either.
test("exec plan: capabilities outside hako's bounding set are left out with a warning", () => {
  const s = spec((c) => {
    c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_SYS_RESOURCE'], effective: ['CAP_SYS_RESOURCE'], permitted: ['CAP_KILL', 'CAP_SYS_RESOURCE'] };
  });
  const hostCapBnd = ~(1n << 24n); // everything but CAP_SYS_RESOURCE
  const { records, warnings } = buildExecPlan(s, s.process, { ...opts, hostCapBnd });
  assert.is(one(records, T.CAP_BOUNDING), 1n << 5n);
  assert.is(one(records, T.CAP_PERMITTED), 1n << 5n);
  assert.is(one(records, T.CAP_EFFECTIVE), 0n);
  assert.equal(
    [...warnings].sort(),
    ['bounding', 'effective', 'permitted'].map(
      (set) => `/process/capabilities/${set}: CAP_SYS_RESOURCE cannot be granted here (not in hako's bounding set), left out`,
    ),
  );
  // Without a known bounding set everything asked for is passed on.
  assert.is(one(buildExecPlan(s, s.process, opts).records, T.CAP_BOUNDING), (1n << 5n) | (1n << 24n));
});

test("terminal checks: runc's two rules", () => {
  assert.throws(() => checkTerminal(true, true, undefined), /cannot allocate tty if hako will detach without setting console socket/);
  assert.throws(() => checkTerminal(false, true, '/s'), /cannot use console socket if hako will not detach or allocate tty/);
  assert.throws(() => checkTerminal(true, false, '/s'), /cannot use console socket/);
  assert.not.throws(() => checkTerminal(true, true, '/s'));
  assert.not.throws(() => checkTerminal(true, false, undefined));
  assert.not.throws(() => checkTerminal(false, false, undefined));
});

test('ps table filtering: header and the rows of the given pids', () => {
  const out =
    'UID          PID    PPID  C STIME TTY          TIME CMD\nroot           1       0  0 10:00 ?        00:00:01 /sbin/init\nroot         123       1  0 10:00 ?        00:00:00 sleep 1000\n\n';
  assert.is(
    filterPsOutput(out, [123]),
    'UID          PID    PPID  C STIME TTY          TIME CMD\nroot         123       1  0 10:00 ?        00:00:00 sleep 1000\n',
  );
  assert.throws(() => filterPsOutput('COMMAND\nsleep\n', [1]), /couldn't find PID field/);
  assert.throws(() => filterPsOutput('PID\nabc\n', [1]), /unable to parse pid/);
});

test.run();
