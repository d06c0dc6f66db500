// Docker 20.10 with hako as a runtime: registered in daemon.json `runtimes`
// (and made the default runtime there) and with --add-runtime, on a dockerd
// and containerd of our own (docker-daemon.ts) without networking: every
// container runs with --network none. What a docker user sees: output, exit
// statuses, states, messages; from the host, that the containers are hako's
// and that nothing is left once the daemons are stopped.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skipLine } from '../skip.js';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { HAKO, isRoot, REPO } from '../helpers.js';
import { daemonJsonRuntimes, DOCKER, Dockerd } from './docker-daemon.js';
import { cmd, HostDirs, mountsUnder, processesMentioning, removeCgroupParent, waitFor } from './host-state.js';
import { buildImages, IMAGE_REF } from './image.js';
import { runInPty } from './pty-run.js';

const t = suite('docker runs hako');
const PARENT = `hako-docker-${process.pid}`;
// dockerd makes /run/docker/plugins and, through containerd's shims,
// /run/containerd/s whatever paths it is given.
const HOST_DIRS = ['/run/docker', '/run/docker/plugins', '/run/containerd', '/run/containerd/s', '/etc/docker'];
let dir = '';
let dockerd: Dockerd;
let host: HostDirs;

const docker = (args: string[], opts?: Parameters<Dockerd['docker']>[1]) => dockerd.docker(args, opts);
/** `docker run` of our image, without a network, with these flags before the image and this command after it. */
const run = (flags: string[], command: string[], opts?: Parameters<Dockerd['docker']>[1]) =>
  docker(['run', '--network', 'none', ...flags, IMAGE_REF, ...command], opts);
/** hako's view of a Docker container, from the state under the shim's root for Docker. */
const hako = (args: string[]) => cmd([HAKO, '--root', dockerd.runtimeRoot, ...args]);
const fullId = (name: string) => docker(['inspect', '-f', '{{.Id}}', name]).stdout.trim();
const inspect = (name: string, format: string) => docker(['inspect', '-f', format, name]).stdout.trim();

t.before(async () => {
  host = new HostDirs(HOST_DIRS);
  dir = mkdtempSync('/tmp/hako-docker-');
  mkdirSync(path.join(dir, 'images'));
  const images = buildImages(path.join(dir, 'images'));
  dockerd = new Dockerd(path.join(dir, 'docker'), HAKO, `/${PARENT}`);
  await dockerd.start();
  const r = docker(['load', '-i', images.docker]);
  assert.is(r.status, 0, r.all);
  assert.is(r.stdout.trim(), `Loaded image: ${IMAGE_REF}`);
});

t.after(async () => {
  if (dockerd?.pid || dockerd?.containerd.pid) {
    dockerd.clean();
    await dockerd.stop();
  }
  if (dir) {
    removeCgroupParent(PARENT);
    host?.sweep();
    if (!mountsUnder([dir]).length) rmSync(dir, { recursive: true, force: true });
  }
});

t('docker run --runtime hako --rm: output and exit status', () => {
  const hi = run(['--runtime', 'hako', '--rm'], ['echo', 'hi']);
  assert.is(hi.status, 0, hi.all);
  assert.is(hi.stdout, 'hi\n');
  const r = run(['--runtime', 'hako', '--rm'], ['sh', '-c', 'cat /proc/1/cgroup; exit 42']);
  assert.is(r.status, 42, r.all);
  // In the cgroup hako made at Docker's cgroupsPath (--cgroup-parent/<id>).
  assert.match(r.stdout, new RegExp(`^\\d+:[^:]*memory[^:]*:/${PARENT}/[0-9a-f]{64}$`, 'm'));
  assert.is(docker(['ps', '-aq']).stdout, '', '--rm removed it');
});

