// Rootless podman with hako as its runtime, as an unprivileged test user
// (made and removed here) would set it up: containers.conf naming hako,
// storage in its own directory, /etc/subuid and /etc/subgid ranges. podman
// then runs hako inside its own user namespace as that namespace's root
// (euid 0, not the initial root): hako must take that for rootless (no
// cgroup writes it may not do, state under $XDG_RUNTIME_DIR/hako).
// Observed from inside the containers and from the host.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { BUSYBOX_BUNDLE, HAKO, isRoot, type Result } from '../helpers.js';
import { TestUser } from '../rootless-user.js';
import { containersConf } from './podman-env.js';

const t = suite('podman-rootless');
const test = skippable(t, 'podman-rootless');
const UNUSABLE = 'needs root, podman, conmon, newuidmap, setpriv';
const IMAGE = 'localhost/hako-busybox:rootless';
const SUBID_BASE = 500000;
const usable = isRoot && !!spawnSync('sh', ['-c', 'command -v podman conmon newuidmap setpriv'], { encoding: 'utf8' }).stdout.trim();

let user: TestUser;
let top: string;
let conf: Record<string, string>;

function podman(args: string[]): Result {
  return user.run(['podman', ...args], { envExtra: conf, timeout: 180_000, killSignal: 'SIGKILL' });
}

function ok(args: string[]): Result {
  const r = podman(args);
  assert.is(r.status, 0, `podman ${args.join(' ')}: ${r.stderr}`);
  return r;
}

t.before(() => {
  if (!usable) return;
  top = mkdtempSync('/tmp/hako-podman-rootless-');
  chmodSync(top, 0o755);
  user = TestUser.create(path.join(top, 'home'));
  user.addSubids(SUBID_BASE, 65536);
  const dir = path.join(user.dir, 'podman');
  for (const d of ['', 'var-tmp', 'networks']) mkdirSync(path.join(dir, d), { recursive: true });
  writeFileSync(path.join(dir, 'containers.conf'), containersConf(dir, HAKO));
  writeFileSync(path.join(dir, 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/storage"\nrunroot = "${dir}/run"\n`);
  writeFileSync(path.join(dir, 'registries.conf'), '# offline: no registries\n');
  spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
  conf = {
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: path.join(dir, 'registries.conf'),
    TMPDIR: path.join(dir, 'var-tmp'),
  };
  const tar = path.join(user.dir, 'busybox.tar');
  assert.is(spawnSync('tar', ['-C', path.join(BUSYBOX_BUNDLE, 'rootfs'), '--exclude', './.hako-rootfs', '-cf', tar, '.']).status, 0);
  spawnSync('chown', [`${user.uid}:${user.gid}`, tar]);
  ok(['import', '--quiet', tar, IMAGE]);
});

t.after(() => {
  if (!usable) return;
  podman(['rm', '--all', '--force', '--time', '0']);
  podman(['rmi', '--all', '--force']);
  // Rootless podman keeps a pause process holding its user namespace: ours
  // to end, by the pid it recorded.
  // (in containers.conf's tmp_dir, which containersConf puts in our directory).
  for (const pauseFile of [path.join(user.dir, 'podman', 'libpod-tmp', 'pause.pid'), path.join(user.xdg, 'libpod', 'tmp', 'pause.pid')]) {
    if (!existsSync(pauseFile)) continue;
    const pid = Number(readFileSync(pauseFile, 'utf8').trim());
    if (pid > 1) spawnSync('kill', ['-KILL', String(pid)]);
  }
  user.remove();
  spawnSync('rm', ['-rf', top]);
});

test('run: root inside is the user outside, the rest of the ids from /etc/subuid; hako took itself for rootless', () => {
  if (!usable) skip(UNUSABLE);
  const r = ok(['run', '--rm', IMAGE, 'sh', '-c', 'id -u; cat /proc/self/uid_map; cat /proc/self/cgroup']);
  const [uid, ...rest] = r.stdout.trim().split('\n');
  assert.is(uid, '0');
  assert.equal(rest[0]!.trim().split(/\s+/), ['0', String(user.uid), '1']);
  assert.equal(rest[1]!.trim().split(/\s+/), ['1', String(SUBID_BASE), '65536']);
  // No cgroup of its own on a host without delegation: where conmon is.
  assert.not.match(rest.slice(2).join('\n'), /libpod/);
  // hako's state went to the user's XDG_RUNTIME_DIR, and nothing is left of the container.
  assert.ok(existsSync(path.join(user.xdg, 'hako')), 'state root under $XDG_RUNTIME_DIR');
  assert.equal(readdirSync(path.join(user.xdg, 'hako')), []);
});

test('run -d, exec, exec -t, stop, rm', () => {
  if (!usable) skip(UNUSABLE);
  const id = ok(['run', '-d', IMAGE, 'sleep', '1000']).stdout.trim();
  try {
    let r = ok(['exec', id, 'sh', '-c', 'id -u; cat /proc/1/cmdline | tr "\\0" " "']);
    assert.equal(
      r.stdout
        .trim()
        .split('\n')
        .map((s) => s.trim()),
      ['0', 'sleep 1000'],
    );
    r = ok(['exec', '-t', id, 'tty']);
    assert.match(r.stdout, /^\/dev\/pts\/\d+/);
    const pid = Number(ok(['inspect', '--format', '{{.State.Pid}}', id]).stdout.trim());
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), new RegExp(`^Uid:\\s+${user.uid}\\s`, 'm'));
    ok(['stop', '--time', '1', id]);
    assert.match(ok(['inspect', '--format', '{{.State.Status}}', id]).stdout, /exited/);
  } finally {
    podman(['rm', '--force', '--time', '0', id]);
  }
  assert.equal(readdirSync(path.join(user.xdg, 'hako')), []);
});

test("--userns=keep-id: the user itself inside (a user namespace hako creates inside podman's)", () => {
  if (!usable) skip(UNUSABLE);
  const r = ok(['run', '--rm', '--userns=keep-id', IMAGE, 'sh', '-c', 'id -u; id -g']);
  assert.equal(r.stdout.trim().split('\n'), [String(user.uid), String(user.gid)]);
});

t.run();
