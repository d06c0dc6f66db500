// A small client of the Kubernetes CRI (runtime.v1.RuntimeService), for
// the calls the kubelet makes to run a Pod: gRPC from @grpc/grpc-js, the
// messages encoded by protowire.ts from the field numbers of the CRI API
// (k8s.io/cri-api pkg/apis/runtime/v1/api.proto). Only the fields the test
// sets or reads are here.
import * as grpc from '@grpc/grpc-js';
import { Reader, Writer } from '../../src/protowire.js';

/** NamespaceMode: POD is shared by the Pod's containers, NODE is the host's. */
export const NS = { POD: 0, CONTAINER: 1, NODE: 2 } as const;
export type NamespaceMode = (typeof NS)[keyof typeof NS];

/** ContainerState. */
export const STATE = { CREATED: 0, RUNNING: 1, EXITED: 2, UNKNOWN: 3 } as const;

export interface Namespaces {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
}

export interface PodConfig {
  name: string;
  uid: string;
  namespace: string;
  attempt?: number;
  hostname?: string;
  logDirectory?: string;
  cgroupParent?: string;
  namespaces?: Namespaces;
}

export interface Resources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
}

export interface ContainerConfig {
  name: string;
  attempt?: number;
  image: string;
  command?: string[];
  args?: string[];
  logPath?: string;
  resources?: Resources;
  namespaces?: Namespaces;
}

export interface ContainerStatus {
  id: string;
  state: number;
  exitCode: number;
  reason: string;
  /** From the verbose info: the task's pid (0 once it has exited). */
  pid: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const namespaceOption = (ns: Namespaces | undefined) => new Writer().int(1, ns?.network).int(2, ns?.pid).int(3, ns?.ipc);

/** PodSandboxConfig. */
function podSandboxConfig(c: PodConfig): Writer {
  const metadata = new Writer().str(1, c.name).str(2, c.uid).str(3, c.namespace).int(4, c.attempt);
  // LinuxPodSandboxConfig { cgroup_parent = 1; security_context = 2 { namespace_options = 1 } }
  const linux = new Writer().str(1, c.cgroupParent).msg(2, new Writer().msg(1, namespaceOption(c.namespaces)));
  return new Writer().msg(1, metadata).str(2, c.hostname).str(3, c.logDirectory).msg(8, linux);
}

/** LinuxContainerResources. */
const resources = (r: Resources) => new Writer().int(1, r.cpuPeriod).int(2, r.cpuQuota).int(3, r.cpuShares).int(4, r.memoryLimitInBytes);

/** ContainerConfig. */
function containerConfig(c: ContainerConfig): Writer {
  const metadata = new Writer().str(1, c.name).int(2, c.attempt);
  // LinuxContainerConfig { resources = 1; security_context = 2 { namespace_options = 3 } }
  const linux = new Writer().msg(1, c.resources ? resources(c.resources) : undefined).msg(2, new Writer().msg(3, namespaceOption(c.namespaces)));
  return new Writer().msg(1, metadata).msg(2, new Writer().str(1, c.image)).strs(3, c.command).strs(4, c.args).str(11, c.logPath).msg(15, linux);
}

export class CriClient {
  private readonly client: grpc.Client;

  constructor(socket: string) {
    this.client = new grpc.Client(`unix://${socket}`, grpc.credentials.createInsecure());
  }

  close(): void {
    this.client.close();
  }

