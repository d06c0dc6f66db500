// exec into running containers, observed from inside the exec'd process:
// its output and status, identity, namespaces, root; detach with a pid file;
// process.json; the failures callers match on.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CAPS } from '../../src/launch/linux-consts.js';
import { WITH_CTTY } from '../ctty.js';
import { Env, HAKO, isRoot, uniqueId } from '../helpers.js';

const t = suite('exec');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// capability(7) numbering: the names in the order of their bits.
const CAP_NAMES = Object.entries(CAPS)
  .sort((x, y) => x[1] - y[1])
  .map(([name]) => name);

/** A detached container running `sleep 1000` (or `args`); returns its id and init pid. */
function running(edit?: (c: any) => void): { id: string; pid: number; bundle: string } {
  const bundle = env.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    edit?.(c);
  });
  const id = uniqueId('ex');
  // The detached container keeps whatever stdio it gets: not the test's files.
  const r = env.hako(['run', '-d', '--bundle', bundle, id], { stdio: 'ignore' });
  assert.is(r.status, 0, 'run -d');
  const pid = JSON.parse(env.hako(['state', id]).stdout).pid;
  return { id, pid, bundle };
}

t('output, stderr and exit status of the process', () => {
  const { id } = running();
  try {
    const r = env.hako(['exec', id, 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.is(r.status, 7);
    assert.is(r.stdout, 'out\n');
    assert.is(r.stderr, 'err\n');
    assert.is(env.hako(['exec', id, 'true']).status, 0);
    // Not the pid namespace's init: a signal kills it, and we say so as a shell would.
    assert.is(env.hako(['exec', id, 'sh', '-c', 'kill -9 $$']).status, 137);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t("the container's process settings by default: user, cwd, env, capabilities, no_new_privs", () => {
  const { id } = running((c) => {
    c.process.user = { uid: 1000, gid: 1000, additionalGids: [10] };
    c.process.cwd = '/tmp';
    c.process.env.push('FROM_CONFIG=yes');
  });
  try {
    const r = env.hako(['exec', id, 'sh', '-c', 'id; pwd; echo "$FROM_CONFIG"; grep -E "^(CapBnd|NoNewPrivs)" /proc/self/status']);
    assert.is(r.status, 0, r.stderr);
    const [who, cwd, fromConfig, bnd, nnp] = r.stdout.trim().split('\n');
    assert.match(who!, /^uid=1000 gid=1000 groups=10/);
    assert.is(cwd, '/tmp');
    assert.is(fromConfig, 'yes');
    // CAP_AUDIT_WRITE(29), CAP_KILL(5), CAP_NET_BIND_SERVICE(10) from the busybox config.
    assert.match(bnd!, new RegExp(`CapBnd:\\s+${((1 << 29) | (1 << 5) | (1 << 10)).toString(16).padStart(16, '0')}`));
    assert.match(nnp!, /NoNewPrivs:\s+1/);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t('--env, --cwd, --user, --additional-gids, --cap override', () => {
  const { id } = running();
  try {
    const r = env.hako([
      'exec',
      '--env',
      'FOO=bar',
      '--env',
      'HOME=/elsewhere',
      '--cwd',
      '/etc',
      '--user',
      '1000:1001',
      '-g',
      '20',
      '-g',
      '30',
      '--cap',
      'CAP_SYS_ADMIN',
      id,
      'sh',
      '-c',
      'id; pwd; echo "$FOO"; env | grep -c ^HOME=; echo "$HOME"; grep ^CapBnd /proc/self/status',
    ]);
    assert.is(r.status, 0, r.stderr);
    const [who, cwd, foo, homes, home, bnd] = r.stdout.trim().split('\n');
    assert.match(who!, /^uid=1000 gid=1001 groups=20,30/);
    assert.is(cwd, '/etc');
    assert.is(foo, 'bar');
    assert.is(homes, '1', 'an overridden variable appears once');
    assert.is(home, '/elsewhere');
    const mask = BigInt('0x' + /CapBnd:\s+([0-9a-f]+)/.exec(bnd!)![1]);
    assert.is(mask & (1n << 21n), 1n << 21n, 'CAP_SYS_ADMIN added to the bounding set');
    // uid alone keeps the container's gid.
    assert.match(env.hako(['exec', '-u', '1234', id, 'id']).stdout, /^uid=1234 gid=0/);
    const bad = env.hako(['exec', '-u', 'nobody', id, 'id']);
    assert.is(bad.status, 255);
    assert.match(bad.stderr, /bad uid/);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

// `docker exec --privileged` sends every capability the kernel knows. On a
// host whose bounding set lacks some (these have no CAP_SYS_RESOURCE), runc
// fails the exec on capset; hako leaves those out with a warning, as create does.
t('every capability asked for: the ones hako cannot grant are left out, with a warning', () => {
  const { id } = running();
  try {
    const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    const names = readFileSync('/proc/self/status', 'utf8');
    const own = BigInt('0x' + /^CapBnd:\s*([0-9a-f]+)$/m.exec(names)![1]);
    const all = CAP_NAMES.slice(0, last + 1);
    const proc = path.join(env.dir, `${id}-process.json`);
    writeFileSync(
      proc,
      JSON.stringify({
        args: ['grep', 'CapEff', '/proc/self/status'],
        cwd: '/',
        env: ['PATH=/bin'],
        user: { uid: 0, gid: 0 },
        capabilities: { bounding: all, effective: all, permitted: all },
      }),
    );
    const log = path.join(env.dir, `${id}-log.json`);
    const r = env.hako(['--log', log, '--log-format', 'json', 'exec', '--process', proc, id]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, `CapEff:\t${own.toString(16).padStart(16, '0')}\n`, 'every capability of our own bounding set');
    if (own !== (1n << BigInt(last + 1)) - 1n) assert.match(readFileSync(log, 'utf8'), /"level":"warning","msg":"container .*cannot be granted here/);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t("exec joins every namespace of the init and sees the container's root", () => {
  const { id, pid, bundle } = running((c) => {
    c.hostname = 'exec-ns-test';
  });
  // Only this container's rootfs has it.
  writeFileSync(path.join(bundle, 'rootfs', 'exec-marker'), id);
  try {
    const types = ['mnt', 'net', 'pid', 'ipc', 'uts'];
    const r = env.hako([
      'exec',
      id,
      'sh',
      '-c',
      `for n in ${types.join(' ')}; do readlink /proc/self/ns/$n; done; hostname; cat /exec-marker; echo; cat /proc/1/cmdline | tr '\\0' ' '`,
    ]);
    assert.is(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    types.forEach((n, i) => assert.is(lines[i], readlinkSync(`/proc/${pid}/ns/${n}`), `${n} namespace`));
    assert.is(lines[types.length], 'exec-ns-test');
    assert.is(lines[types.length + 1], id, "the container's root");
    // pid 1 of what it sees is the container's init.
    assert.is(lines[types.length + 2], 'sleep 1000 ');
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t('exec joins a user namespace (first) and a time namespace (for its child) too', () => {
  const { id, pid } = running((c) => {
    c.linux.namespaces.push({ type: 'user' }, { type: 'time' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 } };
  });
  try {
    const r = env.hako(['exec', id, 'sh', '-c', 'id -u; readlink /proc/self/ns/user; readlink /proc/self/ns/time; cut -d" " -f1 /proc/uptime']);
    assert.is(r.status, 0, r.stderr);
    const [uid, user, time, uptime] = r.stdout.trim().split('\n');
    assert.is(uid, '0');
    assert.is(user, readlinkSync(`/proc/${pid}/ns/user`));
    assert.is(time, readlinkSync(`/proc/${pid}/ns/time`));
    assert.ok(Number(uptime) > 86400 * 365, `boottime offset seen: ${uptime}`);
    const other = env.hako(['exec', '-u', '1000:1000', id, 'sh', '-c', 'id; grep ^Uid /proc/self/status']);
    assert.is(other.status, 0, other.stderr);
    assert.match(other.stdout, /^uid=1000 gid=1000/);
    const d = spawnSync('sh', ['-c', `grep ^Uid /proc/${pid}/status`], { encoding: 'utf8' });
    assert.match(d.stdout, /100000/, 'the init runs as host uid 100000');
    // The pty is made as the namespace's root and given to the user.
    const t = spawnSync(
      WITH_CTTY[0]!,
      [...WITH_CTTY.slice(1), HAKO, '--root', env.root, 'exec', '-t', '-u', '1000:1000', id, 'sh', '-c', 'stat -c "%u %g" $(tty)'],
      { encoding: 'utf8', input: '' },
    );
    assert.is(t.status, 0, t.stderr);
    assert.match(t.stdout, /^1000 5\r?$/m);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t('exec into a created container (before start)', () => {
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('cr');
  assert.is(env.hako(['create', '--bundle', b, id], { stdio: 'ignore' }).status, 0);
  try {
    const r = env.hako(['exec', id, 'hostname']);
    assert.is(r.status, 0, r.stderr);
    assert.is(JSON.parse(env.hako(['state', id]).stdout).status, 'created');
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t('a foreground exec forwards the signals it gets to its process', async () => {
  const { id } = running();
  try {
    const child = spawn(HAKO, ['--root', env.root, 'exec', id, 'sh', '-c', 'trap "echo got-term; exit 9" TERM; echo ready; while :; do sleep 0.05; done'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    for (let i = 0; i < 500 && !out.includes('ready'); i++) await sleep(10);
    child.kill('SIGTERM');
    // 'close': the output has all arrived, not only the process gone.
    const [code] = (await once(child, 'close')) as [number | null];
    assert.is(code, 9);
    assert.match(out, /got-term/);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t('--detach returns once the process runs, with the pid file written', async () => {
  const { id, pid: initPid } = running();
  const pidFile = path.join(env.dir, `${id}-exec.pid`);
  try {
    const r = env.hako(['exec', '--detach', '--pid-file', pidFile, id, 'sleep', '999'], { stdio: 'ignore' });
    assert.is(r.status, 0);
    const text = readFileSync(pidFile, 'utf8');
    assert.match(text, /^\d+$/, 'decimal, no newline');
    const pid = Number(text);
    // Running the command already (execve happened before exec returned).
    assert.is(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'sleep');
    assert.is(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync(`/proc/${initPid}/ns/pid`));
    assert.is(readlinkSync(`/proc/${pid}/root`), '/', 'its root is the container root (seen from its own mount namespace)');
    // Its pid inside the container is not 1.
    const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!.split(/\s+/);
    assert.is(nspid.length, 2);
    assert.ok(Number(nspid[1]) > 1);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t('exec into a stopped container fails, as runc says it', async () => {
  const b = env.bundle((c) => (c.process.args = ['true']));
  const id = uniqueId('st');
  assert.is(env.hako(['run', '-d', '--bundle', b, id], { stdio: 'ignore' }).status, 0);
  for (let i = 0; i < 200 && JSON.parse(env.hako(['state', id]).stdout).status !== 'stopped'; i++) await sleep(10);
  try {
    const r = env.hako(['exec', id, 'true']);
    assert.is(r.status, 255);
    assert.match(r.stderr, /exec failed: cannot exec in a stopped container/);
    const gone = env.hako(['exec', 'no-such-container', 'true']);
    assert.is(gone.status, 255);
    assert.match(gone.stderr, /does not exist/);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

// runc 1.2's exec --cgroup: the process joins an existing sub-cgroup of the
// container's (one path: in every hierarchy; "ctrl:path": that controller's
// hierarchy); anything else is refused before the process runs.
t("exec --cgroup: into an existing sub-cgroup; runc's refusals, nothing runs", async () => {
  const { id, pid } = running();
  const dirs = Object.values((JSON.parse(readFileSync(path.join(env.root, id, 'state.json'), 'utf8')).cgroup ?? {}) as Record<string, string>);
  const subs = dirs.map((d) => path.join(d, 'sub'));
  const inSub = (out: string) =>
    out
      .trim()
      .split('\n')
      .filter((l) => l.endsWith('/sub')).length;
  try {
    if (!isRoot || dirs.length === 0) return;
    for (const d of subs) {
      mkdirSync(d);
      // A new v1 cpuset cgroup has no cpus or mems: nothing could join it.
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if (existsSync(path.join(d, f))) writeFileSync(path.join(d, f), readFileSync(path.join(path.dirname(d), f)));
      }
    }
    const r = env.hako(['exec', '--cgroup', 'sub', id, 'cat', '/proc/self/cgroup']);
    assert.is(r.status, 0, r.stderr);
    // Without a cgroup namespace of its own the process sees the host's paths.
    assert.is(inSub(r.stdout), dirs.length, r.stdout);
    assert.is(inSub(env.hako(['exec', id, 'cat', '/proc/self/cgroup']).stdout), 0);
    assert.ok(readFileSync(`/proc/${pid}/cgroup`, 'utf8').length > 0);
    const v1 = Object.keys(JSON.parse(readFileSync(path.join(env.root, id, 'state.json'), 'utf8')).cgroup).find((k) => k !== '');
    if (v1) {
      const one = env.hako(['exec', '--cgroup', `${v1.split(',')[0]}:sub`, id, 'cat', '/proc/self/cgroup']);
      assert.is(one.status, 0, one.stderr);
      assert.is(inSub(one.stdout), 1, one.stdout);
    }

    const marker = `/dev/shm/ran-${id}`;
    const refused: [string[], RegExp][] = [
      [['--cgroup', 'nosuch'], /exec failed: .*sub-cgroup .*\/nosuch does not exist/],
      [['--cgroup', '../x'], /exec failed: .*\.\.\/x is not a sub cgroup path/],
      [['--cgroup', 'nosuchctrl:sub'], /exec failed: .*unknown controller nosuchctrl in SubCgroupPaths/],
      [['--cgroup', 'sub', '--cgroup', 'other'], /exec failed: invalid --cgroup argument: sub \(missing <controller>: prefix\)/],
      [['--cgroup', 'a:b:c'], /exec failed: invalid --cgroup argument: a:b:c$/m],
    ];
    for (const [flags, re] of refused) {
      const x = env.hako(['exec', ...flags, id, 'touch', marker]);
      assert.is(x.status, 255, flags.join(' '));
      assert.match(x.stderr, re);
    }
    assert.is(env.hako(['exec', id, 'sh', '-c', `test -e ${marker} && echo ran || echo none`]).stdout, 'none\n');
  } finally {
    // Empty again (every exec'd process has exited): removed before the
    // container's own cgroups are.
    for (const d of subs) {
      try {
        rmdirSync(d);
      } catch {
        /* never made */
      }
    }
    env.hako(['delete', '--force', id]);
  }
});

t('paused: exec refuses, and --ignore-paused waits for resume as runc does', async () => {
  const { id } = running();
  try {
    const p = env.hako(['pause', id]);
    assert.is(p.status, 0, p.stderr);
    const r = env.hako(['exec', id, 'true']);
    assert.is(r.status, 255);
    assert.match(r.stderr, /exec failed: cannot exec in a paused container \(use --ignore-paused to override\)/);
    const child = spawn(HAKO, ['--root', env.root, 'exec', '--ignore-paused', id, 'echo', 'ok'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(child, 'close') as Promise<[number | null]>;
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await sleep(1000);
    assert.is(child.exitCode, null, 'frozen with the container until resume');
    // resume needs the container lock: exec must not hold it while it waits.
    const res = spawn(HAKO, ['--root', env.root, 'resume', id], { stdio: 'ignore' });
    const [resumed] = (await once(res, 'exit')) as [number | null];
    assert.is(resumed, 0);
    const [code] = await exited;
    assert.is(code, 0);
    assert.is(out, 'ok\n');
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t("a missing binary: runc's message, nothing left running", () => {
  const { id, pid } = running();
  try {
    const r = env.hako(['exec', id, 'no-such-binary', 'arg']);
    assert.is(r.status, 255);
    assert.match(r.stderr, /exec failed: .*exec: "no-such-binary": executable file not found in \$PATH/);
    const abs = env.hako(['exec', id, '/no/such/file']);
    assert.is(abs.status, 255);
    assert.match(abs.stderr, /no such file or directory/);
    const empty = env.hako(['exec', id]);
    assert.is(empty.status, 255);
    assert.match(empty.stderr, /exec args cannot be empty/);
    // Only the init remains in the container.
    assert.equal(JSON.parse(env.hako(['ps', '--format', 'json', id]).stdout), [pid]);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t('--process process.json replaces the container settings', () => {
  const { id } = running();
  const file = path.join(env.dir, `${id}-process.json`);
  writeFileSync(
    file,
    JSON.stringify({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, for sh
      args: ['sh', '-c', 'id; pwd; echo "$ONLY"; echo "${HOME:-none}"; umask'],
      env: ['PATH=/bin:/usr/bin', 'ONLY=from-process-json'],
      cwd: '/var',
      user: { uid: 4242, gid: 4243, umask: 0o27 },
    }),
  );
  try {
    const r = env.hako(['exec', '--process', file, id]);
    assert.is(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n'), ['uid=4242 gid=4243', '/var', 'from-process-json', 'none', '0027']);
    writeFileSync(file, JSON.stringify({ args: ['true'], cwd: 'relative' }));
    const bad = env.hako(['exec', '-p', file, id]);
    assert.is(bad.status, 255);
    assert.match(bad.stderr, /cwd/i);
  } finally {
    rmSync(file, { force: true });
    env.hako(['delete', '--force', id]);
  }
});

t('--preserve-fds passes fds 3.. and nothing else of ours', () => {
  const { id } = running();
  const file = path.join(env.dir, `${id}-fd3`);
  writeFileSync(file, 'through fd 3\n');
  const fd = openSync(file, 'r');
  const out = path.join(env.dir, `${id}-out`);
  const o = openSync(out, 'w');
  try {
    const r = spawnSync(HAKO, ['--root', env.root, 'exec', '--preserve-fds', '1', id, 'sh', '-c', 'cat <&3; ls /proc/self/fd | sort -n | tr "\\n" " "'], {
      stdio: ['ignore', o, 'inherit', fd],
    });
    assert.is(r.status, 0);
    const [line, fds] = readFileSync(out, 'utf8').split('\n');
    assert.is(line, 'through fd 3');
    // 0-2, 3, and the fd ls has open on the directory.
    assert.match(fds!, /^0 1 2 3 4 $/);
  } finally {
    closeSync(fd);
    closeSync(o);
    env.hako(['delete', '--force', id]);
  }
});

t('a terminal without a console socket in detached mode is refused', () => {
  const { id } = running();
  try {
    const r = env.hako(['exec', '-t', '-d', id, 'sh']);
    assert.is(r.status, 255);
    assert.match(r.stderr, /cannot allocate tty if hako will detach without setting console socket/);
    const s = env.hako(['exec', '--console-socket', '/nonexistent.sock', id, 'true']);
    assert.is(s.status, 255);
    assert.match(s.stderr, /cannot use console socket if hako will not detach or allocate tty/);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

// process.execCPUAffinity (runtime-spec config.md): `initial` for the
// runtime's side of the exec until the process is in the container's cgroup,
// `final` after. Two CPUs of our own (the launcher's cpuset is ours).
function twoCpus(): [number, number] {
  const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
  const cpus = list.split(',').flatMap((p) => {
    const [a, b] = p.split('-').map(Number);
    return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
  });
  assert.ok(cpus.length >= 2, `these tests need two CPUs, we may run on ${list}`);
  return [cpus[0]!, cpus[1]!];
}
const allowedList = (text: string) => /^Cpus_allowed_list:\s*(\S+)$/m.exec(text)?.[1];

t('execCPUAffinity: initial on the launcher first, then final on the process in the cgroup', () => {
  const [a, b] = twoCpus();
  const { id } = running();
  const file = path.join(env.dir, `${id}-process.json`);
  const trace = path.join(env.dir, `${id}-strace`);
  writeFileSync(
    file,
    JSON.stringify({
      args: ['grep', 'Cpus_allowed_list', '/proc/self/status'],
      cwd: '/',
      env: ['PATH=/bin'],
      execCPUAffinity: { initial: String(a), final: String(b) },
    }),
  );
  try {
    const r = env.hako(['exec', '--process', file, id]);
    assert.is(r.status, 0, r.stderr);
    assert.is(allowedList(r.stdout), String(b), 'the final CPUs');
    // The order of the calls, and by whom: the launcher, then the process it cloned.
    const s = spawnSync('strace', ['-f', '-qq', '-e', 'trace=sched_setaffinity', '-o', trace, HAKO, '--root', env.root, 'exec', '--process', file, id], {
      encoding: 'utf8',
    });
    assert.is(s.status, 0, s.stderr);
    const calls = readFileSync(trace, 'utf8')
      .split('\n')
      .map((l) => /^(\d+) +sched_setaffinity\(0, \d+, \[([\d ,-]+)\]\) += 0$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => ({ pid: m[1], cpus: m[2] }));
    assert.equal(
      calls.map((c) => c.cpus),
      [String(a), String(b)],
      readFileSync(trace, 'utf8'),
    );
    assert.is.not(calls[0]!.pid, calls[1]!.pid, "initial by the launcher, final by the exec'd process");
  } finally {
    rmSync(file, { force: true });
    rmSync(trace, { force: true });
    env.hako(['delete', '--force', id]);
  }
});

t("execCPUAffinity in config.json: not the init's, every exec's unless its process.json names its own", () => {
  const [a, b] = twoCpus();
  const { id, pid } = running((c) => (c.process.execCPUAffinity = { initial: String(b), final: String(a) }));
  const file = path.join(env.dir, `${id}-process.json`);
  const grep = { args: ['grep', 'Cpus_allowed_list', '/proc/self/status'], cwd: '/', env: ['PATH=/bin'] };
  try {
    // The spec: "not applicable to the container's init process".
    assert.is(
      allowedList(readFileSync(`/proc/${pid}/status`, 'utf8')),
      allowedList(readFileSync('/proc/self/status', 'utf8')),
      'the init keeps what it inherited',
    );
    const flags = env.hako(['exec', id, 'grep', 'Cpus_allowed_list', '/proc/self/status']);
    assert.is(flags.status, 0, flags.stderr);
    assert.is(allowedList(flags.stdout), String(a), "exec's flags: config.json's final");
    writeFileSync(file, JSON.stringify(grep));
    const none = env.hako(['exec', '--process', file, id]);
    assert.is(none.status, 0, none.stderr);
    assert.is(allowedList(none.stdout), String(a), "a process.json naming none: config.json's");
    writeFileSync(file, JSON.stringify({ ...grep, execCPUAffinity: { initial: String(a), final: String(b) } }));
    const own = env.hako(['exec', '--process', file, id]);
    assert.is(own.status, 0, own.stderr);
    assert.is(allowedList(own.stdout), String(b), 'its own');
  } finally {
    rmSync(file, { force: true });
    env.hako(['delete', '--force', id]);
  }
});

t('execCPUAffinity refused with its JSON path: malformed lists, CPUs the host cannot have, CPUs outside the cpuset', () => {
  const [a, b] = twoCpus();
  const possible = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  const beyond = Math.max(...possible.split(/[,-]/).map(Number)) + 1;
  // create: config.json's lists are checked although the init does not use them.
  const bundle = env.bundle((c) => (c.process.execCPUAffinity = { initial: `${b}-${a}` }));
  const refused = uniqueId('ex');
  const bad = env.hako(['create', '--bundle', bundle, refused]);
  assert.is(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, `/process/execCPUAffinity/initial: "${b}-${a}": the range ${b}-${a} goes down`);
  assert.is.not(env.hako(['state', refused]).status, 0, 'no container left behind');
  // A container whose cpuset is one CPU.
  const { id } = running((c) => (c.linux.resources = { ...(c.linux.resources ?? {}), cpu: { cpus: String(a), mems: '0' } }));
  const file = path.join(env.dir, `${id}-process.json`);
  const exec = (aff: unknown) => {
    writeFileSync(file, JSON.stringify({ args: ['true'], cwd: '/', execCPUAffinity: aff }));
    return env.hako(['exec', '--process', file, id]);
  };
  try {
    const far = exec({ final: `${a},${beyond}` });
    assert.is(far.status, 255);
    assert.match(far.stderr, `/process/execCPUAffinity/final: "${a},${beyond}": CPU ${beyond} is beyond this host's possible CPUs (0-${beyond - 1})`);
    const word = exec({ initial: 'x' });
    assert.is(word.status, 255);
    assert.match(word.stderr, 'process.json: /execCPUAffinity/initial: must be a CPU list such as 0-3,7');
    const outside = exec({ initial: String(a), final: String(b) });
    assert.is(outside.status, 255);
    assert.match(outside.stderr, `process.execCPUAffinity.final: sched_setaffinity(${b}): none of these CPUs is online and in the container's cpuset`);
    // Within it, initial outside: the launcher runs there, the process then in its cpuset.
    const ok = exec({ initial: String(b), final: String(a) });
    assert.is(ok.status, 0, ok.stderr);
  } finally {
    rmSync(file, { force: true });
    env.hako(['delete', '--force', id]);
  }
});

t.run();
