// The launcher protocol's wire format (see addon/plan.tags): a record is
// u32 tag | u32 length | value, host byte order. Tags and their types come
// from the generated plan-tags.ts, so an encoder call with a value of the
// wrong kind fails here rather than as a confused launcher.
import { T, TAG_NAME, TAG_TYPE, type TagName } from './plan-tags.js';

export type Value = string | number | bigint | boolean | Uint8Array | Rec[];
export interface Rec {
  tag: number;
  value: Value;
}

/** A record, type-checked against the tag definition. */
export function rec(name: TagName, value: Value): Rec {
  const tag = T[name];
  const type = TAG_TYPE[tag];
  const ok =
    (type === 'str' && typeof value === 'string') ||
    (type === 'bytes' && value instanceof Uint8Array) ||
    ((type === 'u32' || type === 'i32') && typeof value === 'number' && Number.isInteger(value)) ||
    ((type === 'u64' || type === 'i64') && (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value)))) ||
    (type === 'bool' && typeof value === 'boolean') ||
    (type === 'nest' && Array.isArray(value));
  if (!ok) throw new TypeError(`plan tag ${name} (${type}) given ${typeof value}`);
  if (type === 'u32' && ((value as number) < 0 || (value as number) > 0xffffffff)) throw new RangeError(`plan tag ${name}: ${value} out of u32 range`);
  if (type === 'i32' && ((value as number) < -0x80000000 || (value as number) > 0x7fffffff))
    throw new RangeError(`plan tag ${name}: ${value} out of i32 range`);
  return { tag, value };
}

function size(r: Rec): number {
  const type = TAG_TYPE[r.tag];
  switch (type) {
    case 'str':
      return 8 + Buffer.byteLength(r.value as string);
    case 'bytes':
      return 8 + (r.value as Uint8Array).byteLength;
    case 'u32':
    case 'i32':
    case 'bool':
      return 12;
    case 'u64':
    case 'i64':
      return 16;
    case 'nest':
      return 8 + (r.value as Rec[]).reduce((n, c) => n + size(c), 0);
    default:
      throw new Error(`unknown plan tag ${r.tag}`);
  }
}

function put(buf: Buffer, off: number, r: Rec): number {
  const type = TAG_TYPE[r.tag];
  const len = size(r) - 8;
  buf.writeUInt32LE(r.tag, off);
  buf.writeUInt32LE(len, off + 4);
  off += 8;
  switch (type) {
    case 'str':
      return off + buf.write(r.value as string, off, 'utf8');
    case 'bytes':
      buf.set(r.value as Uint8Array, off);
      return off + len;
    case 'u32':
      buf.writeUInt32LE(r.value as number, off);
      return off + 4;
    case 'i32':
      buf.writeInt32LE(r.value as number, off);
      return off + 4;
    case 'bool':
      buf.writeUInt32LE(r.value ? 1 : 0, off);
      return off + 4;
    case 'u64':
      buf.writeBigUInt64LE(BigInt(r.value as number | bigint), off);
      return off + 8;
    case 'i64':
      buf.writeBigInt64LE(BigInt(r.value as number | bigint), off);
      return off + 8;
    case 'nest':
      for (const c of r.value as Rec[]) off = put(buf, off, c);
      return off;
    default:
      throw new Error(`unknown plan tag ${r.tag}`);
  }
}

export function encode(r: Rec): Buffer {
  const buf = Buffer.alloc(size(r));
  put(buf, 0, r);
  return buf;
}

/** Decodes a sequence of records; nests are decoded recursively. */
export function decodeAll(buf: Buffer): Rec[] {
  const out: Rec[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 8) throw new Error('truncated plan record header');
    const tag = buf.readUInt32LE(off);
    const len = buf.readUInt32LE(off + 4);
    off += 8;
    if (buf.length - off < len) throw new Error(`truncated plan record ${TAG_NAME[tag] ?? tag}`);
    const v = buf.subarray(off, off + len);
    off += len;
    out.push({ tag, value: decodeValue(tag, v) });
  }
  return out;
}

function decodeValue(tag: number, v: Buffer): Value {
  const type = TAG_TYPE[tag];
  const need = (n: number) => {
    if (v.length !== n) throw new Error(`plan record ${TAG_NAME[tag]}: length ${v.length}, expected ${n}`);
  };
  switch (type) {
    case 'str':
      return v.toString('utf8');
    case 'bytes':
      return new Uint8Array(v);
    case 'u32':
      need(4);
      return v.readUInt32LE(0);
    case 'i32':
      need(4);
      return v.readInt32LE(0);
    case 'bool':
      need(4);
      return v.readUInt32LE(0) !== 0;
    case 'u64':
      need(8);
      return v.readBigUInt64LE(0);
    case 'i64':
      need(8);
      return v.readBigInt64LE(0);
    case 'nest':
      return decodeAll(v);
    default:
      throw new Error(`unknown plan tag ${tag}`);
  }
}

/** Splits a byte stream into whole top-level records; returns the rest. */
export function splitRecords(buf: Buffer): { records: Rec[]; rest: Buffer } {
  const records: Rec[] = [];
  let off = 0;
  while (buf.length - off >= 8) {
    const len = buf.readUInt32LE(off + 4);
    if (buf.length - off - 8 < len) break;
    records.push(...decodeAll(buf.subarray(off, off + 8 + len)));
    off += 8 + len;
  }
  return { records, rest: buf.subarray(off) };
}

/** First value of a tag among records, or undefined. */
export function field<V extends Value>(recs: Rec[], name: TagName): V | undefined {
  const r = recs.find((x) => x.tag === T[name]);
  return r?.value as V | undefined;
}
