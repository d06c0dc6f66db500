// linux.netDevices at create: checked on the host before anything of the
// container exists, moved once its init does (src/launch/netdevices.ts says
// what the spec asks and why nothing happens at delete).
//
// Who moves, and through what: the runtime, over rtnetlink, between the
// init's clone and MSG_GO, as runc does between its init's nsexec and the
// config it sends. Not the launcher or the init: by then they may be in the
// container's user namespace, and moving a device out of the host's
// network namespace needs CAP_NET_ADMIN over the host's (the kernel checks
// the sender as well as the socket's opener). The target is named by an fd
// of the init's namespace, opened through /proc/<pid>: the init is our own
// unreaped child (cloned with CLONE_PARENT), so that pid cannot name anyone
// else while we work, and the init runs nothing of the container's before
// MSG_GO. The move and the rename are one request, so the new name exists
// only inside. The steps inside (addresses, up) go through a socket made in
// that namespace by a thread of the addon (addon/binding/netlink.cc): our
// own process never enters it.
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { native, isNativeError } from '../native.js';
import { systemReason } from '../errors.js';
import { PlanError } from '../launch/plan-error.js';
import * as nl from '../launch/netlink.js';
import { addressesToKeep, fitsTemplate, type NetDeviceMove } from '../launch/netdevices.js';

/** One rtnetlink socket, in our network namespace or in the one `netnsFd` names. */
class Rtnl {
  private seq = 1;
  readonly fd: number;
  constructor(netnsFd?: number) {
    this.fd = native().netlinkSocket(netnsFd);
  }
  talk(build: (seq: number) => Uint8Array): Uint8Array[] {
    return native().netlinkTalk(this.fd, build(this.seq++));
  }
  /** The link, or null when there is none by that name or index. */
  link(which: { name: string } | { index: number }): nl.Link | null {
    try {
      const [reply] = this.talk((s) => nl.getLinkRequest(s, which));
      return reply ? nl.parseLink(reply) : null;
    } catch (e) {
      if (isNativeError(e, 'ENODEV')) return null;
      throw e;
    }
  }
  addrs(): nl.Addr[] {
    return this.talk((s) => nl.dumpAddrRequest(s)).map(nl.parseAddr);
  }
  close(): void {
    native().close(this.fd);
  }
}

function sameFile(a: { dev: number; ino: number }, b: { dev: number; ino: number }): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

function hostNetns(): { dev: number; ino: number } {
  return statSync('/proc/self/ns/net');
}

/**
 * Before anything is created: every device exists on the host and can
 * move, and a joined namespace (not the host's) has no interface by the
 * name one will take there. A new namespace has only lo, which
 * netDevicesPlan already keeps free.
 */
export function checkNetDevices(moves: readonly NetDeviceMove[], joinedNet?: string): void {
  if (moves.length === 0) return;
  const host = new Rtnl();
  try {
    for (const m of moves) {
      const link = host.link({ name: m.host });
      if (!link) throw new PlanError(m.pointer, 'no such network interface on the host');
      if (link.flags & nl.IFF.LOOPBACK) throw new PlanError(m.pointer, 'a loopback interface cannot leave its network namespace');
    }
  } finally {
    host.close();
  }
  if (joinedNet) checkJoined(moves, joinedNet);
}

function checkJoined(moves: readonly NetDeviceMove[], joinedNet: string): void {
  let nsfd: number;
  try {
    nsfd = openSync(joinedNet, 'r');
  } catch (e) {
    throw new PlanError('/linux/netDevices', `network namespace ${joinedNet}: ${systemReason(e)}`);
  }
  try {
    if (sameFile(fstatSync(nsfd), hostNetns())) {
      throw new PlanError('/linux/netDevices', `the network namespace ${joinedNet} is the runtime's own (the host's): nothing to move the devices into`);
    }
    const inside = new Rtnl(nsfd);
    try {
      for (const m of moves) {
        if (!m.template && inside.link({ name: m.name })) {
          throw new PlanError(m.pointer, `the container's network namespace ${joinedNet} already has an interface named ${JSON.stringify(m.name)}`);
        }
      }
    } finally {
      inside.close();
    }
  } finally {
    closeSync(nsfd);
  }
}

/**
 * Moves the devices into the network namespace of `initPid` (our child,
 * waiting for MSG_GO). On a failure the caller kills the init: devices
 * already in a namespace of its own then go as the spec says (physical
 * ones back to the host, virtual ones destroyed); in a joined namespace
 * they stay.
 */
export function moveNetDevices(initPid: number, moves: readonly NetDeviceMove[], debug: (m: string) => void): void {
  if (moves.length === 0) return;
  const nsfd = openSync(`/proc/${initPid}/ns/net`, 'r');
  let host: Rtnl | undefined;
  let inside: Rtnl | undefined;
  try {
    if (sameFile(fstatSync(nsfd), hostNetns())) throw new PlanError('/linux/netDevices', "the container's network namespace is the runtime's own");
    host = new Rtnl();
    inside = new Rtnl(nsfd);
    for (const m of moves) moveOne(m, nsfd, host, inside, debug);
  } finally {
    inside?.close();
    host?.close();
    closeSync(nsfd);
  }
}

function moveOne(m: NetDeviceMove, nsfd: number, host: Rtnl, inside: Rtnl, debug: (m: string) => void): void {
  const step = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof PlanError) throw e;
      throw new PlanError(m.pointer, `${what}: ${systemReason(e)}`);
    }
  };
  const link = step('look it up on the host', () => host.link({ name: m.host }));
  if (!link) throw new PlanError(m.pointer, 'no such network interface on the host');
  // Read before the move: the kernel drops every address of a device that
  // changes namespace.
  const keep = step('read its addresses', () => addressesToKeep(host.addrs(), link.index));
  step("move it into the container's network namespace", () => host.talk((s) => nl.setLinkRequest(s, link.index, { name: m.name, netnsFd: nsfd })));
  // By name, unless the kernel chose it: then by index, which a move keeps
  // unless the target already uses it (only possible in a joined
  // namespace), checked against the template.
  const moved = step("find it in the container's network namespace", () => (m.template ? inside.link({ index: link.index }) : inside.link({ name: m.name })));
  if (!moved || !fitsTemplate(m.name, moved.name)) {
    throw new PlanError(
      m.pointer,
      `moved, but no interface ${m.template ? `fitting ${JSON.stringify(m.name)} with index ${link.index}` : JSON.stringify(m.name)} is in the container's network namespace`,
    );
  }
  for (const a of keep) step(`add its address ${addrText(a)}`, () => inside.talk((s) => nl.newAddrRequest(s, moved.index, a)));
  step('set it up', () => inside.talk((s) => nl.setLinkRequest(s, moved.index, { up: true })));
  debug(`network device ${m.host} moved in as ${moved.name}, ${keep.length} address(es) kept`);
}

function addrText(a: nl.Addr): string {
  const bytes = a.local ?? a.address;
  if (!bytes) return `/${a.prefixlen}`;
  if (bytes.length === 4) return `${Array.from(bytes).join('.')}/${a.prefixlen}`;
  const groups: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return `${groups.join(':')}/${a.prefixlen}`;
}
