// SCMP_ACT_NOTIFY with real containers: the listener of each process (the
// init at create, every exec'd process) reaches the agent at listenerPath
// with the container process state, and the agent's answers are what the
// container sees. The agent (test/seccomp-agent.ts) lives in this process and
// answers as each listener's metadata says, so the metadata's arrival is
// observed from inside too.
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';

import { readLayout } from '../../src/cgroups/host.js';
import type { LinuxSeccomp } from '../../src/spec/types.js';
import { Env, uniqueId } from '../helpers.js';
import { hakoAsync, TestAgent } from '../seccomp-agent.js';

const t = suite('seccomp-notify');
const test = skippable(t, 'seccomp-notify');
let env: Env;
let enabled = false;
t.before(() => {
  env = new Env();
  try {
    enabled = JSON.parse(env.hako(['features']).stdout).linux?.seccomp?.actions?.includes('SCMP_ACT_NOTIFY') === true;
  } catch {
    enabled = false;
  }
});
t.after(() => env.cleanup());

const MKDIR = ['mkdir', 'mkdirat'];
// x86_64 numbers, for what the agent saw.
const X64 = process.arch === 'x64';
const NR = { mkdir: 83, mkdirat: 258, wait4: 61, sendto: 44, write: 1 };

function notifying(listenerPath: string, metadata: string | undefined, names = MKDIR): LinuxSeccomp {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    listenerPath,
    ...(metadata === undefined ? {} : { listenerMetadata: metadata }),
    syscalls: [{ names, action: 'SCMP_ACT_NOTIFY' }],
  };
}

