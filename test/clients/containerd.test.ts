// containerd 1.6 through ctr, with hako as the runc shim's runtime: ctr's
// `--runc-binary` (the shim option BinaryName) and `--runc-root`, on a
// containerd of our own (containerd-daemon.ts). What a user of ctr sees:
// output, exit statuses, the messages of failures; and from the host, that
// the task is hako's (its state, its cgroup) and that nothing is left.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skipLine } from '../skip.js';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { HAKO, isRoot, REPO } from '../helpers.js';
import { Containerd, criRuntimesSnippet } from './containerd-daemon.js';
import { cgroupMounts, cmd, HostDirs, mountsUnder, processesMentioning, removeCgroupParent, waitFor } from './host-state.js';
import { buildImages, IMAGE_REF } from './image.js';
import { runInPty } from './pty-run.js';

const t = suite('containerd (ctr) runs hako');
// The namespace is also the cgroup parent of ctr's containers (/<ns>/<id>).
const NS = `hako-ctrd-${process.pid}`;
let dir = '';
let cd: Containerd;
let host: HostDirs;
let n = 0;
const id = (what: string) => `${what}-${++n}`;

// What the suite makes on its way, whatever paths it passes (shim sockets;
// ctr's and the shim's defaults, which the flags below move away).
const HOST_DIRS = ['/run/containerd', '/run/containerd/s', '/run/containerd/fifo', '/run/containerd/runc'];

/** The flags that make ctr's runc shim run hako, with its state and FIFOs in our directory. */
const hakoFlags = () => ['--runc-binary', HAKO, '--runc-root', cd.runcRoot, '--fifo-dir', cd.fifoDir];
const ctr = (args: string[], opts?: Parameters<Containerd['ctr']>[2]) => cd.ctr(NS, args, opts);
/** hako's own view, from the state the shim's calls left under --runc-root (the shim adds the namespace). */
const hako = (args: string[]) => cmd([HAKO, '--root', path.join(cd.runcRoot, NS), ...args]);

function taskStatus(cid: string): string | undefined {
  const line = ctr(['task', 'ls'])
    .stdout.split('\n')
    .find((l) => l.split(/\s+/)[0] === cid);
  return line?.split(/\s+/)[2];
}

function taskPid(cid: string): number {
  const line = ctr(['task', 'ls'])
    .stdout.split('\n')
    .find((l) => l.split(/\s+/)[0] === cid);
  return Number(line?.split(/\s+/)[1]);
}

/** The container's cgroup directories on the host (every hierarchy). */
function containerCgroups(cid: string): string[] {
  return cgroupMounts()
    .map((m) => path.join(m, NS, cid))
    .filter((d) => existsSync(d));
}

/** Output of a detached container, from the file its --log-uri names. */
function logOf(cid: string): string {
  try {
    return readFileSync(path.join(dir, `${cid}.log`), 'utf8');
  } catch {
    return '';
  }
}

t.before(async () => {
  host = new HostDirs(HOST_DIRS);
  dir = mkdtempSync('/tmp/hako-ctrd-');
  mkdirSync(path.join(dir, 'images'));
  const images = buildImages(path.join(dir, 'images'));
  cd = new Containerd(path.join(dir, 'containerd'));
  await cd.start();
  const r = ctr(['image', 'import', images.oci]);
  assert.is(r.status, 0, r.all);
  assert.match(r.stdout, IMAGE_REF);
});

t.after(async () => {
  // After a failure half-way: leave the host as we found it all the same.
  if (cd?.pid) {
    await cd.clean(NS);
    await cd.stop();
  }
  if (dir) {
    removeCgroupParent(NS);
    host?.sweep();
    if (!mountsUnder([dir]).length) rmSync(dir, { recursive: true, force: true });
  }
});

