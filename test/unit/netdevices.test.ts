// linux.netDevices without root: what config.json may ask for, which
// addresses move, the kernel's name templates, and the rtnetlink bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { addressesToKeep, fitsTemplate, ifNameProblem, netDevicesPlan } from '../../src/launch/netdevices.js';
import { PlanError } from '../../src/launch/plan-error.js';
import * as nl from '../../src/launch/netlink.js';

const NEW = { newNet: true, rootless: false };

function refuses(f: () => unknown, message: RegExp): void {
  try {
    f();
  } catch (e) {
    assert.instance(e, PlanError);
    assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`no error matching ${message}`);
}

test('netDevicesPlan: the moves in config order, named by the entry or the host', () => {
  assert.equal(netDevicesPlan(undefined, NEW), []);
  assert.equal(netDevicesPlan({}, { newNet: false, rootless: true }), []);
  assert.equal(netDevicesPlan({ eth1: { name: 'ctr1' }, eth2: {}, eth3: { name: '' }, eth4: { name: 'net%d' } }, NEW), [
    { host: 'eth1', name: 'ctr1', template: false, pointer: '/linux/netDevices/eth1' },
    { host: 'eth2', name: 'eth2', template: false, pointer: '/linux/netDevices/eth2' },
    { host: 'eth3', name: 'eth3', template: false, pointer: '/linux/netDevices/eth3' },
    { host: 'eth4', name: 'net%d', template: true, pointer: '/linux/netDevices/eth4' },
  ]);
  // A joined namespace will do; its lo is not ours to assume.
  assert.is(netDevicesPlan({ eth1: { name: 'lo' } }, { newNet: false, joinedNet: '/run/netns/x', rootless: false }).length, 1);
});

