// Kubernetes Pods on hako through containerd 1.6's CRI plugin, as the
// kubelet drives them (cri-client.ts speaks the CRI's gRPC; no kubelet
// here), each scenario run with the runtime handler "hako" and, for
// comparison, "runc" (Debian's runc 1.1.5) in the same run. After each,
// nothing may be left: no shim, no container state of the runtime, no
// cgroup under the Pods' parent, no mount (cri-env.ts).
//
// StopPodSandbox and RemovePodSandbox get the kubelet's default runtime
// request timeout (2 minutes) as their gRPC deadline: a call that hits it
// hung (this is how a hako that refused `kill --all` of a stopped
// container failed: "an error occurs during waiting for container ... to
// be killed: context deadline exceeded"). No assertion is on timing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isRoot } from '../helpers.js';
import { NS, STATE, type ContainerConfig, type PodConfig } from './cri-client.js';
import { BUSYBOX_REF, CriEnv, HANDLERS, type Handler } from './cri-env.js';
import { execStream } from './cri-stream.js';
import { cgroupMounts, waitFor } from './host-state.js';

const t = suite('Kubernetes CRI (containerd 1.6) runs Pods on hako');
const KUBELET_TIMEOUT_MS = 120_000;
let env: CriEnv;
let n = 0;

t.before(async () => {
  env = await CriEnv.start();
});

let stopped = false;
t.after(async () => {
  // After a failure half-way: leave the host as we found it all the same.
  if (!stopped) await env?.stop();
});

/**
 * A Pod of the Kubernetes namespace "hako-cri", its log directory in our
 * directory. The CRI's default pid mode (0) is POD; the kubelet asks for
 * CONTAINER unless the Pod shares its pid namespace, and so do we.
 */
function podConfig(name: string, namespaces: PodConfig['namespaces'] = { pid: NS.CONTAINER }): PodConfig {
  const uid = `${name}-${process.pid}-${++n}`;
  return { name, uid, namespace: 'hako-cri', hostname: name, logDirectory: path.join(env.dir, 'logs', uid), cgroupParent: env.cgroupParent, namespaces };
}

/** A busybox container running `script` with sh. */
function shell(name: string, script: string, extra: Partial<ContainerConfig> = {}): ContainerConfig {
  return { name, image: BUSYBOX_REF, command: ['sh', '-c', script], logPath: `${name}.log`, namespaces: { pid: NS.CONTAINER }, ...extra };
}

/** Runs until stopped, ending at once on SIGTERM, with a marker in its command line. */
const SERVER = (mark: string) => `trap 'exit 0' TERM; while :; do sleep ${mark} & wait $!; done`;

class Pod {
  readonly containers: string[] = [];
  constructor(
    readonly id: string,
    readonly config: PodConfig,
  ) {}

  static async run(h: Handler, config: PodConfig): Promise<Pod> {
    const pod = new Pod(await env.cri.runPodSandbox(config, h), config);
    live.add(pod);
    return pod;
  }

  async start(c: ContainerConfig): Promise<string> {
    const id = await env.cri.createContainer(this.id, c, this.config);
    this.containers.push(id);
    await env.cri.startContainer(id);
    return id;
  }

  /** StopPodSandbox then RemovePodSandbox, each within the kubelet's timeout; then nothing of it is left. */
  async end(h: Handler): Promise<void> {
    await env.cri.stopPodSandbox(this.id, KUBELET_TIMEOUT_MS);
    for (const c of this.containers) assert.is.not((await env.cri.containerStatus(c)).state, STATE.RUNNING, `${h}: StopPodSandbox stopped ${c}`);
    await env.cri.removePodSandbox(this.id, KUBELET_TIMEOUT_MS);
    live.delete(this);
    await nothingLeft(h);
  }
}

/** Pods a failed test left: removed after it, so that the next starts clean. */
const live = new Set<Pod>();
t.after.each(async () => {
  for (const pod of live) {
    await env.cri.stopPodSandbox(pod.id).catch(() => {});
    await env.cri.removePodSandbox(pod.id).catch(() => {});
  }
  live.clear();
});

async function nothingLeft(h: Handler): Promise<void> {
  // The shim exits once its last task is deleted: asynchronously.
  let left: string[] = [];
  try {
    await waitFor(`${h}: the Pod's shim, state, cgroups and mounts to go`, () => (left = env.leftovers(h)).length === 0, 30_000);
  } catch {
    assert.equal(left, [], `${h}: nothing of the Pod is left`);
  }
}