t('ctr run --rm: the output and the exit status come back, nothing stays', () => {
  const hi = ctr(['run', '--rm', ...hakoFlags(), IMAGE_REF, id('rm'), 'echo', 'hi']);
  assert.is(hi.status, 0, hi.all);
  assert.is(hi.stdout, 'hi\n');
  const cid = id('rm');
  const seven = ctr(['run', '--rm', ...hakoFlags(), IMAGE_REF, cid, 'sh', '-c', 'cat /proc/self/cgroup; exit 7']);
  assert.is(seven.status, 7, seven.all);
  // The container was in the cgroup hako made at ctr's cgroupsPath (/<namespace>/<id>).
  assert.match(seven.stdout, new RegExp(`^\\d+:[^:]*memory[^:]*:/${NS}/${cid}$`, 'm'));
  // go-runc's null IO hands hako /dev/null opened read-only: the container still writes.
  const quiet = ctr(['run', '--rm', '--null-io', ...hakoFlags(), IMAGE_REF, id('null'), 'sh', '-c', 'echo into-the-void']);
  assert.is(quiet.status, 0, quiet.all);
  assert.is(ctr(['container', 'ls', '-q']).stdout, '', 'ctr removed its containers');
  assert.is(hako(['list', '--format', 'json']).stdout.trim(), 'null', 'and hako its state');
  assert.equal(containerCgroups(cid), [], 'and hako the cgroup');
});

t('ctr run -t: a shell on the terminal of the shim, with the size of ours', () => {
  const r = runInPty(
    [...cdCtr(), 'run', '--rm', '-t', ...hakoFlags(), IMAGE_REF, id('tty'), 'sh'],
    [{ expect: '/ # ', send: 'tty; stty size; echo $((6*7))\n' }, { expect: '42\r*\n' }, { expect: '/ # ', send: 'exit 3\n' }],
    { rows: 31, cols: 97 },
  );
  assert.is(r.stuck, undefined, r.output);
  assert.is(r.status, 3, r.output);
  assert.match(r.output, /^\/dev\/pts\/0\r?$/m, 'its own devpts');
  assert.match(r.output, /^31 97\r?$/m, 'ctr passed our window size on');
});

function cdCtr(): string[] {
  return ['/usr/bin/ctr', '-a', cd.sock, '-n', NS];
}

// One detached container for the task commands that follow: its init traps
// signals and says so on stdout (which --log-uri sends to a file).
const INIT = `
trap 'echo init got USR1' USR1
trap 'echo init got USR2' USR2
trap 'echo init got TERM; exit 9' TERM
echo started
while true; do sleep 1 & wait $!; done
`;
const MEMORY_LIMIT = 64 << 20;
let main = '';

t("ctr run -d and task exec: output and exit status of the exec, the task is hako's", async () => {
  main = id('main');
  const r = ctr([
    'run',
    '-d',
    ...hakoFlags(),
    '--memory-limit',
    String(MEMORY_LIMIT),
    '--log-uri',
    `file://${path.join(dir, `${main}.log`)}`,
    IMAGE_REF,
    main,
    'sh',
    '-c',
    INIT,
  ]);
  assert.is(r.status, 0, r.all);
  await waitFor('the container to start', () => logOf(main).includes('started'));
  assert.is(taskStatus(main), 'RUNNING');
  const state = JSON.parse(hako(['state', main]).stdout);
  assert.is(state.status, 'running', 'hako created it');
  assert.is(state.pid, taskPid(main), 'and the task is its init');

  const x = ctr(['task', 'exec', '--exec-id', 'x1', '--fifo-dir', cd.fifoDir, main, 'sh', '-c', 'echo exec in $(cat /proc/1/comm); exit 5']);
  assert.is(x.stdout, 'exec in sh\n', x.all);
  assert.is(x.status, 5, 'the exit status of the exec process');
  const missing = ctr(['task', 'exec', '--exec-id', 'x2', '--fifo-dir', cd.fifoDir, main, '/no/such/binary']);
  assert.is.not(missing.status, 0);
  assert.match(missing.all, `container "${main}": exec: "/no/such/binary"`, "hako's message reaches the user");
  assert.match(missing.all, 'no such file or directory');
});

t('ctr task exec -t: a terminal for the exec process', () => {
  const r = runInPty(
    [...cdCtr(), 'task', 'exec', '-t', '--exec-id', 'xt', '--fifo-dir', cd.fifoDir, main, 'sh'],
    [{ expect: '/ # ', send: 'tty; stty size; echo $((6*7))\n' }, { expect: '42\r*\n' }, { expect: '/ # ', send: 'exit 4\n' }],
    { rows: 27, cols: 101 },
  );
  assert.is(r.stuck, undefined, r.output);
  assert.is(r.status, 4, r.output);
  assert.match(r.output, /^\/dev\/pts\/\d+\r?$/m);
  assert.match(r.output, /^27 101\r?$/m);
});

