// The container's init is reachable from inside the container's pid
// namespace, by `hako exec` processes and by a sibling container sharing
// it, from its clone to its execve: while it waits for `start` (issue 10:
// its fd 5 was the host's /proc, `hako exec c cat
// /proc/1/fd/5/sys/kernel/core_pattern` read the host's sysctl), and while
// it is still being set up, when its root is still the host's "/" and it
// holds the runtime's sync socket. The defence: the launcher is
// non-dumpable from main to execve (no ptrace, /proc/PID/fd, root, cwd,
// pidfd_getfd without CAP_SYS_PTRACE over the initial user namespace), and
// the waiting init holds nothing of the host (a procfs of the container's
// own instead of the host's /proc). The control: a dumpable process without
// capabilities in the same pid namespace holding the canary's directory,
// with the host's root, which the same probe does reach.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';

import { native } from '../../src/native.js';
import { Env, HAKO, isRoot, uniqueId } from '../helpers.js';
import { Canary, nsPid, probeResult, ptraceRestricted, standin, withProbe, type ProbeResult } from './lib.js';

const t = suite('init-fds');
const test = skippable(t, 'init-fds');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const PROC_SUPER_MAGIC = 0x9fa0;

function attack(id: string, nspid: number, canary: Canary): ProbeResult {
  const r = env.hako(['exec', id, '/probe', 'attack', String(nspid), 'secret', canary.file]);
  assert.is(r.status, 0, r.stderr);
  return probeResult(r.stdout);
}

/** What the control must show: the probe reaches a dumpable process's fds and root. */
function assertControl(r: ProbeResult, canary: Canary): void {
  const secret = canary.content.trim();
  assert.ok(
    r.ok.some((l) => l.startsWith('fdpath 7 ok') && l.includes(secret)),
    `control: /proc/PID/fd/7/secret read\n${r.out}`,
  );
  assert.ok(
    r.ok.some((l) => l.startsWith('root ok') && l.includes(secret)),
    `control: /proc/PID/root/<canary> read\n${r.out}`,
  );
  if (ptraceRestricted()) {
    console.log('  (init-fds: Yama ptrace_scope > 0: the ptrace and pidfd_getfd controls cannot succeed, not asserted)');
    return;
  }
  assert.ok(r.ok.includes('ptrace ok'), `control: ptrace\n${r.out}`);
  assert.ok(
    r.ok.some((l) => l.startsWith('getfd 7 ok') && l.includes(secret)),
    `control: pidfd_getfd of the directory\n${r.out}`,
  );
  assert.ok(
    r.ok.some((l) => /^getfd 8 ok socket:/.test(l)),
    `control: pidfd_getfd of the socket\n${r.out}`,
  );
}

/** The defence: nothing of the probe succeeded, and the canary never showed. */
function assertDefended(r: ProbeResult, canary: Canary, what: string): void {
  assert.equal(r.ok, [], `${what}: the probe got through\n${r.out}`);
  assert.not.ok(r.out.includes(canary.content.trim()), `${what}: the canary leaked`);
  assert.match(r.out, /^ptrace EPERM$/m);
  assert.match(r.out, /^getfd \* EPERM$/m);
  assert.match(r.out, /^root EACCES$/m);
}

/** Seen from the host: the waiting init holds, beyond stdio, its exec.fifo and a pid-only procfs of its own, nothing else. */
function assertHoldsOnlyFifoAndProcfs(id: string, pid: number): void {
  const fifo = statSync(path.join(env.root, id, 'exec.fifo'));
  const hostProc = statSync('/proc');
  const held = readdirSync(`/proc/${pid}/fd`)
    .map(Number)
    .filter((n) => n > 2);
  const kinds = held.map((n) => {
    const f = `/proc/${pid}/fd/${n}`;
    const s = statSync(f);
    if (s.isFIFO()) {
      assert.is(s.ino, fifo.ino, `fd ${n}: a fifo, not exec.fifo (${readlinkSync(f)})`);
      return 'fifo';
    }
    assert.is(statfsSync(f).type, PROC_SUPER_MAGIC, `fd ${n}: neither exec.fifo nor a procfs (${readlinkSync(f)})`);
    assert.is.not(s.dev, hostProc.dev, `fd ${n}: the host's /proc`);
    const names = readdirSync(f);
    assert.not.ok(names.includes('sys'), `fd ${n}: a procfs with sys/`);
    assert.not.ok(names.includes(String(process.pid)), `fd ${n}: a procfs of the host's pid namespace`);
    assert.ok(names.includes('1'), `fd ${n}: the container's pid 1 missing`);
    return 'procfs';
  });
  assert.equal(kinds.sort(), ['fifo', 'procfs']);
}