let agents = 0;
async function withAgent(body: (agent: TestAgent, listenerPath: string) => Promise<void>): Promise<void> {
  const listenerPath = path.join(env.dir, `agent-${++agents}.sock`);
  const agent = await TestAgent.start(listenerPath);
  try {
    await body(agent, listenerPath);
  } finally {
    await agent.stop();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForFile(file: string, timeoutMs = 20_000): Promise<string> {
  for (const end = Date.now() + timeoutMs; !existsSync(file); await sleep(10)) {
    if (Date.now() > end) throw new Error(`${file} did not appear`);
  }
  await sleep(20); // written by one echo: give it time to be whole
  return readFileSync(file, 'utf8');
}

for (const nnp of [true, false]) {
  // With no_new_privs the launcher loads the filter just before it reports
  // ready; without, early, and the rest of the setup runs under it.
  const how = nnp ? 'with no_new_privs' : 'without no_new_privs';

  test(`run ${how}: the agent's errno is what mkdir returns inside, CONTINUE makes the directory`, async () => {
    if (!enabled) skip('`hako features` does not report SCMP_ACT_NOTIFY');
    await withAgent(async (agent, listenerPath) => {
      const script = 'mkdir /x; echo "status=$?"; if test -d /x; then echo exists; fi';
      for (const [metadata, stdout] of [
        ['errno=13', 'status=1\n'],
        ['continue', 'status=0\nexists\n'],
      ] as const) {
        const id = uniqueId('c');
        const b = env.bundle((c) => {
          c.root.readonly = false;
          c.process.args = ['sh', '-c', script];
          c.process.noNewPrivileges = nnp;
          c.linux.seccomp = notifying(listenerPath, metadata);
        });
        const r = await hakoAsync(env, ['run', '--bundle', b, id]);
        assert.is(r.status, 0, r.stderr);
        assert.is(r.stdout, stdout, r.stderr);
        if (metadata === 'errno=13') assert.match(r.stderr, /mkdir: can't create directory '\/x': Permission denied/);

        const got = agent.received.at(-1)!;
        assert.is(got.fdKind, 'anon_inode:seccomp notify');
        const s = got.state;
        assert.equal(s.fds, ['seccompFd']);
        assert.is(s.metadata, metadata);
        assert.is(s.ociVersion, '1.3.0');
        assert.ok(s.pid > 0);
        // runc's State: the runtime-spec fields only, status "creating" and
        // the init's pid as the runtime sees it.
        assert.equal(s.state, { ociVersion: '1.3.0', id, status: 'creating', pid: s.pid, bundle: b, annotations: { 'org.hako.example': 'busybox demo' } });
      }
      assert.is(agent.received.length, 2);
      if (X64)
        assert.ok(
          agent.notifications.every((n) => n.nr === NR.mkdir || n.nr === NR.mkdirat),
          JSON.stringify(agent.notifications),
        );
      assert.equal([...new Set(agent.notifications.map((n) => n.answer))], ['errno=13', 'continue']);
    });
  });

  test(`create, start, exec ${how}: each process hands its own listener over, and the init's works after create has gone`, async () => {
    if (!enabled) skip('`hako features` does not report SCMP_ACT_NOTIFY');
    await withAgent(async (agent, listenerPath) => {
      const id = uniqueId('c');
      const b = env.bundle((c) => {
        c.root.readonly = false;
        c.process.args = ['sh', '-c', 'mkdir /from-init 2>/dev/null; echo "init: $?" > /init-status; exec sleep 100'];
        c.process.noNewPrivileges = nnp;
        c.annotations = { 'org.hako.test': 'notify' };
        c.linux.seccomp = notifying(listenerPath, 'errno=1');
      });
      const pidFile = path.join(env.dir, `${id}.pid`);
      const created = await hakoAsync(env, ['create', '--bundle', b, '--pid-file', pidFile, id]);
      assert.is(created.status, 0, created.stderr);
      try {
        const initPid = Number(readFileSync(pidFile, 'utf8'));
        assert.is(agent.received.length, 1, 'the listener came during create');
        const init = agent.received[0]!.state;
        assert.is(init.pid, initPid);
        assert.equal(init.state, { ociVersion: '1.3.0', id, status: 'creating', pid: initPid, bundle: b, annotations: { 'org.hako.test': 'notify' } });
        assert.is(agent.notifications.length, 0, 'nothing notified before start');

        const started = await hakoAsync(env, ['start', id]);
        assert.is(started.status, 0, started.stderr);
        // The agent answered the init's mkdir: observed from the host side of the rootfs.
        assert.is(await waitForFile(path.join(b, 'rootfs/init-status')), 'init: 1\n');
        assert.not.ok(existsSync(path.join(b, 'rootfs/from-init')));

        const execPidFile = path.join(env.dir, `${id}.exec.pid`);
        // Neither the init nor the exec'd process holds a listener: the launcher's helper closed them.
        const script = 'mkdir /from-exec; echo "exec: $?"; n=$(ls -l /proc/1/fd/ /proc/self/fd/ | grep -c "seccomp notify"); echo "listeners: $n"';
        const r = await hakoAsync(env, ['exec', '--pid-file', execPidFile, id, 'sh', '-c', script]);
        assert.is(r.status, 0, r.stderr);
        assert.is(r.stdout, 'exec: 1\nlisteners: 0\n');
        assert.match(r.stderr, /Operation not permitted/);
        assert.is(agent.received.length, 2, 'the exec process sent its own listener');
        const ex = agent.received[1]!.state;
        assert.is(agent.received[1]!.fdKind, 'anon_inode:seccomp notify');
        assert.is(ex.pid, Number(readFileSync(execPidFile, 'utf8')));
        assert.is.not(ex.pid, initPid);
        assert.is(ex.metadata, 'errno=1');
        assert.equal(ex.state, { ociVersion: '1.3.0', id, status: 'running', pid: initPid, bundle: b, annotations: { 'org.hako.test': 'notify' } });
        assert.ok(new Set(agent.notifications.map((n) => n.pid)).size >= 2, 'notifications from the init and from the exec process');
      } finally {
        env.hako(['delete', '--force', id]);
      }
    });
  });

  test(`the handover cannot deadlock ${how}: NOTIFY on the syscalls the launcher makes after the load`, async () => {
    if (!enabled) skip('`hako features` does not report SCMP_ACT_NOTIFY');
    // What the helper, the wait for it, the report to the runtime, the fifo
    // and the execve use: each waits for the agent, which has the listener
    // by then and lets it run.
    const names = [
      'write',
      'writev',
      'sendto',
      'sendmsg',
      'read',
      'recvfrom',
      'wait4',
      'waitid',
      'close',
      'munmap',
      'nanosleep',
      'clock_nanosleep',
      'openat',
      'fcntl',
      'close_range',
      'rt_sigaction',
      'execve',
      'getppid',
      'prctl',
      'capset',
      'setresuid',
      'setresgid',
      'setgroups',
      'faccessat',
      'newfstatat',
      'getcwd',
      'chdir',
      'umask',
      'exit_group',
    ];
    await withAgent(async (agent, listenerPath) => {
      const b = env.bundle((c) => {
        c.process.args = ['echo', 'hello'];
        c.process.noNewPrivileges = nnp;
        c.linux.seccomp = notifying(listenerPath, 'continue', names);
      });
      const r = await hakoAsync(env, ['run', '--bundle', b, uniqueId('c')]);
      assert.is(r.status, 0, r.stderr);
      assert.is(r.stdout, 'hello\n');
      if (X64) {
        const seen = new Set(agent.notifications.map((n) => n.nr));
        for (const nr of [NR.wait4, NR.sendto, NR.write]) assert.ok(seen.has(nr), `syscall ${nr} was notified: ${[...seen].join(' ')}`);
      }
    });
  });
}

/** Processes whose root directory is inside `dir`. */
function processesUnder(dir: string): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return readlinkSync(`/proc/${n}/root`).startsWith(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The processes in the pid namespace of `pid`. */
function processesInPidNs(pid: number): number[] {
  const ns = readlinkSync(`/proc/${pid}/ns/pid`);
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        return readlinkSync(`/proc/${n}/ns/pid`) === ns;
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('an unreachable agent fails create in one line naming the container and the path, and leaves nothing behind', async () => {
  if (!enabled) skip('`hako features` does not report SCMP_ACT_NOTIFY');
  const id = uniqueId('c');
  const cgroupsPath = `/hako-notify-test-${process.pid}/${id}`;
  const listenerPath = path.join(env.dir, 'nobody.sock');
  const b = env.bundle((c) => {
    c.linux.cgroupsPath = cgroupsPath;
    c.linux.seccomp = notifying(listenerPath, 'continue');
  });
  const pidFile = path.join(env.dir, `${id}.pid`);
  const r = await hakoAsync(env, ['create', '--bundle', b, '--pid-file', pidFile, id]);
  assert.is(r.status, 1, r.stderr);
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, `container "${id}": cannot connect to the seccomp agent at ${listenerPath}: ENOENT: no such file or directory`);
  assert.not.ok(existsSync(path.join(env.root, id)), 'no state directory');
  assert.not.ok(existsSync(pidFile), 'no pid file');
  assert.equal(processesUnder(b), [], 'no process');
  assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), b, 'no mount');
  for (const h of readLayout().hierarchies) {
    assert.not.ok(existsSync(path.join(h.mountpoint, cgroupsPath)), `no cgroup in ${h.mountpoint}`);
    assert.not.ok(existsSync(path.join(h.mountpoint, path.dirname(cgroupsPath))), `no parent cgroup in ${h.mountpoint}`);
  }
});

test('an agent gone by exec time fails the exec in one line, and its process with it', async () => {
  if (!enabled) skip('`hako features` does not report SCMP_ACT_NOTIFY');
  const id = uniqueId('c');
  const listenerPath = path.join(env.dir, 'short-lived.sock');
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '100'];
    c.linux.seccomp = notifying(listenerPath, 'continue');
  });
  const agent = await TestAgent.start(listenerPath);
  try {
    const r = await hakoAsync(env, ['run', '-d', '--bundle', b, id]);
    assert.is(r.status, 0, r.stderr);
  } finally {
    // Node removes the socket file when it stops listening.
    await agent.stop();
  }
  try {
    // Nothing of the exec'd command runs, even though it notifies on nothing it calls.
    const r = await hakoAsync(env, ['exec', id, 'sh', '-c', 'echo never']);
    // runc's status for an exec that failed to start.
    assert.is(r.status, 255, r.stderr);
    assert.is(r.stdout, '');
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, `exec failed: container "${id}": cannot connect to the seccomp agent at ${listenerPath}: ENOENT`);
    const init = JSON.parse(env.hako(['state', id]).stdout).pid as number;
    assert.equal(processesInPidNs(init), [init], 'only the init is left');
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t.run();
