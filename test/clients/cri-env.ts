// The CRI test's world: a containerd of its own with the CRI plugin on
// (containerd-daemon.ts), two runtime handlers of the runc shim ("hako":
// BinaryName = bin/hako; "runc": Debian's runc, for comparison), each with
// its state (the shim's Root) in our temporary directory; a CNI bridge
// network of its own (containernetworking-plugins); and two images built
// offline and imported into the k8s.io namespace: busybox (image.ts) and
// a pause image made of test/fixtures/pause/pause.c, the sandbox_image.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HAKO, REPO } from '../helpers.js';
import { Containerd } from './containerd-daemon.js';
import { CriClient } from './cri-client.js';
import { cgroupMounts, cmd, HostDirs, mountsUnder, processesMentioning, removeCgroupParent } from './host-state.js';
import { buildImages, IMAGE_REF, layerOf, writeOciArchive } from './image.js';

export const PAUSE_REF = 'hako.test/pause:latest';
export const BUSYBOX_REF = IMAGE_REF;
/** Where Debian's containernetworking-plugins puts the plugins. */
export const CNI_BIN = '/usr/lib/cni';
export const RUNC = '/usr/sbin/runc';
export type Handler = 'hako' | 'runc';
/** Every scenario runs with each; HAKO_CRI_HANDLERS=hako (comma-separated) narrows it, for debugging. */
export const HANDLERS: readonly Handler[] = (process.env.HAKO_CRI_HANDLERS?.split(',') as Handler[] | undefined) ?? ['hako', 'runc'];

// Made by the shims and the CNI library whatever paths they are given.
const HOST_DIRS = ['/run/containerd', '/run/containerd/s', '/var/lib/cni', '/var/lib/cni/results'];