test('the waiting init: no ptrace, /proc/1/fd, root or pidfd_getfd from `hako exec`; it holds only stdio, exec.fifo and a pid-only procfs of its own', async () => {
  if (!isRoot) skip('needs root');
  const canary = new Canary(env, 'init');
  const b = env.bundle((c) => (c.process.args = ['sleep', '600']));
  withProbe(b);
  const id = uniqueId('init');
  let r = env.hako(['create', '--bundle', b, id]);
  assert.is(r.status, 0, r.stderr);
  const st = { pid: JSON.parse(env.hako(['state', id]).stdout).pid as number, ctl: { nspid: 0, stop: () => {} } };
  try {
    st.ctl = await standin(st.pid, canary.dir);
    // The issue's reproduction, read-only: the host's sysctls through
    // whatever the init holds.
    r = env.hako(['exec', id, 'sh', '-c', 'for f in /proc/1/fd/*; do cat $f/sys/kernel/core_pattern; done; ls -l /proc/1/fd/ /proc/1/root/ 2>&1; true']);
    assert.is(r.status, 0, r.stderr);
    assert.not.match(
      r.stdout,
      new RegExp(
        `^${readFileSync('/proc/sys/kernel/core_pattern', 'utf8')
          .trim()
          .replace(/[|\\^$.*+?()[\]{}]/g, '\\$&')}$`,
        'm',
      ),
      'core_pattern read',
    );
    assert.not.match(r.stdout, / -> /, `fd links shown:\n${r.stdout}`);

    assertDefended(attack(id, 1, canary), canary, 'the waiting init');
    assertControl(attack(id, st.ctl.nspid, canary), canary);

    assertHoldsOnlyFifoAndProcfs(id, st.pid);
  } finally {
    st.ctl.stop();
    env.hako(['delete', '--force', id]);
  }
  assert.ok(canary.intact());
});

