// A dockerd of the suite's own, on a containerd of the suite's own
// (containerd-daemon.ts): data root, exec root, pid file, socket and
// daemon.json in a temporary directory; no network of its own (no bridge,
// no iptables), so containers run with --network none. hako is registered
// twice, the two ways Docker documents: daemon.json `runtimes` (also made
// the default runtime) and the --add-runtime flag.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Containerd } from './containerd-daemon.js';
import { cmd, stopDaemon, waitFor, type CmdResult } from './host-state.js';

export const DOCKERD = '/usr/sbin/dockerd';
// Debian's docker.io client: the daemon's own version (another docker may be first on PATH).
export const DOCKER = '/usr/bin/docker';

/**
 * daemon.json as docs/docker.md shows it (with the path of bin/hako in
 * place of /usr/local/bin/hako). `default-runtime` makes a plain
 * `docker run` use hako too.
 */
export function daemonJsonRuntimes(hako: string): { runtimes: Record<string, { path: string }>; 'default-runtime': string } {
  return { runtimes: { hako: { path: hako } }, 'default-runtime': 'hako' };
}

export class Dockerd {
  readonly sock: string;
  readonly log: string;
  readonly pidFile: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly daemonJson: string;
  /** The docker client's config directory (it would use ~/.docker). */
  readonly clientConfig: string;
  readonly containerd: Containerd;
  pid = 0;

  constructor(
    readonly dir: string,
    private readonly hako: string,
    /** The cgroup parent of every container (dockerd's --cgroup-parent). */
    readonly cgroupParent: string,
  ) {
    this.sock = path.join(dir, 'docker.sock');
    this.log = path.join(dir, 'dockerd.log');
    this.pidFile = path.join(dir, 'docker.pid');
    this.dataRoot = path.join(dir, 'data');
    this.execRoot = path.join(dir, 'exec');
    this.daemonJson = path.join(dir, 'daemon.json');
    this.clientConfig = path.join(dir, 'client');
    this.containerd = new Containerd(path.join(dir, 'containerd'));
  }

  /** Where the runc shim keeps hako's state for Docker's containers (dockerd passes it as the shim's Root option). */
  get runtimeRoot(): string {
    return path.join(this.execRoot, 'runtime-runc', 'moby');
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(this.clientConfig, { recursive: true });
    await this.containerd.start();
    // dockerd 20.10 writes its trust key next to the default daemon.json
    // (/etc/docker/key.json) unless told otherwise.
    writeFileSync(this.daemonJson, JSON.stringify({ ...daemonJsonRuntimes(this.hako), 'deprecated-key-path': path.join(this.dir, 'key.json') }, null, 2));
    const log = openSync(this.log, 'a');
    try {
      const child = spawn(
        DOCKERD,
        [
          '--config-file',
          this.daemonJson,
          '--data-root',
          this.dataRoot,
          '--exec-root',
          this.execRoot,
          '--pidfile',
          this.pidFile,
          '-H',
          `unix://${this.sock}`,
          '--containerd',
          this.containerd.sock,
          '--bridge',
          'none',
          '--iptables=false',
          '--ip-masq=false',
          '--cgroup-parent',
          this.cgroupParent,
          '--add-runtime',
          `hako-flag=${this.hako}`,
        ],
        { stdio: ['ignore', log, log], detached: true },
      );
      child.unref();
      this.pid = child.pid ?? 0;
    } finally {
      closeSync(log);
    }
    await waitFor(`dockerd on ${this.sock} (log: ${this.log})`, () => this.pid && this.docker(['version'], { timeout: 10_000 }).status === 0);
  }

  docker(args: string[], opts: Parameters<typeof cmd>[1] = {}): CmdResult {
    return cmd([DOCKER, ...args], { ...opts, env: this.clientEnv() });
  }

  clientEnv(): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: `unix://${this.sock}`, DOCKER_CONFIG: this.clientConfig };
  }

  logText(): string {
    try {
      return readFileSync(this.log, 'utf8');
    } catch {
      return '';
    }
  }

  /** Removes every container (what a failed test left). */
  clean(): void {
    const ids = this.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
    if (ids.length) this.docker(['rm', '-f', ...ids]);
  }

  async stop(): Promise<void> {
    if (this.pid) await stopDaemon(this.pid, 'dockerd');
    this.pid = 0;
    await this.containerd.stop();
  }
}