t('ctr task ps: the init and an exec process, as host pids (hako ps --format json)', async () => {
  const child = `trap 'echo child got USR2 > /tmp/child; exit 0' USR2; while true; do sleep 1 & wait $!; done`;
  const r = ctr(['task', 'exec', '-d', '--exec-id', 'child', '--fifo-dir', cd.fifoDir, main, 'sh', '-c', child]);
  assert.is(r.status, 0, r.all);
  const init = taskPid(main);
  const rows = await waitFor('the exec process in task ps', () => {
    const ps = ctr(['task', 'ps', main]);
    const pids = ps.stdout
      .split('\n')
      .slice(1)
      .map((l) => Number(l.split(/\s+/)[0]))
      .filter((p) => p > 0);
    return pids.some((p) => p !== init && readCmdline(p).includes('child got USR2')) && pids;
  });
  assert.ok(rows.includes(init), 'the init is listed');
  for (const p of rows) {
    const cg = readFileSync(`/proc/${p}/cgroup`, 'utf8');
    assert.match(cg, `/${NS}/${main}`, `pid ${p} is in the container's cgroup`);
  }
});

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

t('ctr task metrics: the statistics of the cgroup hako made, with the limit it wrote', () => {
  const r = ctr(['task', 'metrics', main]);
  assert.is(r.status, 0, r.all);
  const metrics = new Map(
    r.stdout
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 2)
      .map((f) => [f[0]!, f.slice(1).join(' ')] as const),
  );
  // cgroup v1 names (these hosts), else v2's.
  const limit = metrics.get('memory.limit_in_bytes') ?? metrics.get('memory.usage_limit');
  assert.is(limit, String(MEMORY_LIMIT), r.stdout);
  assert.ok(Number(metrics.get('memory.usage_in_bytes') ?? metrics.get('memory.usage')) > 0, r.stdout);
  assert.ok(Number(metrics.get('pids.current')) >= 2, `the init and the exec child: ${r.stdout}`);
});

t("ctr task pause and resume: frozen through hako's cgroup, going on after", async () => {
  const p = ctr(['task', 'pause', main]);
  assert.is(p.status, 0, p.all);
  assert.is(p.all, '');
  assert.is(taskStatus(main), 'PAUSED');
  assert.is(JSON.parse(hako(['state', main]).stdout).status, 'paused');
  const r = ctr(['task', 'resume', main]);
  assert.is(r.status, 0, r.all);
  assert.is(taskStatus(main), 'RUNNING');
  const x = ctr(['task', 'exec', '--exec-id', 'after', '--fifo-dir', cd.fifoDir, main, 'echo', 'awake']);
  assert.is(x.stdout, 'awake\n', x.all);
});

t('ctr task kill: a signal to the init, --all to every process, TERM ends it', async () => {
  assert.is(ctr(['task', 'kill', '-s', 'SIGUSR1', main]).status, 0);
  await waitFor('the init to see USR1', () => logOf(main).includes('init got USR1'));
  assert.is(ctr(['task', 'kill', '--all', '-s', 'SIGUSR2', main]).status, 0);
  await waitFor('the init to see USR2', () => logOf(main).includes('init got USR2'));
  const child = await waitFor('the exec child to see USR2', () => {
    const c = ctr(['task', 'exec', '--exec-id', `cat${Date.now()}`, '--fifo-dir', cd.fifoDir, main, 'cat', '/tmp/child']);
    return c.status === 0 && c.stdout;
  });
  assert.is(child, 'child got USR2\n');
  assert.is(ctr(['task', 'kill', main]).status, 0, 'SIGTERM by default');
  await waitFor('the task to stop', () => taskStatus(main) === 'STOPPED');
  assert.match(logOf(main), 'init got TERM');
});

