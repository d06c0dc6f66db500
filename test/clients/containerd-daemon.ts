// A containerd of the suite's own: root, state and sockets in a temporary
// directory, started from a config file there and stopped by pid. The CRI
// plugin is off unless a test asks for it (it wants CNI, and Kubernetes is
// not here); so are the plugins that would touch host paths (/opt/containerd)
// or probe for storage we do not use.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cmd, stopDaemon, waitFor, type CmdResult } from './host-state.js';

export const CONTAINERD = '/usr/bin/containerd';
export const CTR = '/usr/bin/ctr';

const QUIET_PLUGINS = [
  'io.containerd.internal.v1.opt',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.tracing.processor.v1.otlp',
];

/**
 * The CRI runtime handler for hako, as docs/containerd.md shows it (with the
 * path of bin/hako in place of /usr/local/bin/hako). A `runtimes` table
 * replaces containerd's built-in one, so runc is declared again: without it
 * the CRI plugin refuses to load ("no corresponding runtime configured in
 * containerd.runtimes for default_runtime_name runc").
 */
export function criRuntimesSnippet(hako: string): string {
  return `[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hako]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.hako.options]
      BinaryName = "${hako}"
`;
}

export interface ContainerdOptions {
  /** Enable the CRI plugin with this extra TOML (runtimes); its CNI directories go to the temp dir. */
  cri?: string;
  /** Keys of the CRI plugin's own table (`key = value` lines: sandbox_image, ...). */
  criKeys?: string;
}

export class Containerd {
  readonly sock: string;
  readonly log: string;
  readonly config: string;
  /** hako's --root for containers started by ctr (`--runc-root`; the shim adds the namespace). */
  readonly runcRoot: string;
  /** ctr's FIFOs (default /run/containerd/fifo). */
  readonly fifoDir: string;
  pid = 0;

  constructor(
    readonly dir: string,
    readonly opts: ContainerdOptions = {},
  ) {
    this.sock = path.join(dir, 'containerd.sock');
    this.log = path.join(dir, 'containerd.log');
    this.config = path.join(dir, 'config.toml');
    this.runcRoot = path.join(dir, 'runc-root');
    this.fifoDir = path.join(dir, 'fifo');
  }

  configText(): string {
    const disabled = [...QUIET_PLUGINS, ...(this.opts.cri === undefined ? ['io.containerd.grpc.v1.cri'] : [])];
    let toml = `version = 2
root = "${this.dir}/root"
state = "${this.dir}/state"
disabled_plugins = ${JSON.stringify(disabled)}

[grpc]
  address = "${this.sock}"

[ttrpc]
  address = "${this.sock}.ttrpc"
`;
    if (this.opts.cri !== undefined) {
      toml += `
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
${this.opts.criKeys ?? ''}  [plugins."io.containerd.grpc.v1.cri".cni]
    conf_dir = "${this.dir}/cni/net.d"
    bin_dir = "${this.dir}/cni/bin"
${this.opts.cri}`;
    }
    return toml;
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    mkdirSync(this.runcRoot, { recursive: true });
    mkdirSync(this.fifoDir, { recursive: true });
    writeFileSync(this.config, this.configText());
    const log = openSync(this.log, 'a');
    try {
      // Its own process group: a ^C of the test run does not reach it
      // half-way; it is stopped by pid at the end.
      const child = spawn(CONTAINERD, ['--config', this.config], { stdio: ['ignore', log, log], detached: true });
      child.unref();
      this.pid = child.pid ?? 0;
    } finally {
      closeSync(log);
    }
    await waitFor(`containerd on ${this.sock} (log: ${this.log})`, () => {
      if (!this.pid) return false;
      return cmd([CTR, '-a', this.sock, 'version'], { timeout: 10_000 }).status === 0;
    });
  }

  /** `ctr -a <sock> -n <namespace> ...args`. */
  ctr(namespace: string, args: string[], opts: Parameters<typeof cmd>[1] = {}): CmdResult {
    return cmd([CTR, '-a', this.sock, '-n', namespace, ...args], opts);
  }

  logText(): string {
    try {
      return readFileSync(this.log, 'utf8');
    } catch {
      return '';
    }
  }

  /** Removes every task and container in the namespace (what a failed test left). */
  async clean(namespace: string): Promise<void> {
    for (const line of this.ctr(namespace, ['task', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
      this.ctr(namespace, ['task', 'kill', '-s', 'SIGKILL', line]);
      this.ctr(namespace, ['task', 'delete', '--force', line]);
    }
    for (const line of this.ctr(namespace, ['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
      this.ctr(namespace, ['container', 'delete', line]);
    }
  }

  async stop(): Promise<void> {
    if (this.pid) await stopDaemon(this.pid, 'containerd');
    this.pid = 0;
  }
}
