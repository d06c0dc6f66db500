// The process as the container sees it: user, groups, cwd, env, umask,
// rlimits, capabilities, no_new_privs, oom score, fds.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Env, HAKO, uniqueId } from '../helpers.js';

const t = suite('process');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

function statusField(text: string, name: string): string {
  return new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
}

t('user, groups, cwd, env, umask', () => {
  const r = env.sh('id; pwd; echo "FOO=$FOO"; umask', (c) => {
    c.process.user = { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o27 };
    c.process.cwd = '/tmp';
    c.process.env.push('FOO=bar baz');
  });
  assert.is(r.status, 0, r.stderr);
  const [id, cwd, foo, umask] = r.stdout.trim().split('\n');
  assert.match(id!, /^uid=1000 gid=1000 groups=10\(wheel\),20/);
  assert.is(cwd, '/tmp');
  assert.is(foo, 'FOO=bar baz');
  assert.is(umask, '0027');
});

t("env: a name given twice has its last value, once (runc's prepareEnv, as exec does)", () => {
  const r = env.sh('echo "FOO=$FOO"; env | grep -c ^FOO=', (c) => {
    c.process.env.push('FOO=first', 'BAR=1', 'FOO=second');
  });
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['FOO=second', '1']);
});

t('rlimits, oom_score_adj', () => {
  const r = env.sh('cat /proc/self/limits; cat /proc/self/oom_score_adj', (c) => {
    c.process.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 512, hard: 768 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
    ];
    c.process.oomScoreAdj = 321;
  });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /Max open files\s+512\s+768\s+files/);
  assert.match(r.stdout, /Max core file size\s+0\s+0\s+bytes/);
  assert.match(r.stdout, /^321$/m);
});

t('capabilities: all five sets and no_new_privs', () => {
  const r = env.sh('cat /proc/self/status', (c) => {
    c.process.capabilities = {
      bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
      effective: ['CAP_KILL', 'CAP_CHOWN'],
      permitted: ['CAP_KILL', 'CAP_CHOWN', 'CAP_NET_BIND_SERVICE'],
      inheritable: ['CAP_KILL'],
      ambient: ['CAP_KILL'],
    };
    c.process.noNewPrivileges = true;
  });
  assert.is(r.status, 0, r.stderr);
  // CAP_CHOWN=0, CAP_KILL=5, CAP_NET_BIND_SERVICE=10
  assert.is(statusField(r.stdout, 'CapBnd'), (1 | (1 << 5) | (1 << 10)).toString(16).padStart(16, '0'));
  // After execve as root, effective = permitted (= P'(permitted) from the file-less exec: ambient+...).
  assert.is(statusField(r.stdout, 'CapInh'), (1 << 5).toString(16).padStart(16, '0'));
  assert.is(statusField(r.stdout, 'CapAmb'), (1 << 5).toString(16).padStart(16, '0'));
  assert.is(statusField(r.stdout, 'NoNewPrivs'), '1');
});

t('capabilities for a non-root user survive through ambient', () => {
  const r = env.sh('cat /proc/self/status', (c) => {
    c.process.user = { uid: 1000, gid: 1000 };
    c.process.capabilities = {
      bounding: ['CAP_NET_BIND_SERVICE'],
      effective: ['CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_NET_BIND_SERVICE'],
      inheritable: ['CAP_NET_BIND_SERVICE'],
      ambient: ['CAP_NET_BIND_SERVICE'],
    };
  });
  assert.is(r.status, 0, r.stderr);
  const bit = (1 << 10).toString(16).padStart(16, '0');
  assert.is(statusField(r.stdout, 'CapEff'), bit);
  assert.is(statusField(r.stdout, 'CapPrm'), bit);
  assert.is(statusField(r.stdout, 'Uid'), '1000\t1000\t1000\t1000');
});

t('unknown capability names are warned about and ignored', () => {
  const b = env.bundle((c) => {
    c.process.capabilities.bounding.push('CAP_NOT_A_CAP');
    c.process.args = ['true'];
  });
  const r = env.hako(['run', '--bundle', b, uniqueId('cap')]);
  assert.is(r.status, 0);
  assert.match(r.stderr, /CAP_NOT_A_CAP/);
});

