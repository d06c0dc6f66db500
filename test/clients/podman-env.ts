// A podman of our own for the client suite: every file it writes lives in
// one temporary directory (storage, run root, libpod's tmp dir, locks,
// events, network config), it finds hako through containers.conf as a user
// would configure it (`[engine.runtimes]` + `runtime_supports_json`), and its
// only image is imported offline from the busybox rootfs that `make build`
// makes from the host's busybox-static.
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUSYBOX_BUNDLE, HAKO } from '../helpers.js';
import { hostSnapshot, leftovers, removeLeftovers, type HostSnapshot } from './podman-host.js';

export const IMAGE = 'localhost/hako-busybox:test';

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Bytes for the client's stdin (else /dev/null). */
  input?: string;
  /** Open fds given to podman as its fds 3, 4, ... (for --preserve-fds). */
  fds?: number[];
  timeoutMs?: number;
}

/**
 * The configuration the suite runs podman with; docs/podman.md shows the
 * same text. `dir` is the suite's temporary directory.
 */
export function containersConf(dir: string, hako: string, cgroupManager: 'cgroupfs' | 'systemd' = 'cgroupfs'): string {
  return `# podman + hako, everything under ${dir}
[containers]
# No network: loopback only (the suite needs nothing else, and no CNI setup).
netns = "none"
# podman's defaults (1048576) exceed this host's hard limits, and raising a
# hard limit needs CAP_SYS_RESOURCE, which this host's bounding set lacks.
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "hako"
# podman passes --log-format=json --log FILE only to runtimes named here,
# and then shows the runtime's own error message (podman's default list + hako).
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "hako"]
# These hosts have no systemd (the systemd guest's suite sets "systemd").
cgroup_manager = "${cgroupManager}"
# The rest keeps podman's state out of the host's /run/libpod,
# /dev/shm/libpod_lock, /var/tmp, /etc/cni and the journal.
events_logger = "file"
events_logfile_path = "${dir}/events.log"
lock_type = "file"
tmp_dir = "${dir}/libpod-tmp"
static_dir = "${dir}/storage/libpod"
volume_path = "${dir}/storage/volumes"
image_copy_tmp_dir = "${dir}/var-tmp"

[engine.runtimes]
hako = ["${hako}"]

[network]
network_config_dir = "${dir}/networks"
`;
}

export function storageConf(dir: string): string {
  return `[storage]
driver = "overlay"
graphroot = "${dir}/storage"
runroot = "${dir}/run"
`;
}

let counter = 0;

export class Podman {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  private readonly before: HostSnapshot;

  constructor(opts: { cgroupManager?: 'cgroupfs' | 'systemd' } = {}) {
    this.dir = mkdtempSync('/tmp/hako-podman-');
    chmodSync(this.dir, 0o755);
    this.before = hostSnapshot(this.dir);
    for (const d of ['var-tmp', 'networks', 'home', 'out']) mkdirSync(path.join(this.dir, d));
    writeFileSync(path.join(this.dir, 'containers.conf'), containersConf(this.dir, HAKO, opts.cgroupManager));
    writeFileSync(path.join(this.dir, 'storage.conf'), storageConf(this.dir));
    writeFileSync(path.join(this.dir, 'registries.conf'), '# offline: no registries\n');
    // Nothing of the host's configuration: CONTAINERS_CONF replaces every
    // containers.conf podman would otherwise read.
    this.env = {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: path.join(this.dir, 'home'),
      LANG: 'C',
      CONTAINERS_CONF: path.join(this.dir, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: path.join(this.dir, 'storage.conf'),
      CONTAINERS_REGISTRIES_CONF: path.join(this.dir, 'registries.conf'),
      TMPDIR: path.join(this.dir, 'var-tmp'),
    };
  }

  /**
   * Runs podman. Output goes to files, not pipes: conmon and the containers
   * it watches outlive the command, and must not keep the test waiting.
   */
  run(args: string[], opts: RunOptions = {}): Result {
    const n = ++counter;
    const outFile = path.join(this.dir, 'out', `${n}.out`);
    const errFile = path.join(this.dir, 'out', `${n}.err`);
    const out = openSync(outFile, 'w');
    const err = openSync(errFile, 'w');
    try {
      const r = spawnSync('podman', args, {
        env: this.env,
        input: opts.input,
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', out, err, ...(opts.fds ?? [])],
        timeout: opts.timeoutMs ?? 180_000,
        killSignal: 'SIGKILL',
      });
      if (r.error) throw new Error(`podman ${args.join(' ')}: ${r.error.message}`);
      return { status: r.status, signal: r.signal, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') };
    } finally {
      closeSync(out);
      closeSync(err);
      rmSync(outFile, { force: true });
      rmSync(errFile, { force: true });
    }
  }

  /** Runs podman and insists on success; the error says what podman said. */
  ok(args: string[], opts: RunOptions = {}): Result {
    const r = this.run(args, opts);
    if (r.status !== 0) throw new Error(`podman ${args.join(' ')}: exit ${r.status ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
  }

  /** `podman import` of a tar of the busybox bundle's rootfs: no registry involved. */
  importImage(): void {
    const rootfs = path.join(BUSYBOX_BUNDLE, 'rootfs');
    if (!existsSync(path.join(rootfs, 'bin/busybox'))) throw new Error(`${rootfs}: no busybox rootfs (run make build)`);
    const tar = path.join(this.dir, 'busybox.tar');
    const t = spawnSync('tar', ['-C', rootfs, '--exclude', './.hako-rootfs', '-cf', tar, '.'], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`tar of ${rootfs}: ${t.stderr}`);
    this.ok(['import', '--quiet', tar, IMAGE]);
    rmSync(tar);
  }

  /** What the suite left on the host, one line per thing (empty: nothing). */
  leftovers(): string[] {
    const found: string[] = [];
    const ps = this.run(['ps', '-a', '--format', '{{.ID}} {{.Names}} {{.Status}}']);
    if (ps.status !== 0) found.push(`podman ps -a failed: ${ps.stderr.trim()}`);
    else
      found.push(
        ...ps.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => `podman container ${l}`),
      );
    return [...found, ...leftovers(this.before, this.dir)];
  }

  /** Removes what podman knows of, then what it should not have left. */
  cleanup(): void {
    this.run(['rm', '--all', '--force', '--time', '0']);
    this.run(['rmi', '--all', '--force']);
    removeLeftovers(this.before, this.dir);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls until check returns a value (not undefined), without timed assertions. */
export function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 60_000): T {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs / 1000}s`);
    Atomics.wait(pause, 0, 0, 100);
  }
}