test("netDevicesPlan: what can never work is refused with the entry's JSON path", () => {
  refuses(() => netDevicesPlan({ eth1: {} }, { newNet: false, rootless: false }), /^config\.json: \/linux\/netDevices: .*needs a network namespace/);
  refuses(() => netDevicesPlan({ eth1: {} }, { newNet: true, rootless: true }), /\/linux\/netDevices: .*rootless/);
  refuses(() => netDevicesPlan({ eth1: { name: 'lo' } }, NEW), /\/linux\/netDevices\/eth1: the name "lo" is taken/);
  refuses(() => netDevicesPlan({ eth1: { name: 'x' }, eth2: { name: 'x' } }, NEW), /\/linux\/netDevices\/eth2: "x" is also the container's name for "eth1"/);
  refuses(() => netDevicesPlan({ eth1: {}, eth2: { name: 'eth1' } }, NEW), /\/linux\/netDevices\/eth2: "eth1" is also/);
  refuses(() => netDevicesPlan({ 'a/b': {} }, NEW), /\/linux\/netDevices\/a~1b: the host interface name must not contain/);
  refuses(() => netDevicesPlan({ eth1: { name: 'x'.repeat(16) } }, NEW), /\/linux\/netDevices\/eth1\/name: .* 16 bytes long/);
  refuses(() => netDevicesPlan({ eth1: { name: 'n%s' } }, NEW), /one '%d' template/);
  refuses(() => netDevicesPlan({ eth1: { name: 'n%d%d' } }, NEW), /one '%d' template/);
  refuses(() => netDevicesPlan({ 'e%d': {} }, NEW), /must not contain '%'/);
});

test("ifNameProblem: the kernel's dev_valid_name", () => {
  for (const ok of ['eth0', 'x', 'a'.repeat(15), 'veth-1.2', 'wl@p']) assert.is(ifNameProblem(ok), null, ok);
  for (const bad of ['', '.', '..', 'a'.repeat(16), 'a:b', 'a/b', 'a b', 'a\tb', 'é'.repeat(8)]) assert.ok(ifNameProblem(bad), JSON.stringify(bad));
});

test('fitsTemplate', () => {
  assert.ok(fitsTemplate('net%d', 'net0'));
  assert.ok(fitsTemplate('net%d', 'net12'));
  assert.ok(fitsTemplate('a%db', 'a3b'));
  assert.not.ok(fitsTemplate('net%d', 'net'));
  assert.not.ok(fitsTemplate('net%d', 'netx'));
  assert.not.ok(fitsTemplate('net%d', 'eth0'));
  assert.ok(fitsTemplate('eth0', 'eth0'));
  assert.not.ok(fitsTemplate('eth0', 'eth1'));
});

test('addressesToKeep: permanent, global, of that link; configuration flags only', () => {
  const v4 = (x: number) => new Uint8Array([10, 0, 0, x]);
  const addrs: nl.Addr[] = [
    { family: 2, prefixlen: 24, flags: nl.IFA_F.PERMANENT, scope: 0, index: 5, local: v4(1), address: v4(1), broadcast: v4(255) },
    { family: 2, prefixlen: 24, flags: 0, scope: 0, index: 5, local: v4(2), address: v4(2) }, // dynamic (DHCP lifetime)
    { family: 2, prefixlen: 24, flags: nl.IFA_F.PERMANENT, scope: 253, index: 5, local: v4(3), address: v4(3) }, // link scope
    { family: 2, prefixlen: 24, flags: nl.IFA_F.PERMANENT, scope: 254, index: 5, local: v4(4), address: v4(4) }, // host scope
    { family: 2, prefixlen: 24, flags: nl.IFA_F.PERMANENT, scope: 0, index: 6, local: v4(5), address: v4(5) }, // another link
    { family: 10, prefixlen: 64, flags: nl.IFA_F.PERMANENT | nl.IFA_F.NODAD | 0x40 /* TENTATIVE */, scope: 0, index: 5, address: new Uint8Array(16) },
  ];
  const kept = addressesToKeep(addrs, 5);
  assert.equal(
    kept.map((a) => [a.family, a.flags]),
    [
      [2, 0],
      [10, nl.IFA_F.NODAD],
    ],
  );
  assert.equal(kept[0]!.broadcast, v4(255));
});

test('netlink: requests are what rtnetlink(7) describes', () => {
  const b = Buffer.from(nl.setLinkRequest(7, 42, { name: 'ceth0', netnsFd: 9 }));
  assert.is(b.readUInt32LE(0), b.length);
  assert.is(b.readUInt16LE(4), nl.RTM.NEWLINK);
  assert.is(b.readUInt16LE(6), nl.NLM_F.REQUEST | nl.NLM_F.ACK);
  assert.is(b.readUInt32LE(8), 7);
  assert.is(b.readInt32LE(16 + 4), 42);
  // IFLA_IFNAME "ceth0\0" (10 bytes, padded to 12), then IFLA_NET_NS_FD u32.
  assert.equal([b.readUInt16LE(32), b.readUInt16LE(34)], [10, nl.IFLA.IFNAME]);
  assert.is(b.toString('utf8', 36, 42), 'ceth0\0');
  assert.equal([b.readUInt16LE(44), b.readUInt16LE(46), b.readUInt32LE(48)], [8, nl.IFLA.NET_NS_FD, 9]);
  assert.is(b.length, 52);
  const up = Buffer.from(nl.setLinkRequest(8, 42, { up: true }));
  assert.equal([up.readUInt32LE(24), up.readUInt32LE(28)], [nl.IFF.UP, nl.IFF.UP]);
  const dump = Buffer.from(nl.dumpAddrRequest(9));
  assert.is(dump.readUInt16LE(6), nl.NLM_F.REQUEST | nl.NLM_F.DUMP);
  assert.is(dump.length, 24);
});

test('netlink: an address survives a round trip through RTM_NEWADDR', () => {
  const a: nl.Addr = {
    family: 2,
    prefixlen: 24,
    flags: nl.IFA_F.NOPREFIXROUTE,
    scope: 0,
    index: 3,
    local: new Uint8Array([10, 1, 2, 3]),
    address: new Uint8Array([10, 1, 2, 3]),
    broadcast: new Uint8Array([10, 1, 2, 255]),
  };
  const req = nl.newAddrRequest(1, 3, a);
  const b = Buffer.from(req);
  assert.is(b.readUInt16LE(6), nl.NLM_F.REQUEST | nl.NLM_F.ACK | nl.NLM_F.CREATE | nl.NLM_F.EXCL);
  // The kernel's dump entries have the same layout as this request.
  assert.equal(nl.parseAddr(req), a);
});

test('netlink: a link reply parses; a reply of another type is refused', () => {
  const msg = Buffer.from(nl.getLinkRequest(1, { name: 'eth7' }));
  msg.writeUInt16LE(nl.RTM.NEWLINK, 4);
  msg.writeInt32LE(12, 20);
  msg.writeUInt32LE(nl.IFF.UP | nl.IFF.LOOPBACK, 24);
  assert.equal(nl.parseLink(msg), { index: 12, flags: 9, name: 'eth7' });
  assert.throws(() => nl.parseAddr(msg), /expected message type 20/);
  assert.throws(() => nl.parseLink(msg.subarray(0, 10)), /short/);
});

test.run();