test('a sibling sharing the pid namespace: an init being created (root still the host\'s "/", the sync socket held) is out of its reach', async () => {
  if (!isRoot) skip('needs root');
  const canary = new Canary(env, 'sibling');
  const a = env.bundle((c) => (c.process.args = ['sleep', '600']));
  withProbe(a);
  const idA = uniqueId('a');
  const r = env.hako(['run', '-d', '--bundle', a, idA]);
  assert.is(r.status, 0, r.stderr);
  const pidA = JSON.parse(env.hako(['state', idA]).stdout).pid as number;

  // B joins A's pid namespace, with a user namespace of its own: root of
  // the initial user namespace (A's root, capabilities or not) holds every
  // capability in a user namespace root made, so only dumpability stands
  // between A and B's init. (A pid namespace B's user namespace does not
  // own: no procfs of its own for B.) Its prestart hook (run by the
  // runtime while B's init waits for MSG_GO) says where B's init is and
  // waits for us.
  const reached = path.join(env.dir, 'reached.json');
  const release = path.join(env.dir, 'release.fifo');
  native().mkfifo(release, 0o600);
  const b = env.bundle((c) => {
    c.process.args = ['true'];
    c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${pidA}/ns/pid` } : n));
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.mounts = c.mounts.filter((m: any) => m.destination !== '/proc');
    c.linux.maskedPaths = [];
    c.linux.readonlyPaths = [];
    c.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${reached}.tmp && mv ${reached}.tmp ${reached} && read x < ${release}`] }] };
  });
  const idB = uniqueId('b');
  const out = openSync(path.join(env.dir, `${idB}.out`), 'w');
  const create = spawn(HAKO, ['--root', env.root, 'create', '--bundle', b, idB], { stdio: ['ignore', out, out] });
  const exited = once(create, 'exit');
  closeSync(out);
  // Only once the hook waits on the fifo: opening it for writing blocks
  // until then.
  let initB = 0;
  let released = false;
  const releaseB = () => {
    if (released || !initB) return;
    released = true;
    writeFileSync(release, 'go\n');
  };
  let ctl = { nspid: 0, stop: () => {} };
  try {
    ctl = await standin(pidA, canary.dir);
    for (let i = 0; i < 2000 && !initB; i++) {
      try {
        initB = JSON.parse(readFileSync(reached, 'utf8')).pid;
      } catch {
        if (create.exitCode !== null) break;
        await new Promise((res) => setTimeout(res, 10));
      }
    }
    assert.ok(initB > 0, `the prestart hook was not reached: ${readFileSync(path.join(env.dir, `${idB}.out`), 'utf8')}`);
    // Mid-create: B's init is in A's pid namespace with the host's root.
    assert.is(readlinkSync(`/proc/${initB}/ns/pid`), readlinkSync(`/proc/${pidA}/ns/pid`));
    assert.is(readlinkSync(`/proc/${initB}/root`), '/');

    assertDefended(attack(idA, nsPid(initB), canary), canary, "B's init mid-create");
    assertControl(attack(idA, ctl.nspid, canary), canary);

    releaseB();
    const [code] = (await exited) as [number | null];
    assert.is(code, 0, readFileSync(path.join(env.dir, `${idB}.out`), 'utf8'));
  } finally {
    ctl.stop();
    if (create.exitCode === null) {
      if (initB) releaseB();
      else create.kill('SIGKILL');
      await exited;
    }
    env.hako(['delete', '--force', idB]);
    env.hako(['delete', '--force', idA]);
  }
  assert.ok(canary.intact());
});

// A new user namespace with bind sources only host root reaches: the
// launcher staged them (addon/launcher/bindsrc.c) and the init took them
// from a directory it held during the mounts. Waiting for start, it holds
// none of it; its working directory and root are the container's.
t('user namespace, bind sources staged by the launcher: the waiting init holds nothing of the staging', () => {
  if (!isRoot) return;
  const hidden = path.join(env.dir, uniqueId('hidden'));
  mkdirSync(path.join(hidden, 'vol'), { recursive: true });
  writeFileSync(path.join(hidden, 'vol', 'f'), 'x\n');
  chmodSync(hidden, 0o700);
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '600'];
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.mounts.push({ destination: '/v', type: 'bind', source: path.join(hidden, 'vol'), options: ['bind'] });
    c.mounts.push({ destination: '/w', type: 'bind', source: path.join(hidden, 'vol'), options: ['rbind', 'ro'] });
  });
  mkdirSync(path.join(b, 'rootfs', 'v'));
  mkdirSync(path.join(b, 'rootfs', 'w'));
  const id = uniqueId('staged');
  const r = env.hako(['--debug', 'create', '--bundle', b, id]);
  assert.is(r.status, 0, r.stderr);
  try {
    assert.match(r.stderr, /out of the user namespace's reach/);
    const pid = JSON.parse(env.hako(['state', id]).stdout).pid as number;
    assertHoldsOnlyFifoAndProcfs(id, pid);
    assert.is(readlinkSync(`/proc/${pid}/cwd`), '/');
    assert.is(readlinkSync(`/proc/${pid}/root`), '/');
    const mi = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
    assert.not.match(mi, /mode=711/, `the staging tmpfs is in the container's mount table:\n${mi}`);
    assert.not.match(mi, new RegExp(`${env.root}`), `the state directory is in the container's mount table:\n${mi}`);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t.run();
