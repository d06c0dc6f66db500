// Each namespace, new or joined, observed from inside the container.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readlinkSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { Env, uniqueId } from '../helpers.js';

const t = suite('namespaces');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const TYPES: Record<string, string> = { pid: 'pid', network: 'net', mount: 'mnt', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup', time: 'time' };

function nsOf(out: string): Record<string, string> {
  const m: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const x = /^(\w+):\[(\d+)\]$/.exec(line.trim());
    if (x) m[x[1]!] = x[0]!;
  }
  return m;
}

t('every new namespace differs from the host, the others are shared', () => {
  const r = env.sh('for n in pid net mnt ipc uts user cgroup time; do readlink /proc/self/ns/$n; done; echo pid=$$', (c) => {
    c.linux.namespaces = ['pid', 'network', 'mount', 'ipc', 'uts', 'cgroup', 'time'].map((type) => ({ type }));
  });
  assert.is(r.status, 0, r.stderr);
  const inside = nsOf(r.stdout);
  for (const [type, n] of Object.entries(TYPES)) {
    const host = readlinkSync(`/proc/self/ns/${n}`);
    if (type === 'user') assert.is(inside[n], host, 'user ns shared');
    else assert.is.not(inside[n], host, `${type} ns is new`);
  }
  assert.match(r.stdout, /pid=1\n/);
});

t('a new network namespace has lo up, as runc leaves it', () => {
  // IFF_UP|IFF_LOOPBACK = 0x9; the kernel makes it 0x8 (down). A listener
  // on 127.0.0.1 answers a connection from inside. The client tries until
  // the listener is up, and the reader waits until it has written: fixed
  // sleeps lost the race on a busy machine.
  const script = [
    'cat /sys/class/net/lo/flags',
    'ip -o addr show lo | grep -c "inet 127.0.0.1"',
    '(nc -l -p 7000 >/tmp/got &)',
    'i=0; until echo ping | nc 127.0.0.1 7000 2>/dev/null || [ $i -ge 200 ]; do usleep 50000; i=$((i+1)); done',
    'i=0; while [ ! -s /tmp/got ] && [ $i -lt 200 ]; do usleep 50000; i=$((i+1)); done',
    'cat /tmp/got',
  ].join('; ');
  const r = env.sh(script, (c) => {
    assert.ok(
      c.linux.namespaces.some((n: any) => n.type === 'network' && !n.path),
      'the bundle has a network namespace of its own',
    );
    c.root.readonly = false;
  });
  assert.is(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n'), ['0x9', '1', 'ping']);
});

t("a new cgroup namespace is rooted at the container's own cgroup", () => {
  // Made once the init is in its cgroup, not at clone time (when it is still
  // in the runtime's): every hierarchy then reads "/" from inside.
  const r = env.sh('cat /proc/self/cgroup', (c) => {
    c.linux.namespaces.push({ type: 'cgroup' });
    c.linux.cgroupsPath = `/hako-test-cgns-${process.pid}`;
  });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.ok(lines.length > 0, r.stdout);
  for (const line of lines) assert.match(line, /^\d+:[^:]*:\/$/, r.stdout);
});

// Its root is the cgroup of the process that unshares it; through a cgroup
// mount the container must see its own subtree, not the host's whole tree.
t("a new cgroup namespace: the cgroup mount shows only the container's own subtree", () => {
  const id = uniqueId('cgns');
  // On v2 the directories below the mount point are cgroups; on v1 they are
  // the controllers' mount points, with cgroups one level down.
  const count =
    'if [ -e /sys/fs/cgroup/cgroup.controllers ]; then set -- /sys/fs/cgroup/*/; else set -- /sys/fs/cgroup/*/*/; fi; n=0; for d; do [ -d "$d" ] && n=$((n+1)); done; echo dirs=$n';
  const r = env.sh(count, (c) => {
    c.linux.namespaces.push({ type: 'cgroup' });
    c.linux.cgroupsPath = `/hako-test-${id}`;
  });
  assert.is(r.status, 0, r.stderr);
  // The hierarchy roots hold at least the container's own cgroup.
  assert.match(r.stdout, /^dirs=0$/m, r.stdout);
});

t('joining namespaces by path', async () => {
  // A process of our own holds fresh namespaces to join.
  const holder = spawn('unshare', ['--net', '--ipc', '--uts', 'sleep', '1000'], { stdio: 'ignore' });
  try {
    const pid = holder.pid!;
    for (let i = 0; i < 200 && readlinkSync(`/proc/${pid}/ns/net`) === readlinkSync('/proc/self/ns/net'); i++) await new Promise((r) => setTimeout(r, 10));
    const r = env.sh('readlink /proc/self/ns/net; readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; hostname', (c) => {
      c.linux.namespaces = c.linux.namespaces.filter((n: any) => !['ipc', 'network', 'uts'].includes(n.type));
      c.linux.namespaces.push(
        { type: 'network', path: `/proc/${pid}/ns/net` },
        { type: 'ipc', path: `/proc/${pid}/ns/ipc` },
        { type: 'uts', path: `/proc/${pid}/ns/uts` },
      );
      c.hostname = 'joined-uts';
    });
    assert.is(r.status, 0, r.stderr);
    const ns = (t: string) => readlinkSync(`/proc/${pid}/ns/${t}`);
    assert.is(r.stdout, `${ns('net')}\n${ns('ipc')}\n${ns('uts')}\njoined-uts\n`);
  } finally {
    holder.kill('SIGKILL');
  }
});

t('hostname and domainname', () => {
  const r = env.sh('hostname; cat /proc/sys/kernel/domainname', (c) => {
    c.hostname = 'box-one';
    c.domainname = 'example.org';
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, 'box-one\nexample.org\n');
});

t('user namespace with uid/gid mappings', () => {
  const r = env.sh('cat /proc/self/uid_map /proc/self/gid_map; id -u', (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\s*0\s+100000\s+65536\n\s*0\s+100000\s+65536\n0\n$/);
});

t('time namespace offsets', () => {
  const r = env.sh('cat /proc/uptime', (c) => {
    c.linux.namespaces.push({ type: 'time' });
    c.linux.timeOffsets = { boottime: { secs: 86400 * 365, nanosecs: 0 }, monotonic: { secs: 86400 * 365 } };
  });
  assert.is(r.status, 0, r.stderr);
  assert.ok(Number(r.stdout.split(' ')[0]) > 86400 * 365, r.stdout);
});

t('sysctl in the namespaces it belongs to', () => {
  const r = env.sh('cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni', (c) => {
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmni': '1234' };
  });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '1\n1234\n');
});

t.run();