t('the three ways to ask for hako: daemon.json runtimes, --add-runtime, default-runtime', () => {
  const doc = readFileSync(path.join(REPO, 'docs/docker.md'), 'utf8');
  assert.ok(doc.includes(JSON.stringify(daemonJsonRuntimes('/usr/local/bin/hako'), null, 2)), 'docs/docker.md shows the daemon.json tested here');
  const info = docker(['info', '--format', '{{json .Runtimes}} {{.DefaultRuntime}}']).stdout;
  assert.match(info, '"hako":{"path":"' + HAKO + '"}');
  assert.match(info, '"hako-flag":{"path":"' + HAKO + '"}');
  assert.match(info, / hako\n$/);
  for (const [name, flags] of [
    ['by-flag', ['--runtime', 'hako-flag']],
    ['by-default', []],
  ] as const) {
    const r = run(['-d', '--name', name, ...flags], ['sleep', '1000']);
    assert.is(r.status, 0, r.all);
    const id = fullId(name);
    const st = hako(['state', id]);
    assert.is(st.status, 0, `${name}: hako made it: ${st.all}`);
    assert.is(JSON.parse(st.stdout).pid, Number(inspect(name, '{{.State.Pid}}')));
    assert.is(docker(['rm', '-f', name]).status, 0);
    assert.is(hako(['state', id]).status, 1, 'and deleted it');
  }
});

t('docker run -it: a shell on a terminal of the size of ours', () => {
  const r = runInPty(
    [DOCKER, 'run', '-it', '--rm', '--runtime', 'hako', '--network', 'none', IMAGE_REF, 'sh'],
    [{ expect: '/ # ', send: 'tty; stty size; echo $((6*7))\n' }, { expect: '42\r*\n' }, { expect: '/ # ', send: 'exit 3\n' }],
    { rows: 31, cols: 97, env: dockerd.clientEnv() },
  );
  assert.is(r.stuck, undefined, r.output);
  assert.is(r.status, 3, r.output);
  assert.match(r.output, /^\/dev\/pts\/0\r?$/m);
  assert.match(r.output, /^31 97\r?$/m);
});

t('docker run -i: stdin reaches the container, and its end too', () => {
  const r = run(['--runtime', 'hako', '--rm', '-i'], ['sh', '-c', 'cat; echo end-of-input'], { input: 'from stdin\n' });
  assert.is(r.status, 0, r.all);
  assert.is(r.stdout, 'from stdin\nend-of-input\n');
});

t('docker exec: output and status; -it; --privileged; -u', () => {
  assert.is(run(['-d', '--runtime', 'hako', '--name', 'ex'], ['sleep', '1000']).status, 0);
  try {
    const x = docker(['exec', 'ex', 'sh', '-c', 'echo in $(cat /proc/1/comm); exit 5']);
    assert.is(x.stdout, 'in sleep\n', x.all);
    assert.is(x.status, 5);
    const u = docker(['exec', '-u', '1000:1000', '-w', '/tmp', 'ex', 'sh', '-c', 'id -u; pwd; echo to-dev-stdout > /dev/stdout']);
    assert.is(u.stdout, '1000\n/tmp\nto-dev-stdout\n', u.all);
    // Every capability Docker knows, on a host whose bounding set lacks some.
    const p = docker(['exec', '--privileged', 'ex', 'grep', 'CapEff', '/proc/self/status']);
    assert.is(p.status, 0, p.all);
    const tty = runInPty(
      [DOCKER, 'exec', '-it', 'ex', 'sh'],
      [{ expect: '/ # ', send: 'tty; stty size; echo $((6*7))\n' }, { expect: '42\r*\n' }, { expect: '/ # ', send: 'exit 4\n' }],
      { rows: 27, cols: 101, env: dockerd.clientEnv() },
    );
    assert.is(tty.stuck, undefined, tty.output);
    assert.is(tty.status, 4, tty.output);
    assert.match(tty.output, /^\/dev\/pts\/\d+\r?$/m);
    assert.match(tty.output, /^27 101\r?$/m);
  } finally {
    docker(['rm', '-f', 'ex']);
  }
});

t('docker top and stats: the processes (hako ps) and the cgroup of the container', () => {
  assert.is(run(['-d', '--runtime', 'hako', '--name', 'watched', '--memory', '64m'], ['sleep', '1000']).status, 0);
  try {
    const top = docker(['top', 'watched']);
    assert.is(top.status, 0, top.all);
    assert.match(top.stdout, /sleep 1000/);
    const st = docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', 'watched']);
    assert.is(st.status, 0, st.all);
    assert.match(st.stdout, /\/ 64MiB$/m, 'the limit hako wrote');
  } finally {
    docker(['rm', '-f', 'watched']);
  }
});

