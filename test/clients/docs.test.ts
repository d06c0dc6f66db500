// README.md and docs/*.md, run as a reader would: every ```sh block (and
// every block marked `<!-- file: PATH -->`, written to PATH) in order, file
// by file, in one shell per file started in the checkout; the first command
// that fails ends the run, named with its file and line and shown with the
// output of its block. test/docs-blocks.ts has the marker rules (also in
// docs/README.md).
//
// The docs use fixed paths (/usr/local/bin/hako, /etc/containerd/...,
// /etc/docker/daemon.json, default sockets), so the commands run unchanged
// in namespaces of their own, which leave the host as it was:
//  - a mount namespace with private copies (overlays) of /etc, /var and
//    /root, empty tmpfs over /run, /tmp, /var/lib, /var/tmp, /var/log,
//    /dev/shm and /usr/local/bin (a fresh machine has nothing there; this
//    host has another docker in it), so daemons start from nothing and all
//    they write vanishes with the namespace;
//  - a network namespace (dockerd's bridge and iptables rules, podman's CNI
//    network stay in it);
//  - a pid namespace whose init is the wrapper below: once the blocks are
//    done it lists any process still running (a daemon a doc did not stop is
//    a failure), and its exit kills them all.
// What the namespaces cannot hold is checked from the host: the cgroups the
// docs' containers and daemons make (their parents are removed when empty
// and new, as the client suites do), and the checkout (no file left in it).
// HAKO_DOCS_LOG=1 prints the whole run's commands and output.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HAKO, isRoot, REPO } from '../helpers.js';
import { skippable, skip } from '../skip.js';
import { failureOf, parseBlocks, runnerScript, type Block } from '../docs-blocks.js';
import { cgroupMounts } from './host-state.js';
import { mountsNaming, processesOf } from '../leftovers.js';

const t = suite('docs');
const test = skippable(t, 'docs');

/** README.md first (it installs hako), then docs/*.md by name. */
function docFiles(): string[] {
  return [
    'README.md',
    ...readdirSync(path.join(REPO, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `docs/${f}`),
  ];
}

/** The files with commands of their own (docs/systemd.md needs systemd as PID 1 throughout). */
const MUST_RUN = ['README.md', 'docs/podman.md', 'docs/containerd.md', 'docs/docker.md'];

/**
 * Top-level cgroups the docs' commands make: containerd's namespace
 * (`default`), dockerd's and podman's cgroupfs parents, and hako's own for
 * the README's containers (no cgroupsPath: `/<id>`).
 */
const DOC_CGROUPS = ['default', 'docker', 'libpod_parent', 'demo', 'sleeper'];

// The pid namespace's init: mounts, the blocks, then what is still running.
const WRAPPER = `set -u
scratch=$1
exec 3<"$2"
mount --make-rprivate /
for d in /etc /var /root; do
  n=$(echo "$d" | tr / _)
  mkdir -p "$scratch/up$n" "$scratch/work$n"
  mount -t overlay overlay -o "lowerdir=$d,upperdir=$scratch/up$n,workdir=$scratch/work$n" "$d"
done
for d in /var/lib /var/tmp /var/log /dev/shm /usr/local/bin; do mount -t tmpfs -o mode=755 tmpfs "$d"; done
mount -t tmpfs -o mode=755 tmpfs /run && mkdir /run/lock
mount -t tmpfs -o mode=1777 tmpfs /tmp
chmod 1777 /dev/shm /var/tmp
if command -v ip >/dev/null; then ip link set lo up; fi
bash /dev/fd/3
rc=$?
# What is still running: a daemon the docs did not stop, or what finishes on
# its own (conmon's exit command, podman's cleanup, runs after podman rm
# returns): given 30 s for that, after a run that went through (after a
# failure the list is only for the record).
left() {
  for p in /proc/[0-9]*; do
    pid=\${p#/proc/}
    [ "$pid" = 1 ] || [ "$pid" = "$BASHPID" ] && continue
    read -r stat <"$p/stat" 2>/dev/null || continue
    s=\${stat##*) }
    case \${s%% *} in Z | X) continue ;; esac
    argv0=
    read -r -d '' argv0 <"$p/cmdline" 2>/dev/null
    echo "hako-docs: LEFTOVER $pid $argv0"
  done
}
for i in $(seq 60); do
  [ "$rc" = 0 ] && [ -n "$(left)" ] || break
  sleep 0.5
done
left
exit $rc
`;

/** What the clients leave by design once their containers are gone (empty parents, podman's conmon cgroup). */
const CLIENT_LEAVES = new Set(['default', 'docker', 'libpod_parent', 'libpod_parent/conmon']);

/** Which of DOC_CGROUPS exist in which hierarchy. */
function cgroupsBefore(): Set<string> {
  const have = new Set<string>();
  for (const m of cgroupMounts()) for (const n of DOC_CGROUPS) if (existsSync(path.join(m, n))) have.add(path.join(m, n));
  return have;
}

/** `dir` and the directories below it, deepest first. */
function cgroupTree(dir: string): string[] {
  const below = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => cgroupTree(path.join(dir, e.name)));
  return [...below, dir];
}

