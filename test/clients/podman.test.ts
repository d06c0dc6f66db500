// podman (with conmon) running its containers with hako, configured the
// way a user would: containers.conf [engine.runtimes] + runtime_supports_json
// (test/clients/podman-env.ts). Every check is on what the podman user sees
// (stdout, exit status, messages) or on what the container sees from inside.
// The last test checks that nothing is left on the host.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HAKO, isRoot } from '../helpers.js';
import { IMAGE, Podman, waitFor, type Result } from './podman-env.js';
import { frozenOnHost, limitsInside } from './podman-cgroup.js';
import { HAKO_ROOT } from './podman-host.js';
import { skip as skipNow, skippable } from '../skip.js';

const t = suite('podman');
const skippableTest = skippable(t, 'podman');
let pm: Podman;
let n = 0;
const name = (what: string) => `hako-${what}-${process.pid}-${++n}`;

const skip = !isRoot ? 'not root' : undefined;

t.before(() => {
  if (skip) return;
  pm = new Podman();
  pm.importImage();
});
t.after(() => {
  if (pm) pm.cleanup();
});

/** `podman run -d` of a shell script; returns the container's name. */
function detached(script: string, flags: string[] = [], what = 'd'): string {
  const n = name(what);
  pm.ok(['run', '-d', '--name', n, ...flags, IMAGE, 'sh', '-c', script]);
  return n;
}
const inspect = (c: string, format: string) => pm.ok(['inspect', '--format', format, c]).stdout.trim();
const remove = (c: string) => pm.run(['rm', '--force', '--time', '0', c]);
const logs = (c: string) => pm.ok(['logs', c]).stdout;
/** Polls `podman logs` (stdout and stderr of the container) until it matches. */
function logsMatch(c: string, re: RegExp): string {
  return waitFor(`${c}'s log to match ${re}`, () => {
    const r = pm.run(['logs', c]);
    const all = r.stdout + r.stderr;
    return re.test(all) ? all : undefined;
  });
}
function waitExited(c: string): number {
  return Number(pm.ok(['wait', c]).stdout.trim());
}
const explain = (r: Result) => `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

const test = (title: string, fn: () => void) =>
  skippableTest(title, () => {
    if (skip) skipNow(skip);
    fn();
  });

test('podman finds hako through containers.conf', () => {
  const r = pm.ok(['info', '--format', '{{.Host.OCIRuntime.Name}} {{.Host.OCIRuntime.Path}}']);
  assert.is(r.stdout.trim(), `hako ${HAKO}`);
});

test('run --rm: stdout, stderr and the exit status', () => {
  const r = pm.run(['run', '--rm', IMAGE, 'sh', '-c', 'echo to-stdout; echo to-stderr >&2; exit 3']);
  assert.is(r.status, 3, explain(r));
  assert.is(r.stdout, 'to-stdout\n');
  assert.match(r.stderr, /to-stderr/);
});

test("run --log-driver passthrough: the container gets podman's own stdio, untouched", () => {
  const r = pm.run(['run', '--rm', '--log-driver', 'passthrough', IMAGE, 'sh', '-c', 'echo through-passthrough; readlink /proc/self/fd/1']);
  assert.is(r.status, 0, explain(r));
  // fd 1 is the very file the test gave podman: conmon and hako passed it on.
  assert.match(r.stdout, new RegExp(`^through-passthrough\\n${pm.dir}/out/\\d+\\.out\\n$`));
});

test('run -i: stdin reaches the container, EOF included', () => {
  const r = pm.run(['run', '--rm', '-i', IMAGE, 'sh', '-c', 'wc -l; echo after-eof'], { input: 'one\ntwo\nthree\n' });
  assert.is(r.status, 0, explain(r));
  assert.is(r.stdout, '3\nafter-eof\n');
});

test("run -t: a terminal through conmon's console socket", () => {
  const r = pm.run(['run', '--rm', '-t', IMAGE, 'sh', '-c', 'tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-a-tty; exit 4']);
  assert.is(r.status, 4, explain(r));
  // The pty's line discipline turns \n into \r\n: the output came through it.
  assert.match(r.stdout, /^\/dev\/pts\/\d+\r\nstdio-is-a-tty\r\n$/);
});

test('run -d, then exec: plain, -t, -i, --user, --workdir, --env, exit status', () => {
  const c = detached('echo started; exec sleep 1000', [], 'exec');
  try {
    logsMatch(c, /started/);
    assert.is(pm.ok(['exec', c, 'cat', '/etc/hostname']).stdout.trim().length > 0, true);
    const tty = pm.ok(['exec', '-t', c, 'sh', '-c', 'tty; [ -t 1 ] && echo tty-ok']);
    assert.match(tty.stdout, /^\/dev\/pts\/\d+\r\ntty-ok\r\n$/);
    assert.is(pm.ok(['exec', '-i', c, 'cat'], { input: 'through exec stdin\n' }).stdout, 'through exec stdin\n');
    assert.match(pm.ok(['exec', '--user', '1000:1000', c, 'id']).stdout, /^uid=1000 gid=1000\b/);
    assert.match(pm.ok(['exec', '--user', 'daemon', c, 'id']).stdout, /^uid=1\(daemon\) gid=1\(daemon\)/);
    assert.is(pm.ok(['exec', '--workdir', '/tmp', c, 'pwd']).stdout, '/tmp\n');
    assert.is(pm.ok(['exec', '--env', 'GREETING=from-exec', c, 'sh', '-c', 'echo $GREETING']).stdout, 'from-exec\n');
    const five = pm.run(['exec', c, 'sh', '-c', 'exit 5']);
    assert.is(five.status, 5, explain(five));
    // The exec'd processes ran in the container's pid namespace, next to its init.
    assert.match(pm.ok(['exec', c, 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "']).stdout, /^sleep 1000 $/);
  } finally {
    remove(c);
  }
});

test("exec of a missing or non-executable command: hako's message, 127 and 126", () => {
  const c = detached('exec sleep 1000', [], 'execfail');
  try {
    const missing = pm.run(['exec', c, '/nonexistent']);
    assert.is(missing.status, 127, explain(missing));
    assert.match(missing.stderr, /exec: "\/nonexistent": stat \/nonexistent: no such file or directory/);
    const notInPath = pm.run(['exec', c, 'no-such-command']);
    assert.is(notInPath.status, 127, explain(notInPath));
    assert.match(notInPath.stderr, /exec: "no-such-command": executable file not found in \$PATH/);
    const denied = pm.run(['exec', c, '/etc/passwd']);
    assert.is(denied.status, 126, explain(denied));
    assert.match(denied.stderr, /exec: "\/etc\/passwd": permission denied/);
  } finally {
    remove(c);
  }
});

test("run of a missing command: hako's message reaches the user intact, exit 127", () => {
  const r = pm.run(['run', '--rm', IMAGE, '/nonexistent']);
  assert.is(r.status, 127, explain(r));
  // podman read the message from hako's --log-format json log (one JSON
  // object), not from stderr: hence one "hako: " (podman's prefix), not two.
  assert.match(
    r.stderr,
    /^Error: hako: container "[0-9a-f]{64}": exec: "\/nonexistent": stat \/nonexistent: no such file or directory: OCI runtime attempted to invoke a command that was not found$/m,
  );
  assert.not.match(r.stderr, /hako: hako:/);
  const notInPath = pm.run(['run', '--rm', IMAGE, 'no-such-command']);
  assert.is(notInPath.status, 127, explain(notInPath));
  assert.match(notInPath.stderr, /executable file not found in \$PATH/);
});

test('run of a file that is not executable: permission denied, exit 126', () => {
  const r = pm.run(['run', '--rm', IMAGE, '/etc/passwd']);
  assert.is(r.status, 126, explain(r));
  assert.match(r.stderr, /exec: "\/etc\/passwd": permission denied: OCI permission denied/);
});

test('logs, kill -s, and stop with a SIGTERM the container handles', () => {
  const c = detached('trap "echo got USR1" USR1; trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done', [], 'stop');
  try {
    logsMatch(c, /ready/);
    pm.ok(['kill', '--signal', 'USR1', c]);
    logsMatch(c, /got USR1/);
    assert.is(inspect(c, '{{.State.Status}}'), 'running');
    const stop = pm.run(['stop', c]);
    assert.is(stop.status, 0, explain(stop));
    assert.not.match(stop.stderr, /SIGKILL/);
    assert.is(inspect(c, '{{.State.ExitCode}}'), '7');
    assert.match(logs(c), /^ready\ngot USR1\ngot TERM\n$/);
  } finally {
    remove(c);
  }
});

test('stop: SIGTERM first, SIGKILL after the timeout', () => {
  const c = detached('trap "echo TERM ignored" TERM; echo ready; while :; do sleep 0.1; done', [], 'stopkill');
  try {
    logsMatch(c, /ready/);
    const stop = pm.run(['stop', '--time', '2', c]);
    assert.is(stop.status, 0, explain(stop));
    assert.match(stop.stderr, /StopSignal SIGTERM failed to stop container .* in 2 seconds, resorting to SIGKILL/);
    assert.is(inspect(c, '{{.State.ExitCode}}'), '137');
    assert.match(logs(c), /TERM ignored/);
  } finally {
    remove(c);
  }
});

test('kill: SIGKILL by default', () => {
  const c = detached('exec sleep 1000', [], 'kill');
  try {
    pm.ok(['kill', c]);
    assert.is(waitExited(c), 137);
  } finally {
    remove(c);
  }
});

test('pause and unpause', () => {
  const lim = limitsInside();
  const c = detached('exec sleep 1000', [], 'pause');
  try {
    const cgroup = inspect(c, '{{.State.CgroupPath}}');
    pm.ok(['pause', c]);
    assert.is(inspect(c, '{{.State.Status}}'), 'paused');
    assert.ok(frozenOnHost(cgroup), `${cgroup} is frozen`);
    const refused = pm.run(['exec', c, 'true']);
    assert.is.not(refused.status, 0, 'no exec into a paused container');
    pm.ok(['unpause', c]);
    assert.is(inspect(c, '{{.State.Status}}'), 'running');
    assert.match(pm.ok(['exec', c, 'cat', lim.freezerInside]).stdout, /^(THAWED|0)\n$/);
  } finally {
    remove(c);
  }
});

test('update --memory --cpus: the new limits seen from inside', () => {
  const lim = limitsInside();
  const c = detached('exec sleep 1000', ['--memory', '64m', '--cpus', '1'], 'update');
  try {
    assert.match(pm.ok(['exec', c, 'sh', '-c', lim.script]).stdout, /^memory=67108864 cpu=100000\/100000 /);
    pm.ok(['update', '--memory', '128m', '--cpus', '0.5', c]);
    assert.match(pm.ok(['exec', c, 'sh', '-c', lim.script]).stdout, /^memory=134217728 cpu=50000\/100000 /);
  } finally {
    remove(c);
  }
});

test('top and stats --no-stream', () => {
  const c = detached('exec sleep 1000', ['--memory', '64m'], 'top');
  try {
    const top = pm.ok(['top', c]);
    assert.match(top.stdout, /^USER\s+PID\s+PPID\s+%CPU\s+ELAPSED\s+TTY\s+TIME\s+COMMAND\n/);
    assert.match(top.stdout, /\nroot\s+1\s+0\s.*sleep 1000/);
    const stats = JSON.parse(pm.ok(['stats', '--no-stream', '--format', 'json', c]).stdout);
    assert.is(stats.length, 1);
    assert.is(stats[0].name, c);
    assert.match(stats[0].mem_usage, / \/ 67\.11MB$/);
    assert.is(stats[0].pids, '1');
  } finally {
    remove(c);
  }
});

test("rm -f of a running container: the process, hako's state and the container go", () => {
  const c = detached('exec sleep 1000', [], 'rmf');
  const id = inspect(c, '{{.Id}}');
  const pid = Number(inspect(c, '{{.State.Pid}}'));
  assert.ok(pid > 0 && existsSync(path.join(HAKO_ROOT, id)), 'running, with hako state');
  const r = pm.run(['rm', '--force', '--time', '0', c]);
  assert.is(r.status, 0, explain(r));
  assert.not.ok(existsSync(path.join(HAKO_ROOT, id)), `${HAKO_ROOT}/${id} is gone`);
  waitFor(`pid ${pid} to go`, () => (existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')) ? undefined : true));
  assert.is(pm.ok(['ps', '--all', '--quiet', '--filter', `name=${c}`]).stdout, '');
});

test('run --memory --cpus --pids-limit: the limits seen from inside', () => {
  const lim = limitsInside();
  const r = pm.run(['run', '--rm', '--memory', '32m', '--cpus', '0.25', '--pids-limit', '50', IMAGE, 'sh', '-c', lim.script]);
  assert.is(r.status, 0, explain(r));
  assert.is(r.stdout, 'memory=33554432 cpu=25000/100000 pids=50\n');
});

test('default_ulimits from containers.conf reach the container', () => {
  const r = pm.run(['run', '--rm', IMAGE, 'sh', '-c', 'echo "$(ulimit -n) $(ulimit -Hn) $(ulimit -u)"']);
  assert.is(r.status, 0, explain(r));
  assert.is(r.stdout, '1024 1024 4096\n');
});

test('run --read-only: / is read-only, /tmp /run /var/tmp are tmpfs copies', () => {
  const r = pm.run([
    'run',
    '--rm',
    '--read-only',
    IMAGE,
    'sh',
    '-c',
    'touch /x 2>&1; touch /tmp/x /run/x /var/tmp/x && echo tmpfs-writable; awk \'$5 == "/" || $5 == "/tmp" { print $5, $6 }\' /proc/self/mountinfo; stat -c "%a %n" /tmp',
  ]);
  assert.is(r.status, 0, explain(r));
  assert.match(r.stdout, /touch: \/x: Read-only file system\ntmpfs-writable\n/);
  assert.match(r.stdout, /^\/ ro,/m);
  assert.match(r.stdout, /^\/tmp rw,/m);
  assert.match(r.stdout, /^1777 \/tmp$/m);
});

test('--tmpfs over a directory of the image starts with its contents (tmpcopyup)', () => {
  const r = pm.run([
    'run',
    '--rm',
    '--tmpfs',
    '/etc',
    IMAGE,
    'sh',
    '-c',
    'awk \'$5 == "/etc" { print $9 }\' /proc/self/mountinfo; grep ^root: /etc/passwd; cat /etc/hostname >/dev/null && echo hostname-bound',
  ]);
  assert.is(r.status, 0, explain(r));
  assert.is(r.stdout, 'tmpfs\nroot:x:0:0:root:/root:/bin/sh\nhostname-bound\n');
});

test('--cap-drop / --cap-add', () => {
  const only = pm.run(['run', '--rm', '--cap-drop', 'all', '--cap-add', 'net_raw', IMAGE, 'grep', '-E', '^Cap(Eff|Bnd|Prm)', '/proc/self/status']);
  assert.is(only.status, 0, explain(only));
  assert.is(only.stdout, 'CapPrm:\t0000000000002000\nCapEff:\t0000000000002000\nCapBnd:\t0000000000002000\n');
  const script = 'chown 1 /tmp 2>/dev/null && echo chown-allowed || echo chown-refused';
  assert.is(pm.ok(['run', '--rm', IMAGE, 'sh', '-c', script]).stdout, 'chown-allowed\n');
  assert.is(pm.ok(['run', '--rm', '--cap-drop', 'chown', IMAGE, 'sh', '-c', script]).stdout, 'chown-refused\n');
});

test("--security-opt seccomp=FILE: the profile's errno, seen from inside", () => {
  // mkdir fails with EDQUOT (122), an errno nothing else would produce here.
  const profile = path.join(pm.dir, 'seccomp-mkdir-edquot.json');
  writeFileSync(
    profile,
    JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 122 }] }),
  );
  const script = 'mkdir /tmp/d 2>&1 && echo mkdir-ok; grep ^Seccomp: /proc/self/status';
  const r = pm.run(['run', '--rm', '--security-opt', `seccomp=${profile}`, IMAGE, 'sh', '-c', script]);
  assert.is(r.status, 0, explain(r));
  assert.is(r.stdout, "mkdir: can't create directory '/tmp/d': Disk quota exceeded\nSeccomp:\t2\n");
  // podman's default profile is a filter too, one that allows mkdir.
  assert.is(pm.ok(['run', '--rm', IMAGE, 'sh', '-c', script]).stdout, 'mkdir-ok\nSeccomp:\t2\n');
  assert.is(pm.ok(['run', '--rm', '--security-opt', 'seccomp=unconfined', IMAGE, 'sh', '-c', script]).stdout, 'mkdir-ok\nSeccomp:\t0\n');
});

test('--preserve-fds: fds 3 and 4 reach the container, nothing else does', () => {
  const three = path.join(pm.dir, 'fd3');
  const four = path.join(pm.dir, 'fd4');
  writeFileSync(three, 'read through fd 3\n');
  const fd3 = openSync(three, 'r');
  const fd4 = openSync(four, 'w');
  try {
    const script = 'cat <&3; echo written-to-fd-4 >&4; for n in 0 1 2 3 4 5 6 7 8 9 10 11 12; do [ -e /proc/$$/fd/$n ] && printf "%s " $n; done; echo';
    const r = pm.run(['run', '--rm', '--preserve-fds', '2', IMAGE, 'sh', '-c', script], { fds: [fd3, fd4] });
    assert.is(r.status, 0, explain(r));
    assert.is(r.stdout, 'read through fd 3\n0 1 2 3 4 \n');
  } finally {
    closeSync(fd3);
    closeSync(fd4);
  }
  assert.is(readFileSync(four, 'utf8'), 'written-to-fd-4\n');
});

test('--cgroupns private: the container is at the root of its cgroups', () => {
  const r = pm.run(['run', '--rm', '--cgroupns', 'private', IMAGE, 'cat', '/proc/self/cgroup']);
  assert.is(r.status, 0, explain(r));
  for (const line of r.stdout.trim().split('\n')) assert.match(line, /^\d+:[^:]*:\/$/, r.stdout);
});

test("--pid/--ipc/--uts container:NAME: the other container's namespaces, joined by path", () => {
  const a = detached('echo marker > /dev/shm/from-a; echo ready; exec sleep 1000', ['--hostname', 'shared-uts'], 'nsowner');
  try {
    logsMatch(a, /ready/);
    const ns = (c: string) => pm.ok(['exec', c, 'sh', '-c', 'for n in pid ipc uts; do readlink /proc/self/ns/$n; done']).stdout;
    const r = pm.run([
      'run',
      '--rm',
      '--pid',
      `container:${a}`,
      '--ipc',
      `container:${a}`,
      '--uts',
      `container:${a}`,
      IMAGE,
      'sh',
      '-c',
      'hostname; tr "\\0" " " < /proc/1/cmdline; echo; cat /dev/shm/from-a; for n in pid ipc uts; do readlink /proc/self/ns/$n; done',
    ]);
    assert.is(r.status, 0, explain(r));
    assert.is(r.stdout, `shared-uts\nsleep 1000 \nmarker\n${ns(a)}`);
  } finally {
    remove(a);
  }
});

test("pod: containers join the infra container's namespaces", () => {
  const pod = name('pod');
  pm.ok(['pod', 'create', '--name', pod]);
  try {
    const script = 'hostname; for n in net ipc uts; do readlink /proc/self/ns/$n; done';
    const one = pm.run(['run', '--rm', '--pod', pod, IMAGE, 'sh', '-c', script]);
    assert.is(one.status, 0, explain(one));
    assert.match(one.stdout, new RegExp(`^${pod}\\nnet:\\[\\d+\\]\\nipc:\\[\\d+\\]\\nuts:\\[\\d+\\]\\n$`));
    assert.is(pm.ok(['run', '--rm', '--pod', pod, IMAGE, 'sh', '-c', script]).stdout, one.stdout, 'a second container shares them');
    assert.is.not(pm.ok(['run', '--rm', IMAGE, 'sh', '-c', script]).stdout, one.stdout, 'a container outside the pod does not');
  } finally {
    pm.run(['pod', 'rm', '--force', '--time', '0', pod]);
  }
});

test('leaves nothing behind: containers, hako state, cgroups, mounts, conmon', () => {
  pm.ok(['rm', '--all', '--force', '--time', '0']);
  pm.ok(['rmi', '--all', '--force']);
  // conmon and podman's cleanup process finish on their own after the
  // container is gone: give them the time they take.
  try {
    waitFor('the host to be clean', () => (pm.leftovers().length === 0 ? true : undefined), 60_000);
  } catch {
    /* the assertion below lists what is left */
  }
  assert.equal(pm.leftovers(), []);
});

t.run();