t("scheduler and I/O priority: the init and exec'd processes have them; the memory policy the init", () => {
  // /proc/self/stat: 18 priority (-1 - rt priority for real-time policies),
  // 19 nice, 41 policy (SCHED_RR = 2). SCHED_RR needs CAP_SYS_NICE, which
  // the container does not keep: hako applies it before the caps go.
  const stat = "awk '{print $18, $19, $41}' /proc/self/stat; ionice -p $$";
  const numa = existsSync('/proc/self/numa_maps');
  const b = env.bundle((c) => {
    c.process.args = ['sh', '-c', `${stat}; ${numa ? 'grep -c " interleave:0 " /proc/self/numa_maps' : 'echo 1'}; sleep 100`];
    c.process.scheduler = { policy: 'SCHED_RR', priority: 10 };
    // With RT group scheduling (v1 cpu.rt_runtime_us) the container's cgroup
    // needs real-time time of its own, as under runc.
    if (existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us'))
      c.linux.resources = { ...c.linux.resources, cpu: { realtimeRuntime: 10000, realtimePeriod: 1000000 } };
    c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
    c.linux.memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: '0' };
  });
  const id = uniqueId('sched');
  const log = path.join(env.dir, `${id}.out`);
  const out = openSync(log, 'w');
  try {
    assert.is(env.hako(['run', '-d', '--bundle', b, id], { stdio: ['ignore', out, out] }).status, 0);
    let text = '';
    for (let i = 0; i < 300 && text.split('\n').length < 4; i++) {
      spawnSync('sleep', ['0.01']);
      text = readFileSync(log, 'utf8');
    }
    const [sched, io, mp] = text.trim().split('\n');
    assert.is(sched, '-11 0 2', 'SCHED_RR, rt priority 10');
    assert.is(io, 'best-effort: prio 6');
    assert.ok(Number(mp) >= 1, `an interleave:0 mapping: ${mp}`);
    const ex = env.hako(['exec', id, 'sh', '-c', stat]);
    assert.is(ex.status, 0, ex.stderr);
    assert.is(ex.stdout, '-11 0 2\nbest-effort: prio 6\n');
  } finally {
    closeSync(out);
    env.hako(['delete', '--force', id]);
  }
});

t('scheduler, ioPriority, memoryPolicy errors name the JSON path and leave nothing', () => {
  const cases: Array<[(c: any) => void, RegExp]> = [
    [(c) => (c.process.scheduler = { policy: 'SCHED_FIFO' }), /\/process\/scheduler\/priority: SCHED_FIFO needs a priority from 1 to 99/],
    [(c) => (c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 9 }), /\/process\/ioPriority\/priority: must be <= 7/],
    [(c) => (c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '2-1' }), /\/linux\/memoryPolicy\/nodes: "2-1" is not a node list/],
  ];
  for (const [edit, re] of cases) {
    const id = uniqueId('schederr');
    const r = env.hako(['run', '--bundle', env.bundle(edit), id]);
    assert.is(r.status, 1);
    assert.match(r.stderr, re);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.is(env.hako(['state', id]).status, 1, 'no state');
  }
});

t('args are looked up in the container PATH', () => {
  const r = env.sh('echo ok', (c) => (c.process.env = ['PATH=/usr/bin:/bin']));
  assert.is(r.stdout, 'ok\n');
});

t('stdio passes through; fds above it are closed; --preserve-fds passes 3..', () => {
  const b = env.bundle((c) => (c.process.args = ['sh', '-c', 'ls /proc/self/fd | sort -n | tr "\\n" " "; echo; echo via-fd3 >&3; read line; echo "in:$line"']));
  const r = spawnSync(HAKO, ['--root', env.root, 'run', '--preserve-fds', '1', '--bundle', b, uniqueId('fds')], {
    input: 'hello\n',
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  assert.is(r.status, 0, String(r.stderr));
  const lines = String(r.stdout).split('\n');
  // ls itself opens one fd for the directory it lists.
  assert.match(lines[0]!, /^0 1 2 3 4? ?$/, JSON.stringify(r.stdout));
  assert.is(lines[1], 'in:hello');
  assert.is(String(r.output[3]), 'via-fd3\n');
});

// go-runc's null IO (ctr run --null-io, a shim with no stdio) hands the
// runtime /dev/null opened read-only as stdout and stderr. runc points such
// fds at the container's /dev/null, read-write; a container writing to its
// stdout must not fail with EBADF.
t('stdio on /dev/null opened read-only: the container gets its own /dev/null, read-write', () => {
  const b = env.bundle((c) => {
    c.root.readonly = false;
    // The shell's own fds, read through /proc/$$ from a subshell: a redirection would change them.
    const flags = [0, 1, 2].map((fd) => `"$(grep flags /proc/$$/fdinfo/${fd})"`).join(' ');
    c.process.args = ['sh', '-c', `echo out; s=$?; echo err >&2; e=$?; printf "status %s %s\\n%s\\n%s\\n%s\\n" $s $e ${flags} > /result`];
  });
  const ro = openSync('/dev/null', 'r');
  try {
    const r = spawnSync(HAKO, ['--root', env.root, 'run', '--bundle', b, uniqueId('null')], { stdio: [ro, ro, ro], timeout: 60_000 });
    assert.is(r.status, 0, 'the container exited 0: echo could write');
  } finally {
    closeSync(ro);
  }
  const lines = readFileSync(path.join(b, 'rootfs/result'), 'utf8').trim().split('\n');
  assert.is(lines[0], 'status 0 0');
  // O_ACCMODE of each fd: 2 is O_RDWR.
  for (const l of lines.slice(1)) assert.match(l, /^flags:\s+0*[0-7]*2$/, l);
});

t.run();