/** Polls an async condition (CRI calls) every 100 ms, for up to a minute. */
async function until(what: string, f: () => Promise<boolean>): Promise<void> {
  for (let i = 0; !(await f()); i++) {
    if (i > 600) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function exited(id: string): Promise<{ exitCode: number; reason: string }> {
  await until(`container ${id} to exit`, async () => (await env.cri.containerStatus(id)).state === STATE.EXITED);
  return env.cri.containerStatus(id);
}

async function execOut(id: string, script: string): Promise<string> {
  const r = await env.cri.execSync(id, ['sh', '-c', script], 60);
  assert.is(r.exitCode, 0, `exec ${script}: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Until `ps` in container `id` shows a process whose arguments contain
 * `what`. A SERVER's sleep shows that its shell has set its TERM trap (the
 * task runs as soon as the shell is exec'd, before it has read a line).
 */
async function seen(id: string, what: string): Promise<void> {
  await until(`${what} in ${id}`, async () => (await execOut(id, 'ps -o args')).includes(what));
}

for (const h of HANDLERS) {
  t(`${h}: two containers share the Pod's network, IPC and UTS namespaces; ExecSync and streaming Exec into each`, async () => {
    const pod = await Pod.run(h, podConfig('shared-net'));
    const a = await pod.start(shell('a', SERVER('1001')));
    const b = await pod.start(shell('b', SERVER('1002')));
    const ns = (id: string) => execOut(id, 'for n in net ipc uts pid; do readlink /proc/self/ns/$n; done; hostname');
    const [na, nb] = [await ns(a), await ns(b)];
    const [netA, ipcA, utsA, pidA, hostA] = na.split('\n');
    const [netB, ipcB, utsB, pidB] = nb.split('\n');
    assert.equal([netA, ipcA, utsA], [netB, ipcB, utsB], "network, IPC and UTS are the Pod's");
    assert.is.not(pidA, pidB, 'each container its own pid namespace');
    assert.is(hostA, 'shared-net');
    assert.match(await execOut(a, 'ip -4 addr show eth0'), /inet 10\.231\./, 'the CNI bridge gave the Pod its address');
    const r = await env.cri.execSync(b, ['sh', '-c', 'echo out; echo err >&2; exit 3'], 60);
    assert.equal(r, { stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
    // kubectl exec's path: Exec, then the streaming server's WebSocket.
    const s = await execStream(await env.cri.exec(a, ['sh', '-c', 'echo out; echo err >&2; exit 5']));
    assert.equal([s.stdout, s.stderr, s.exitCode], ['out\n', 'err\n', 5], JSON.stringify(s.status));
    assert.is((await execStream(await env.cri.exec(b, ['hostname']))).stdout, 'shared-net\n');
    await pod.end(h);
  });

  t(`${h}: a shared pid namespace: each container sees the other's processes, an ExecSync leaves one behind, stopping the Pod stops both`, async () => {
    const pod = await Pod.run(h, podConfig('shared-pid', { pid: NS.POD }));
    const a = await pod.start(shell('a', SERVER('2001'), { namespaces: { pid: NS.POD } }));
    const b = await pod.start(shell('b', SERVER('2002'), { namespaces: { pid: NS.POD } }));
    await seen(a, 'sleep 2002'); // a sees b
    await seen(b, 'sleep 2001'); // b sees a
    assert.is(await execOut(a, 'cat /proc/1/cmdline | tr "\\0" " "'), '/pause', "pid 1 is the Pod's pause");
    // A process an ExecSync started and left running in each container.
    for (const c of [a, b]) await execOut(c, 'sleep 2099 >/dev/null 2>&1 </dev/null & echo started');
    await pod.end(h);
  });

  t(`${h}: the host's pid namespace; ExecSync; a stopped container's exec'd process goes with it`, async () => {
    const pod = await Pod.run(h, podConfig('host-pid', { pid: NS.NODE }));
    const a = await pod.start(shell('a', SERVER('3001'), { namespaces: { pid: NS.NODE } }));
    await seen(a, 'sleep 3001');
    assert.is(await execOut(a, `test -d /proc/${process.pid} && echo host`), 'host', "the container sees the host's processes");
    await execOut(a, 'sleep 3099 >/dev/null 2>&1 </dev/null & echo started');
    await env.cri.stopContainer(a, 10, KUBELET_TIMEOUT_MS);
    assert.is((await exited(a)).exitCode, 0, 'SIGTERM ended it');
    await pod.end(h);
  });

  t(`${h}: StopContainer's grace period: SIGTERM handled, or SIGKILL after it`, async () => {
    const pod = await Pod.run(h, podConfig('grace'));
    const polite = await pod.start(shell('polite', `trap 'exit 42' TERM; while :; do sleep 4001 & wait $!; done`));
    const deaf = await pod.start(shell('deaf', `trap '' TERM; while :; do sleep 4002 & wait $!; done`));
    await seen(polite, 'sleep 4001');
    await seen(deaf, 'sleep 4002');
    await env.cri.stopContainer(polite, 30, KUBELET_TIMEOUT_MS);
    assert.is((await exited(polite)).exitCode, 42, 'its TERM trap ran');
    await env.cri.stopContainer(deaf, 1, KUBELET_TIMEOUT_MS);
    assert.is((await exited(deaf)).exitCode, 137, 'SIGKILL after the grace period');
    await pod.end(h);
  });

  t(`${h}: an init container runs to completion first; the app exits by itself and is created again (restart)`, async () => {
    const pod = await Pod.run(h, podConfig('restart'));
    const init = await pod.start(shell('init', 'echo init done'));
    assert.is((await exited(init)).exitCode, 0, 'the init container succeeded');
    const app0 = await pod.start(shell('app', 'exit 3', { attempt: 0 }));
    const first = await exited(app0);
    assert.is(first.exitCode, 3);
    // The kubelet's restart: a new container, attempt + 1, in the same Pod.
    const app1 = await pod.start(shell('app', SERVER('5001'), { attempt: 1 }));
    await seen(app1, 'sleep 5001');
    const listed = await env.cri.listContainers(pod.id);
    assert.equal(
      listed.map((c) => [c.id, c.state]).sort(),
      [
        [init, STATE.EXITED],
        [app0, STATE.EXITED],
        [app1, STATE.RUNNING],
      ].sort(),
    );
    // The kubelet removes the dead attempt.
    await env.cri.removeContainer(app0);
    pod.containers.splice(pod.containers.indexOf(app0), 1);
    await pod.end(h);
  });

  t(`${h}: UpdateContainerResources reaches the container's cgroup`, async () => {
    const pod = await Pod.run(h, podConfig('update'));
    const a = await pod.start(shell('a', SERVER('6001'), { resources: { memoryLimitInBytes: 256 << 20, cpuPeriod: 100_000, cpuQuota: 50_000 } }));
    await seen(a, 'sleep 6001');
    assert.equal(limits(a), { memory: String(256 << 20), quota: '50000' });
    await env.cri.updateContainerResources(a, { memoryLimitInBytes: 128 << 20, cpuPeriod: 100_000, cpuQuota: 20_000 });
    assert.equal(limits(a), { memory: String(128 << 20), quota: '20000' });
    await pod.end(h);
  });

  t(`${h}: a Pod stopped while an ExecSync still runs in it (shared pid namespace)`, async () => {
    const pod = await Pod.run(h, podConfig('busy-exec', { pid: NS.POD }));
    const a = await pod.start(shell('a', SERVER('7001'), { namespaces: { pid: NS.POD } }));
    await seen(a, 'sleep 7001');
    const exec = env.cri.execSync(a, ['sleep', '7099'], 0, KUBELET_TIMEOUT_MS).then(
      (r) => `exit ${r.exitCode}`,
      (e: Error) => e.message,
    );
    await until('the exec to run', async () => (await execOut(a, 'ps -o args')).includes('sleep 7099'));
    await pod.end(h);
    // It ended with the Pod, one way or another, well before its deadline.
    assert.not.match(await exec, /DEADLINE_EXCEEDED|Deadline exceeded/i);
  });
}

t('stopping containerd leaves nothing behind: no mount, cgroup, CNI lease or bridge, nothing in /run/containerd', async () => {
  stopped = true;
  assert.equal(await env.stop(), []);
});

/** The memory limit and CPU quota in the container's cgroup (v1 or v2 files). */
function limits(id: string): { memory: string; quota: string } {
  const read = (names: string[]) => {
    for (const m of cgroupMounts()) {
      for (const name of names) {
        const f = path.join(m, env.cgroupParent, id, name);
        if (existsSync(f)) return readFileSync(f, 'utf8').trim();
      }
    }
    return '';
  };
  return { memory: read(['memory.limit_in_bytes', 'memory.max']), quota: read(['cpu.cfs_quota_us', 'cpu.max']).split(' ')[0]! };
}

if (!isRoot) {
  console.log('CRI client tests need root: skipped');
} else {
  t.run();
}