/** The pause image: one static executable, /pause, its entrypoint. */
function buildPauseImage(dir: string): string {
  const work = path.join(dir, 'pause-work');
  const rootfs = path.join(work, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  const cc = spawnSync('cc', ['-static', '-O2', '-Wall', '-o', path.join(rootfs, 'pause'), path.join(REPO, 'test/fixtures/pause/pause.c')], {
    encoding: 'utf8',
  });
  if (cc.status !== 0) throw new Error(`cc -static pause.c (build-essential): ${cc.error?.message ?? cc.stderr}`);
  const out = path.join(dir, 'pause-oci.tar');
  writeOciArchive(
    work,
    out,
    layerOf(work, rootfs, ['pause']),
    PAUSE_REF,
    { Env: [], Entrypoint: ['/pause'], WorkingDir: '/' },
    'hako test/fixtures/pause/pause.c',
  );
  rmSync(work, { recursive: true, force: true });
  return out;
}

function runtimeToml(name: string, binary: string, root: string): string {
  const table = `plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${name}`;
  return `  [${table}]
    runtime_type = "io.containerd.runc.v2"
    [${table}.options]
      BinaryName = "${binary}"
      Root = "${root}"
`;
}

export class CriEnv {
  readonly dir: string;
  readonly cd: Containerd;
  readonly cri: CriClient;
  /** The Pods' cgroup parent (cgroupfs): every container's cgroup is under it. */
  readonly cgroupParent = `/hako-cri-${process.pid}`;
  readonly bridge = `hkcri${process.pid % 100000}`;
  private readonly host = new HostDirs(HOST_DIRS);

  private constructor() {
    this.dir = mkdtempSync('/tmp/hako-cri-');
    const cdDir = path.join(this.dir, 'containerd');
    const runtimes = `[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"
${runtimeToml('runc', RUNC, this.stateRoot('runc'))}${runtimeToml('hako', HAKO, this.stateRoot('hako'))}`;
    this.cd = new Containerd(cdDir, {
      cri: runtimes,
      // A port of its own for the streaming server (not 10010: another
      // containerd may have it); network namespaces in our state directory.
      // restrict_oom_score_adj: the sandbox asks for -998, which needs
      // CAP_SYS_RESOURCE; the test hosts' root lacks it (both runtimes
      // then fail RunPodSandbox), so containerd clamps to our own value.
      criKeys: `  stream_server_port = "0"
  sandbox_image = "${PAUSE_REF}"
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = true
`,
    });
    this.cri = new CriClient(this.cd.sock);
  }

  /** The shim's --root for a handler (the shim adds the namespace, k8s.io). */
  stateRoot(h: Handler): string {
    return path.join(this.dir, `${h}-state`);
  }

  static async start(): Promise<CriEnv> {
    const env = new CriEnv();
    env.writeCni();
    await env.cd.start();
    const images = path.join(env.dir, 'images');
    mkdirSync(images);
    for (const tar of [buildImages(images).oci, buildPauseImage(images)]) {
      const r = env.cd.ctr('k8s.io', ['image', 'import', tar]);
      if (r.status !== 0) throw new Error(`ctr image import ${tar}: ${r.all}`);
    }
    return env;
  }

  private writeCni(): void {
    const cni = path.join(this.cd.dir, 'cni');
    mkdirSync(path.join(cni, 'net.d'), { recursive: true });
    if (!existsSync(path.join(CNI_BIN, 'bridge'))) throw new Error(`${CNI_BIN}/bridge: missing (Debian package containernetworking-plugins)`);
    symlinkSync(CNI_BIN, path.join(cni, 'bin'));
    // A bridge of our own, no masquerading (no iptables rules to undo),
    // leases in our directory. containerd adds the loopback network itself.
    const conf = {
      cniVersion: '1.0.0',
      name: `hako-cri-${process.pid}`,
      plugins: [
        {
          type: 'bridge',
          bridge: this.bridge,
          isGateway: true,
          ipMasq: false,
          ipam: { type: 'host-local', ranges: [[{ subnet: `10.231.${process.pid % 250}.0/24` }]], dataDir: path.join(this.dir, 'ipam') },
        },
      ],
    };
    writeFileSync(path.join(cni, 'net.d', '10-hako-cri.conflist'), JSON.stringify(conf, null, 2));
  }

  /** Container cgroup directories left under the Pods' parent, in any hierarchy. */
  cgroupsLeft(): string[] {
    const left: string[] = [];
    for (const m of cgroupMounts()) {
      const top = path.join(m, this.cgroupParent);
      if (!existsSync(top)) continue;
      for (const e of readdirSync(top, { withFileTypes: true })) if (e.isDirectory()) left.push(path.join(top, e.name));
    }
    return left;
  }

  /** Everything a Pod of `h` may leave: the runtime's state, shims and containers, cgroups, mounts. */
  leftovers(h: Handler): string[] {
    const root = path.join(this.stateRoot(h), 'k8s.io');
    const state = existsSync(root) ? readdirSync(root).map((e) => `${h} state ${e}`) : [];
    const procs = processesMentioning(this.cd.sock).map((p) => `process ${p}: ${cmd(['ps', '-o', 'args=', '-p', String(p)]).stdout.trim()}`);
    // containerd's own root holds no mounts; everything else under our directory would be a Pod's.
    const mounts = mountsUnder([this.dir]).map((m) => `mount ${m}`);
    return [...state, ...procs, ...this.cgroupsLeft().map((c) => `cgroup ${c}`), ...mounts];
  }

  /** Stops containerd (what a failed test left is force-removed first) and removes what we made. Returns what could not be. */
  async stop(): Promise<string[]> {
    if (this.cd.pid) {
      // Pods first, through the CRI: their network namespaces, shm mounts
      // and CNI leases are the CRI plugin's to undo, not the tasks'.
      for (const pod of await this.cri.listPodSandbox().catch(() => [])) {
        await this.cri.stopPodSandbox(pod).catch(() => {});
        await this.cri.removePodSandbox(pod).catch(() => {});
      }
      await this.cd.clean('k8s.io');
      await this.cd.stop();
    }
    this.cri.close();
    const left = [...mountsUnder([this.dir]), ...removeCgroupParent(this.cgroupParent)];
    if (spawnSync('ip', ['link', 'show', this.bridge]).status === 0) spawnSync('ip', ['link', 'del', this.bridge]);
    left.push(...this.host.sweep());
    if (!mountsUnder([this.dir]).length) rmSync(this.dir, { recursive: true, force: true });
    return left;
  }
}
