// rtnetlink messages for linux.netDevices, built and read here (pure, unit
// tested); the addon only sends and receives them (addon/binding/netlink.cc).
// Only what moving a device needs: links by name or index, one link change
// (up, name, network namespace), address dumps and additions. Netlink is in
// host byte order: little-endian on hako's two architectures (x86-64 and
// arm64, as Bun's); attributes are 4-byte aligned (rtnetlink(7)).

export const RTM = { NEWLINK: 16, GETLINK: 18, NEWADDR: 20, GETADDR: 22 } as const;
export const NLM_F = { REQUEST: 0x1, ACK: 0x4, EXCL: 0x200, CREATE: 0x400, DUMP: 0x300 } as const;
export const IFLA = { IFNAME: 3, NET_NS_FD: 28 } as const;
export const IFA = { ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, FLAGS: 8 } as const;
export const IFF = { UP: 0x1, LOOPBACK: 0x8 } as const;
export const IFA_F = { NODAD: 0x02, HOMEADDRESS: 0x10, PERMANENT: 0x80, MANAGETEMPADDR: 0x100, NOPREFIXROUTE: 0x200, MCAUTOJOIN: 0x400 } as const;
export const RT_SCOPE_UNIVERSE = 0;
export const AF_UNSPEC = 0;

const NLMSG_HDRLEN = 16;
const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;

export interface Link {
  index: number;
  name: string;
  flags: number;
}

export interface Addr {
  family: number;
  prefixlen: number;
  /** IFA_FLAGS when the kernel sent it (all 32 bits), else the header's 8. */
  flags: number;
  scope: number;
  index: number;
  address?: Uint8Array;
  local?: Uint8Array;
  broadcast?: Uint8Array;
}

const align4 = (n: number) => (n + 3) & ~3;

interface Attr {
  type: number;
  value: Uint8Array;
}

function u32(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

function cstr(s: string): Uint8Array {
  return Buffer.from(s + '\0', 'utf8');
}

function message(type: number, flags: number, seq: number, body: Uint8Array, attrs: Attr[]): Uint8Array {
  const len = NLMSG_HDRLEN + body.length + attrs.reduce((n, a) => n + align4(4 + a.value.length), 0);
  const b = Buffer.alloc(len);
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags | NLM_F.REQUEST, 6);
  b.writeUInt32LE(seq >>> 0, 8);
  b.set(body, NLMSG_HDRLEN);
  let off = NLMSG_HDRLEN + body.length;
  for (const a of attrs) {
    b.writeUInt16LE(4 + a.value.length, off);
    b.writeUInt16LE(a.type, off + 2);
    b.set(a.value, off + 4);
    off += align4(4 + a.value.length);
  }
  return b;
}

function ifinfomsg(index: number, flags = 0, change = 0): Uint8Array {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeUInt8(AF_UNSPEC, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags >>> 0, 8);
  b.writeUInt32LE(change >>> 0, 12);
  return b;
}

/** RTM_GETLINK for one link, by name or by index (ENODEV when absent). */
export function getLinkRequest(seq: number, which: { name: string } | { index: number }): Uint8Array {
  if ('name' in which) return message(RTM.GETLINK, NLM_F.ACK, seq, ifinfomsg(0), [{ type: IFLA.IFNAME, value: cstr(which.name) }]);
  return message(RTM.GETLINK, NLM_F.ACK, seq, ifinfomsg(which.index), []);
}

/**
 * RTM_NEWLINK on an existing link: into the network namespace `netnsFd`
 * names, renamed to `name` (both in one request: the kernel moves, then
 * renames in the new namespace, so the host never sees the new name), and/or
 * set up.
 */
export function setLinkRequest(seq: number, index: number, change: { up?: boolean; name?: string; netnsFd?: number }): Uint8Array {
  const attrs: Attr[] = [];
  if (change.name !== undefined) attrs.push({ type: IFLA.IFNAME, value: cstr(change.name) });
  if (change.netnsFd !== undefined) attrs.push({ type: IFLA.NET_NS_FD, value: u32(change.netnsFd) });
  const body = change.up ? ifinfomsg(index, IFF.UP, IFF.UP) : ifinfomsg(index);
  return message(RTM.NEWLINK, NLM_F.ACK, seq, body, attrs);
}