  /** One unary call; `deadlineMs` bounds it (a call that hangs fails with DEADLINE_EXCEEDED). */
  call(service: 'RuntimeService' | 'ImageService', method: string, req: Writer, deadlineMs = 120_000): Promise<Reader> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        `/runtime.v1.${service}/${method}`,
        (w: Writer) => w.bytes(),
        (b: Buffer) => new Reader(b),
        req,
        new grpc.Metadata(),
        { deadline: Date.now() + deadlineMs },
        (err, res) => (err ? reject(new Error(`${method}: ${err.message}`)) : resolve(res!)),
      );
    });
  }

  private rt(method: string, req: Writer, deadlineMs?: number): Promise<Reader> {
    return this.call('RuntimeService', method, req, deadlineMs);
  }

  async version(): Promise<{ runtimeName: string; runtimeApiVersion: string }> {
    const r = await this.rt('Version', new Writer().str(1, 'v1'));
    return { runtimeName: r.str(2), runtimeApiVersion: r.str(4) };
  }

  async runPodSandbox(config: PodConfig, handler: string): Promise<string> {
    return (await this.rt('RunPodSandbox', new Writer().msg(1, podSandboxConfig(config)).str(2, handler))).str(1);
  }

  async stopPodSandbox(id: string, deadlineMs?: number): Promise<void> {
    await this.rt('StopPodSandbox', new Writer().str(1, id), deadlineMs);
  }

  async removePodSandbox(id: string, deadlineMs?: number): Promise<void> {
    await this.rt('RemovePodSandbox', new Writer().str(1, id), deadlineMs);
  }

  /** ListPodSandbox, unfiltered: the ids. */
  async listPodSandbox(): Promise<string[]> {
    return (await this.rt('ListPodSandbox', new Writer())).msgs(1).map((p) => p.str(1));
  }

  async createContainer(podId: string, config: ContainerConfig, pod: PodConfig): Promise<string> {
    const req = new Writer().str(1, podId).msg(2, containerConfig(config)).msg(3, podSandboxConfig(pod));
    return (await this.rt('CreateContainer', req)).str(1);
  }

  async startContainer(id: string): Promise<void> {
    await this.rt('StartContainer', new Writer().str(1, id));
  }

  /** StopContainer with a grace period in seconds. */
  async stopContainer(id: string, timeoutS: number, deadlineMs?: number): Promise<void> {
    await this.rt('StopContainer', new Writer().str(1, id).int(2, timeoutS), deadlineMs);
  }

  async removeContainer(id: string): Promise<void> {
    await this.rt('RemoveContainer', new Writer().str(1, id));
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    const r = await this.rt('ContainerStatus', new Writer().str(1, id).bool(2, true));
    const s = r.msg(1);
    let pid = 0;
    try {
      pid = Number(JSON.parse(r.map(2).info ?? '{}').pid ?? 0);
    } catch {
      /* no verbose info */
    }
    return { id: s?.str(1) ?? '', state: s?.int(3) ?? STATE.UNKNOWN, exitCode: s?.int(7) ?? 0, reason: s?.str(10) ?? '', pid };
  }

  /** ListContainers of one Pod: id and state. */
  async listContainers(podId: string): Promise<{ id: string; name: string; state: number }[]> {
    const r = await this.rt('ListContainers', new Writer().msg(1, new Writer().str(3, podId)));
    return r.msgs(1).map((c) => ({ id: c.str(1), name: c.msg(3)?.str(1) ?? '', state: c.int(6) }));
  }

  /** ExecSync; `timeoutS` 0 runs without a limit of its own. */
  async execSync(id: string, cmd: string[], timeoutS = 0, deadlineMs?: number): Promise<ExecResult> {
    const r = await this.rt('ExecSync', new Writer().str(1, id).strs(2, cmd).int(3, timeoutS), deadlineMs);
    return { stdout: r.str(1), stderr: r.str(2), exitCode: r.int(3) };
  }

  /** Exec: the streaming server's URL for this command, with stdout and stderr (no stdin, no tty). */
  async exec(id: string, cmd: string[]): Promise<string> {
    return (await this.rt('Exec', new Writer().str(1, id).strs(2, cmd).bool(5, true).bool(6, true))).str(1);
  }

  async updateContainerResources(id: string, res: Resources): Promise<void> {
    await this.rt('UpdateContainerResources', new Writer().str(1, id).msg(2, resources(res)));
  }
}
