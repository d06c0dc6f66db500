// D-Bus messages: the fixed header, the header fields and the body, to and
// from bytes (the specification's "Message Format"). Pure.
import { DBusWireError, MAX_MESSAGE, Reader, Variant, Writer, parseSignature, type DBusValue, type Endian } from './wire.js';

export const MessageType = { METHOD_CALL: 1, METHOD_RETURN: 2, ERROR: 3, SIGNAL: 4 } as const;
export type MessageTypeCode = (typeof MessageType)[keyof typeof MessageType];

export const Flags = { NO_REPLY_EXPECTED: 1, NO_AUTO_START: 2, ALLOW_INTERACTIVE_AUTHORIZATION: 4 } as const;

export interface Message {
  type: MessageTypeCode;
  flags?: number;
  /** Set by the connection when sending. */
  serial: number;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  destination?: string;
  sender?: string;
  /** The body's signature; "" for none. */
  signature?: string;
  body?: DBusValue[];
}

// Header field codes and the one type each must have.
const FIELDS = [
  [1, 'path', 'o'],
  [2, 'interface', 's'],
  [3, 'member', 's'],
  [4, 'errorName', 's'],
  [5, 'replySerial', 'u'],
  [6, 'destination', 's'],
  [7, 'sender', 's'],
  [8, 'signature', 'g'],
] as const;
const UNIX_FDS = 9;

const HEADER_FIELDS = parseSignature('a(yv)');

const REQUIRED: Readonly<Record<number, ReadonlyArray<keyof Message>>> = {
  1: ['path', 'member'],
  2: ['replySerial'],
  3: ['errorName', 'replySerial'],
  4: ['path', 'interface', 'member'],
};

/** The bytes of a message, little-endian. */
export function encodeMessage(m: Message): Buffer {
  for (const f of REQUIRED[m.type] ?? []) {
    if (m[f] === undefined) throw new DBusWireError(`a message of type ${m.type} needs a ${f} header field`);
  }
  const sig = m.signature ?? '';
  const body = new Writer();
  body.write(sig, m.body ?? []);
  const fields: DBusValue[] = [];
  for (const [code, key, type] of FIELDS) {
    const v = m[key];
    if (v === undefined || (key === 'signature' && v === '')) continue;
    fields.push([code, new Variant(type, v)]);
  }
  const h = new Writer();
  h.bytes(Buffer.from([0x6c, m.type, m.flags ?? 0, 1]));
  h.u32(body.length);
  if (!Number.isInteger(m.serial) || m.serial <= 0 || m.serial > 0xffffffff) throw new DBusWireError(`serial ${m.serial} is not in 1..2^32-1`);
  h.u32(m.serial);
  h.value(HEADER_FIELDS[0]!, fields);
  h.align(8);
  const total = h.length + body.length;
  if (total > MAX_MESSAGE) throw new DBusWireError(`message of ${total} bytes is over the ${MAX_MESSAGE}-byte limit`);
  return Buffer.concat([h.result(), body.result()]);
}

/**
 * The length of the message at the start of `buf`, once its first 16 bytes
 * are there (undefined before). Throws on a header no peer should send.
 */
export function messageLength(buf: Buffer): number | undefined {
  if (buf.length < 16) return undefined;
  const endian = String.fromCharCode(buf[0]!);
  if (endian !== 'l' && endian !== 'B') throw new DBusWireError(`bad endianness byte 0x${buf[0]!.toString(16)}`);
  if (buf[3] !== 1) throw new DBusWireError(`unsupported protocol version ${buf[3]}`);
  const le = endian === 'l';
  const bodyLen = le ? buf.readUInt32LE(4) : buf.readUInt32BE(4);
  const fieldsLen = le ? buf.readUInt32LE(12) : buf.readUInt32BE(12);
  const headerLen = 16 + fieldsLen + ((8 - ((16 + fieldsLen) % 8)) % 8);
  const total = headerLen + bodyLen;
  if (total > MAX_MESSAGE) throw new DBusWireError(`message of ${total} bytes is over the ${MAX_MESSAGE}-byte limit`);
  return total;
}

/** Decodes one whole message (exactly messageLength(buf) bytes). */
export function decodeMessage(buf: Buffer): Message {
  const total = messageLength(buf);
  if (total === undefined || buf.length < total) throw new DBusWireError('truncated message');
  const endian = String.fromCharCode(buf[0]!) as Endian;
  const type = buf[1]!;
  const r = new Reader(buf, endian, 0, 4, total);
  const bodyLen = r.u32();
  const serial = r.u32();
  if (serial === 0) throw new DBusWireError('message serial 0');
  const m: Message = { type: type as MessageTypeCode, flags: buf[2]!, serial };
  const fields = r.value(HEADER_FIELDS[0]!, 0) as DBusValue[];
  for (const f of fields) {
    const [code, v] = f as [number, Variant];
    if (code === UNIX_FDS) throw new DBusWireError('messages carrying file descriptors are not supported');
    const known = FIELDS.find(([c]) => c === code);
    // Unknown header fields must be ignored (the specification).
    if (!known) continue;
    if (v.signature !== known[2]) throw new DBusWireError(`header field ${known[1]} has type ${JSON.stringify(v.signature)}, not ${JSON.stringify(known[2])}`);
    (m as unknown as Record<string, unknown>)[known[1]] = v.value;
  }
  r.align(8);
  if (total - r.pos !== bodyLen) throw new DBusWireError('header length does not add up');
  m.signature ??= '';
  // The body's alignment counts from its own start, which is 8-aligned.
  const br = new Reader(buf, endian, r.pos, r.pos, total);
  m.body = br.read(m.signature);
  if (br.pos !== total) throw new DBusWireError(`${total - br.pos} bytes left over after the body`);
  if (type >= 1 && type <= 4) {
    for (const f of REQUIRED[type] ?? []) if (m[f] === undefined) throw new DBusWireError(`message of type ${type} without a ${f} header field`);
  }
  return m;
}