t('docker stop: TERM first, and KILL after the timeout', async () => {
  const trap = "trap 'echo got TERM; exit 7' TERM; echo ready; while true; do sleep 1 & wait $!; done";
  assert.is(run(['-d', '--runtime', 'hako', '--name', 'polite'], ['sh', '-c', trap]).status, 0);
  assert.is(run(['-d', '--runtime', 'hako', '--name', 'deaf'], ['sleep', '1000']).status, 0);
  try {
    await waitFor('the trap to be set', () => docker(['logs', 'polite']).stdout.includes('ready'));
    const s = docker(['stop', 'polite']);
    assert.is(s.status, 0, s.all);
    assert.is(inspect('polite', '{{.State.ExitCode}}'), '7');
    assert.match(docker(['logs', 'polite']).stdout, 'got TERM');
    // sleep as pid 1 has no TERM handler: the kernel ignores TERM for it.
    assert.is(docker(['stop', '-t', '1', 'deaf']).status, 0);
    assert.is(inspect('deaf', '{{.State.ExitCode}}'), '137');
    assert.is(inspect('deaf', '{{.State.Status}}'), 'exited');
  } finally {
    docker(['rm', '-f', 'polite', 'deaf']);
  }
});

t('docker pause and unpause: frozen through hako, running after', () => {
  assert.is(run(['-d', '--runtime', 'hako', '--name', 'sleepy'], ['sleep', '1000']).status, 0);
  try {
    const id = fullId('sleepy');
    assert.is(docker(['pause', 'sleepy']).status, 0);
    assert.is(inspect('sleepy', '{{.State.Status}}'), 'paused');
    assert.is(JSON.parse(hako(['state', id]).stdout).status, 'paused');
    const refused = docker(['exec', 'sleepy', 'true']);
    assert.is.not(refused.status, 0);
    assert.match(refused.all, /paused/);
    assert.is(docker(['unpause', 'sleepy']).status, 0);
    assert.is(inspect('sleepy', '{{.State.Status}}'), 'running');
    assert.is(JSON.parse(hako(['state', id]).stdout).status, 'running');
    assert.is(docker(['exec', 'sleepy', 'echo', 'awake']).stdout, 'awake\n');
  } finally {
    docker(['rm', '-f', 'sleepy']);
  }
});

t('docker run --cgroupns private (the default on cgroup v2): the container is the root of its cgroup namespace', () => {
  const r = run(['--runtime', 'hako', '--rm', '--cgroupns', 'private'], ['cat', '/proc/self/cgroup']);
  assert.is(r.status, 0, r.all);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.ok(lines.length > 0);
  for (const l of lines) assert.match(l, /:\/$/, l);
});

t("a failed create: hako's message, Docker's exit status, nothing left", () => {
  const r = run(['--runtime', 'hako', '--name', 'broken'], ['/no/such/binary']);
  assert.is(r.status, 127, r.all);
  const id = fullId('broken');
  assert.match(r.stderr, `OCI runtime create failed: container "${id}": exec: "/no/such/binary": stat /no/such/binary: no such file or directory`);
  assert.is(hako(['state', id]).status, 1, 'no hako state');
  assert.is(docker(['rm', 'broken']).status, 0);
});

t('stopping dockerd and its containerd leaves nothing behind', async () => {
  dockerd.clean();
  const root = dockerd.runtimeRoot;
  assert.equal(existsSync(root) ? readdirSync(root) : [], [], 'no hako state');
  await dockerd.stop();
  assert.equal(processesMentioning(dir), [], 'no daemon, shim or container process');
  assert.equal(mountsUnder([dir, ...HOST_DIRS]), [], 'no mounts');
  assert.equal(removeCgroupParent(PARENT), [], 'no container cgroups');
  assert.equal(host.sweep(), [], 'nothing in /run/docker, /run/containerd or /etc/docker');
  rmSync(dir, { recursive: true, force: true });
  assert.not.ok(existsSync(dir));
  dir = '';
});

if (!isRoot) {
  console.log(skipLine('docker', 'every test', 'needs root'));
} else {
  t.run();
}