/**
 * Removes the cgroups among DOC_CGROUPS that the run made, and returns
 * those that a container should not have left (anything but CLIENT_LEAVES).
 * Every process of the run is dead by now (the pid namespace is gone): a
 * cgroup with processes in it is another run's (colleagues' suites on this
 * host), left alone and not counted.
 */
function sweepCgroups(before: Set<string>): string[] {
  const leaked: string[] = [];
  for (const m of cgroupMounts()) {
    for (const n of DOC_CGROUPS) {
      const top = path.join(m, n);
      if (before.has(top) || !existsSync(top)) continue;
      for (const d of cgroupTree(top)) {
        if (readFileSync(path.join(d, 'cgroup.procs'), 'utf8').trim()) continue;
        const rel = path.relative(m, d);
        if (!CLIENT_LEAVES.has(rel)) leaked.push(d);
        try {
          rmdirSync(d);
        } catch {
          /* a child still in use (not ours, as above) */
        }
      }
    }
  }
  return leaked;
}

const gitStatus = () => spawnSync('git', ['-C', REPO, 'status', '--porcelain', '--ignored=no'], { encoding: 'utf8' }).stdout;

function missingTools(): string[] {
  return ['/usr/bin/unshare', '/usr/bin/podman', '/usr/bin/containerd', '/usr/bin/ctr', '/usr/sbin/dockerd', '/usr/bin/docker', '/usr/bin/jq'].filter(
    (p) => !existsSync(p),
  );
}

test('every runnable block of README.md and docs/*.md, in order, leaving nothing behind', () => {
  if (!isRoot) skip('needs root');
  const missing = missingTools();
  if (missing.length) skip(`not installed: ${missing.join(', ')} (make test-clients installs them)`);
  if (!existsSync(HAKO)) throw new Error(`${HAKO}: not built (make build)`);

  const files = docFiles().map((file) => ({ file, blocks: parseBlocks(file, readFileSync(path.join(REPO, file), 'utf8')) }));
  const script = runnerScript(files, REPO);
  const dir = mkdtempSync('/tmp/hako-docs-');
  const runner = path.join(dir, 'runner.sh');
  const wrapper = path.join(dir, 'wrapper.sh');
  const logPath = path.join(dir, 'log');
  writeFileSync(runner, script.text);
  writeFileSync(wrapper, WRAPPER);
  const cgBefore = cgroupsBefore();
  const gitBefore = gitStatus();
  let log = '';
  let status: number | null = null;
  let signal: NodeJS.Signals | null = null;
  let cgLeft: string[] = [];
  let hostLeft: string[] = [];
  try {
    // Output to a file: daemons the blocks start in the background inherit it.
    const fd = openSync(logPath, 'w');
    try {
      const r = spawnSync(
        'unshare',
        ['--mount', '--net', '--pid', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private', 'bash', wrapper, path.join(dir, 'ns'), runner],
        {
          stdio: ['ignore', fd, fd],
          cwd: REPO,
          env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' },
          timeout: 300_000,
          killSignal: 'SIGKILL',
        },
      );
      status = r.status;
      signal = r.signal;
    } finally {
      closeSync(fd);
    }
    log = readFileSync(logPath, 'utf8');
  } finally {
    cgLeft = sweepCgroups(cgBefore);
    // The overlays' upper directories are in `dir`: no mount of them, and no
    // process of this checkout's launcher, may have reached the host.
    hostLeft = [...mountsNaming(dir).map((m) => `mount: ${m}`), ...processesOf(dir).map((p) => `process: ${p}`)];
    if (!hostLeft.length) rmSync(dir, { recursive: true, force: true });
  }
  const failure = failureOf(log, script);
  if (failure) {
    const where = failure.origin ? `${failure.origin.file}:${failure.origin.line}` : 'the runner';
    // The output since the start of the failing block.
    const mark = failure.origin ? log.lastIndexOf(`--- ${failure.origin.file}:`) : -1;
    assert.unreachable(
      `${where}: \`${failure.command}\` exited ${failure.status}; the block's commands and output:\n${log.slice(mark < 0 ? 0 : log.lastIndexOf('\n', mark) + 1)}`,
    );
  }
  assert.is(signal, null, `the run was killed (${signal}) after 5 minutes; its output:\n${log}`);
  assert.is(status, 0, `the run exited ${status}; its output:\n${log}`);
  const leftovers = log.split('\n').filter((l) => l.startsWith('hako-docs: LEFTOVER '));
  assert.equal(leftovers, [], `processes still running after the last block (a daemon not stopped?):\n${leftovers.join('\n')}\n${log}`);
  assert.equal(hostLeft, [], `left on the host (${dir} kept):\n${hostLeft.join('\n')}`);
  assert.equal(cgLeft, [], `cgroups the docs' containers left (removed now):\n${cgLeft.join('\n')}`);
  assert.is(gitStatus(), gitBefore, 'files left in the checkout');
  // A marker put on the wrong block cannot silently skip a whole client's doc.
  const ran = (b: Block) => b.action.kind === 'run';
  for (const { file, blocks } of files) if (MUST_RUN.includes(file)) assert.ok(blocks.some(ran), `${file}: no block ran`);
  if (process.env.HAKO_DOCS_LOG) console.log(log);
});

t.run();
