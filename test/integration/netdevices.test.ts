// linux.netDevices (config-linux.md "Network Devices"): host interfaces
// moved into the container at create, renamed, their permanent global
// addresses kept, up; never moved back by hako (the spec forbids it): what
// the kernel does when the namespace goes is observed here too. Every device
// is made by the test with a name unique to this run, and removed by it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Env, processesUnder, uniqueId } from '../helpers.js';
import { cgroupsNamed } from '../leftovers.js';
import { skip, skippable } from '../skip.js';

const t = suite('netdevices');
const test = skippable(t, 'netdevices');
let env: Env;
const made: string[] = [];
const netnses: string[] = [];
t.before(() => {
  env = new Env();
});
t.after(() => {
  env.cleanup();
  for (const n of netnses) ip(['netns', 'del', n]);
  for (const d of made) ip(['link', 'del', d]);
});

function ip(args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  return { status: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

function must(args: string[]): void {
  const r = ip(args);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.err.trim()}`);
}

let n = 0;
/** A device name unique to this run (at most 15 bytes). */
const devName = () => `hkn${process.pid % 1000000}${String.fromCharCode(97 + n++)}`;

/** A veth pair; the caller moves `a`, `b` stays on the host and tells whether `a` still exists. */
function vethPair(): { a: string; b: string } {
  const a = devName();
  const b = devName();
  must(['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
  made.push(b);
  return { a, b };
}

const onHost = (dev: string) => ip(['link', 'show', dev]).status === 0;

// The kernel frees a network namespace (and with it the virtual devices in
// it) in a work queue after its last process is gone: no event to wait for
// short of netlink monitoring, so poll, without a bound on how soon.
function waitGone(dev: string): void {
  for (let i = 0; i < 600 && onHost(dev); i++) spawnSync('sleep', ['0.1']);
  assert.is(onHost(dev), false, `${dev} still on the host`);
}

function createRunning(edit: (c: any) => void): string {
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    edit(c);
  });
  const id = uniqueId('nd');
  const r = env.hako(['create', '--bundle', b, id]);
  assert.is(r.status, 0, r.stderr);
  return id;
}

const exec = (id: string, script: string) => {
  const r = env.hako(['exec', id, 'sh', '-c', script]);
  assert.is(r.status, 0, r.stderr);
  return r.stdout;
};

test('a veth end moves in renamed, with its permanent global addresses, up; gone from the host; destroyed with the namespace', () => {
  const { a, b } = vethPair();
  must(['addr', 'add', '10.211.7.2/24', 'dev', a]);
  must(['addr', 'add', 'fd00:211:7::2/64', 'dev', a, 'nodad']);
  // Not global: stays behind (the spec keeps RT_SCOPE_UNIVERSE only).
  must(['addr', 'add', '10.211.8.2/24', 'scope', 'link', 'dev', a]);
  const id = createRunning((c) => (c.linux.netDevices = { [a]: { name: 'ceth0' } }));
  assert.is(onHost(a), false, `${a} left the host`);
  const link = exec(id, 'ip -o link show ceth0');
  assert.match(link, /ceth0@/);
  assert.match(link, /[<,]UP[,>]/);
  const addrs = exec(id, 'ip -o addr show dev ceth0');
  assert.match(addrs, /inet 10\.211\.7\.2\/24 .*scope global/);
  assert.match(addrs, /inet6 fd00:211:7::2\/64 scope global/);
  assert.not.match(addrs, /10\.211\.8\.2/);
  // Nothing of the host's name inside: the rename was part of the move.
  assert.not.match(exec(id, 'ip -o link'), new RegExp(a));
  assert.is(env.hako(['delete', '--force', id]).status, 0);
  // The spec: not moved back; the kernel destroys a virtual device with its
  // namespace, and a veth pair goes whole.
  waitGone(b);
  assert.is(onHost(a), false);
});

test("a name with the kernel's %d template, in a container with its own user namespace; gone when it exits", () => {
  const { a, b } = vethPair();
  const r = env.sh('ip -o link; id -u', (c) => {
    c.linux.netDevices = { [a]: { name: 'net%d' } };
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.mounts = c.mounts.filter((m: { destination: string }) => !m.destination.startsWith('/sys'));
  });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /: net0@[^:]*: <[^>]*\bUP\b/);
  assert.match(r.stdout, /\n0\n$/);
  // The container ended by itself (no delete of a running one): its
  // namespace went with its last process, and the veth pair with it.
  waitGone(b);
});

test('a dummy device (when the kernel has them) moves in with its address', () => {
  const d = devName();
  const mk = ip(['link', 'add', d, 'type', 'dummy']);
  if (mk.status !== 0) skip(`no dummy devices here: ${mk.err.trim()}`);
  made.push(d);
  must(['addr', 'add', '10.211.9.2/24', 'dev', d]);
  const r = env.sh('ip -o addr show dev ddev0', (c) => (c.linux.netDevices = { [d]: { name: 'ddev0' } }));
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /inet 10\.211\.9\.2\/24/);
  waitGone(d);
});

/** `create` fails with one line naming `message`, and leaves no state, cgroup or process. */
function refused(edit: (c: any) => void, message: RegExp): void {
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    edit(c);
  });
  const id = uniqueId('ndf');
  const r = env.hako(['create', '--bundle', b, id]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.match(r.stderr, new RegExp(`container "${id}"`));
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.is(existsSync(path.join(env.root, id)), false, 'no state directory');
  assert.equal(cgroupsNamed(id), [], 'no cgroup');
  assert.equal(processesUnder(b), [], 'no process');
}

test('a device the host does not have fails create before anything exists', () => {
  const d = devName();
  refused((c) => (c.linux.netDevices = { [d]: {} }), new RegExp(`config\\.json: /linux/netDevices/${d}: no such network interface on the host`));
});

test('a device the kernel will not move (a bridge) fails create cleanly and stays on the host', () => {
  const d = devName();
  must(['link', 'add', d, 'type', 'bridge']);
  made.push(d);
  refused((c) => (c.linux.netDevices = { [d]: {} }), new RegExp(`/linux/netDevices/${d}: move it into the container's network namespace: `));
  assert.ok(onHost(d));
});