/** RTM_GETADDR dump of every address of every family. */
export function dumpAddrRequest(seq: number): Uint8Array {
  return message(RTM.GETADDR, NLM_F.DUMP, seq, Buffer.alloc(IFADDRMSG_LEN), []);
}

/** RTM_NEWADDR: `a` on link `index` (a new address; an existing one is EEXIST). */
export function newAddrRequest(seq: number, index: number, a: Addr): Uint8Array {
  const body = Buffer.alloc(IFADDRMSG_LEN);
  body.writeUInt8(a.family, 0);
  body.writeUInt8(a.prefixlen, 1);
  body.writeUInt8(a.flags & 0xff, 2);
  body.writeUInt8(a.scope, 3);
  body.writeUInt32LE(index >>> 0, 4);
  const attrs: Attr[] = [];
  if (a.local) attrs.push({ type: IFA.LOCAL, value: a.local });
  if (a.address) attrs.push({ type: IFA.ADDRESS, value: a.address });
  if (a.broadcast) attrs.push({ type: IFA.BROADCAST, value: a.broadcast });
  attrs.push({ type: IFA.FLAGS, value: u32(a.flags) });
  return message(RTM.NEWADDR, NLM_F.ACK | NLM_F.CREATE | NLM_F.EXCL, seq, body, attrs);
}

function header(msg: Uint8Array, want: number): Buffer {
  const b = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength);
  if (b.length < NLMSG_HDRLEN) throw new Error('netlink: short message');
  const len = b.readUInt32LE(0);
  if (len > b.length || len < NLMSG_HDRLEN) throw new Error('netlink: bad message length');
  const type = b.readUInt16LE(4);
  if (type !== want) throw new Error(`netlink: expected message type ${want}, got ${type}`);
  return b.subarray(0, len);
}

function* attrs(b: Buffer, from: number): Generator<Attr> {
  let off = from;
  while (off + 4 <= b.length) {
    const len = b.readUInt16LE(off);
    if (len < 4 || off + len > b.length) break;
    yield { type: b.readUInt16LE(off + 2) & 0x3fff, value: b.subarray(off + 4, off + len) };
    off += align4(len);
  }
}

function readCstr(v: Uint8Array): string {
  const end = v.indexOf(0);
  return Buffer.from(v.subarray(0, end < 0 ? v.length : end)).toString('utf8');
}

/** An RTM_NEWLINK reply. */
export function parseLink(msg: Uint8Array): Link {
  const b = header(msg, RTM.NEWLINK);
  if (b.length < NLMSG_HDRLEN + IFINFOMSG_LEN) throw new Error('netlink: short RTM_NEWLINK');
  const link: Link = { index: b.readInt32LE(NLMSG_HDRLEN + 4), flags: b.readUInt32LE(NLMSG_HDRLEN + 8), name: '' };
  for (const a of attrs(b, NLMSG_HDRLEN + IFINFOMSG_LEN)) if (a.type === IFLA.IFNAME) link.name = readCstr(a.value);
  return link;
}

/** An RTM_NEWADDR reply (one entry of a dump). */
export function parseAddr(msg: Uint8Array): Addr {
  const b = header(msg, RTM.NEWADDR);
  if (b.length < NLMSG_HDRLEN + IFADDRMSG_LEN) throw new Error('netlink: short RTM_NEWADDR');
  const h = NLMSG_HDRLEN;
  const a: Addr = { family: b[h]!, prefixlen: b[h + 1]!, flags: b[h + 2]!, scope: b[h + 3]!, index: b.readUInt32LE(h + 4) };
  const copy = (v: Uint8Array) => new Uint8Array(v);
  for (const at of attrs(b, h + IFADDRMSG_LEN)) {
    if (at.type === IFA.ADDRESS) a.address = copy(at.value);
    else if (at.type === IFA.LOCAL) a.local = copy(at.value);
    else if (at.type === IFA.BROADCAST) a.broadcast = copy(at.value);
    else if (at.type === IFA.FLAGS && at.value.length >= 4) a.flags = Buffer.from(at.value).readUInt32LE(0);
  }
  return a;
}