// The shim sends kill --all for a task whose init has exited (its KillAll,
// and the CRI's task delete): runc answers 0, signalling what is left in the
// cgroup; a runtime that says "container not running" fails the call.
t('ctr task kill --all of the stopped task: succeeds, as with runc', () => {
  assert.is(taskStatus(main), 'STOPPED');
  const r = ctr(['task', 'kill', '--all', '-s', 'SIGKILL', main]);
  assert.is(r.status, 0, r.all);
});

t("ctr task delete: the exit status, then hako's state and cgroup are gone", () => {
  const d = ctr(['task', 'delete', main]);
  assert.is(d.status, 0, d.all);
  assert.match(d.all, 'exit code 9', 'the status of the init');
  const s = hako(['state', main]);
  assert.is(s.status, 1);
  assert.match(s.stderr, 'does not exist');
  assert.equal(containerCgroups(main), []);
  assert.is(ctr(['container', 'delete', main]).status, 0);
});

t("a failed create: hako's message through ctr, and nothing left", () => {
  const cid = id('fail');
  const r = ctr(['run', '--rm', ...hakoFlags(), IMAGE_REF, cid, '/no/such/binary']);
  assert.is.not(r.status, 0);
  assert.match(r.all, `OCI runtime create failed: container "${cid}": exec: "/no/such/binary": stat /no/such/binary: no such file or directory`);
  const src = path.join(dir, 'no-such-dir');
  const cid2 = id('fail');
  const m = ctr(['run', '--rm', ...hakoFlags(), '--mount', `type=bind,src=${src},dst=/mnt,options=rbind:ro`, IMAGE_REF, cid2, 'true']);
  assert.is.not(m.status, 0);
  assert.match(m.all, `container "${cid2}": `);
  assert.match(m.all, src);
  // The systemd cgroup driver on a host without systemd as init (this one;
  // the driver itself is tested in scripts/vm/test-systemd.sh's guests):
  // refused in hako's words.
  const cid3 = id('fail');
  const sd = ctr(['run', '--rm', ...hakoFlags(), '--runc-systemd-cgroup', '--cgroup', `system.slice:hako:${cid3}`, IMAGE_REF, cid3, 'true']);
  assert.is.not(sd.status, 0);
  assert.match(
    sd.all,
    `OCI runtime create failed: container "${cid3}": --systemd-cgroup: systemd is not running as init on this host (/run/systemd/system is missing); use the cgroupfs driver`,
  );
  assert.is(ctr(['task', 'ls', '-q']).stdout, '');
  assert.is(hako(['list', '--format', 'json']).stdout.trim(), 'null', 'no hako state');
  assert.equal([...containerCgroups(cid), ...containerCgroups(cid2)], [], 'no cgroup');
});

t('the CRI runtime handler of docs/containerd.md: containerd loads it', async () => {
  const snippet = criRuntimesSnippet(HAKO);
  const doc = readFileSync(path.join(REPO, 'docs/containerd.md'), 'utf8');
  assert.ok(doc.includes(criRuntimesSnippet('/usr/local/bin/hako')), 'the documentation shows the snippet tested here');
  const cri = new Containerd(path.join(dir, 'cri'), { cri: snippet });
  try {
    await cri.start();
    const plugins = cmd(['/usr/bin/ctr', '-a', cri.sock, 'plugins', 'ls']);
    assert.match(plugins.stdout, /io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok/, plugins.stdout + cri.logText().slice(-2000));
  } finally {
    await cri.stop();
  }
});

t('stopping containerd leaves nothing behind', async () => {
  await cd.clean(NS);
  const state = path.join(cd.runcRoot, NS);
  assert.equal(existsSync(state) ? readdirSync(state) : [], [], 'no hako state');
  await cd.stop();
  assert.equal(processesMentioning(dir), [], 'no shim or container process');
  assert.equal(mountsUnder([dir, ...HOST_DIRS]), [], 'no mounts');
  assert.equal(removeCgroupParent(NS), [], 'no container cgroups');
  assert.equal(host.sweep(), [], 'nothing in /run/containerd');
  rmSync(dir, { recursive: true, force: true });
  assert.not.ok(existsSync(dir));
  dir = '';
});

if (!isRoot) {
  console.log(skipLine('containerd', 'every test', 'needs root'));
} else {
  t.run();
}