test('refused: no network namespace of its own, the name lo, a bad name', () => {
  const { a } = vethPair();
  refused((c) => {
    c.linux.netDevices = { [a]: {} };
    c.linux.namespaces = c.linux.namespaces.filter((x: { type: string }) => x.type !== 'network');
  }, /\/linux\/netDevices: moving network devices needs a network namespace/);
  refused((c) => (c.linux.netDevices = { [a]: { name: 'lo' } }), /"lo" is taken by the container's loopback/);
  refused((c) => (c.linux.netDevices = { [a]: { name: 'a b' } }), new RegExp(`/linux/netDevices/${a}/name: "a b" must not contain`));
  assert.ok(onHost(a), 'still on the host');
});

test('a joined network namespace: a name it has is refused; a device moved in stays there after delete', () => {
  const ns = `hkn${process.pid}`;
  must(['netns', 'add', ns]);
  netnses.push(ns);
  must(['-n', ns, 'link', 'add', 'taken0', 'type', 'veth', 'peer', 'name', 'taken1']);
  const { a } = vethPair();
  const join = (c: any) => {
    c.linux.namespaces = c.linux.namespaces.map((x: { type: string }) => (x.type === 'network' ? { type: 'network', path: `/run/netns/${ns}` } : x));
  };
  refused(
    (c) => {
      join(c);
      c.linux.netDevices = { [a]: { name: 'taken0' } };
    },
    new RegExp(`/linux/netDevices/${a}: the container's network namespace /run/netns/${ns} already has an interface named "taken0"`),
  );
  refused((c) => {
    c.linux.namespaces = c.linux.namespaces.map((x: { type: string }) => (x.type === 'network' ? { type: 'network', path: '/proc/self/ns/net' } : x));
    c.linux.netDevices = { [a]: {} };
  }, /is the runtime's own \(the host's\)/);
  const r = env.sh('ip -o link show moved0', (c) => {
    join(c);
    c.linux.netDevices = { [a]: { name: 'moved0' } };
  });
  assert.is(r.status, 0, r.stderr);
  assert.match(ip(['-n', ns, '-o', 'link', 'show', 'moved0']).out, /moved0@/, 'still in the joined namespace after delete');
});

t.run();
