// The protobuf wire format, as much as hako's messages need
// (https://protobuf.dev/programming-guides/encoding/): varints (int32,
// int64, uint32, bool, enums), length-delimited fields (strings, bytes,
// sub-messages, map entries) and skipping fixed32/fixed64 on decode. The
// messages themselves are written field by field from their field numbers
// (criu's RPC in src/checkpoint/rpc.ts, the CRI test's client in
// test/clients/cri-client.ts): no .proto file, no generated code.

const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const FIXED32 = 5;

function varint(v: bigint): Buffer {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return Buffer.from(out);
}

/** A message being written; zero values are left out, as proto3 does. */
export class Writer {
  private readonly parts: Buffer[] = [];

  private tag(n: number, wire: number): void {
    this.parts.push(varint(BigInt((n << 3) | wire)));
  }

  private len(n: number, data: Buffer): this {
    this.tag(n, LEN);
    this.parts.push(varint(BigInt(data.length)), data);
    return this;
  }

  /** int32, int64, uint32, an enum; negative int32/int64 take ten bytes. */
  int(n: number, v: number | bigint | undefined): this {
    if (v === undefined || v === 0 || v === 0n) return this;
    this.tag(n, VARINT);
    this.parts.push(varint(BigInt(v)));
    return this;
  }

  bool(n: number, v: boolean | undefined): this {
    return v ? this.int(n, 1) : this;
  }

  /**
   * A varint written even when it is zero: proto2's required fields (an fd
   * 0, a `false`) and optional ones whose zero means something other than
   * their absence.
   */
  always(n: number, v: number | bigint | boolean): this {
    this.tag(n, VARINT);
    this.parts.push(varint(BigInt(typeof v === 'boolean' ? Number(v) : v)));
    return this;
  }

  str(n: number, v: string | undefined): this {
    return v ? this.len(n, Buffer.from(v, 'utf8')) : this;
  }

  strs(n: number, vs: readonly string[] | undefined): this {
    for (const v of vs ?? []) this.len(n, Buffer.from(v, 'utf8'));
    return this;
  }

  /** A sub-message: written even when empty (its presence can matter). */
  msg(n: number, m: Writer | undefined): this {
    return m ? this.len(n, m.bytes()) : this;
  }

  msgs(n: number, ms: readonly Writer[] | undefined): this {
    for (const m of ms ?? []) this.msg(n, m);
    return this;
  }

  /** map<string, string>: one entry message (key 1, value 2) per pair. */
  map(n: number, m: Readonly<Record<string, string>> | undefined): this {
    for (const [k, v] of Object.entries(m ?? {})) this.msg(n, new Writer().str(1, k).str(2, v));
    return this;
  }

  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

type Value = bigint | Buffer;

/** A decoded message: every field's values by number, read on demand by type. */
export class Reader {
  private readonly fields = new Map<number, Value[]>();

  constructor(buf: Buffer) {
    let i = 0;
    const readVarint = (): bigint => {
      let x = 0n;
      for (let shift = 0n; ; shift += 7n) {
        if (i >= buf.length) throw new Error('protobuf: truncated varint');
        const b = buf[i++]!;
        x |= BigInt(b & 0x7f) << shift;
        if (!(b & 0x80)) return x;
      }
    };
    while (i < buf.length) {
      const key = readVarint();
      const n = Number(key >> 3n);
      const wire = Number(key & 7n);
      let v: Value;
      if (wire === VARINT) v = readVarint();
      else if (wire === LEN) {
        const l = Number(readVarint());
        if (i + l > buf.length) throw new Error(`protobuf: field ${n} runs past the end`);
        v = buf.subarray(i, i + l);
        i += l;
      } else if (wire === FIXED64 || wire === FIXED32) {
        const l = wire === FIXED64 ? 8 : 4;
        v = buf.subarray(i, i + l);
        i += l;
      } else throw new Error(`protobuf: field ${n} has wire type ${wire}`);
      const list = this.fields.get(n) ?? [];
      list.push(v);
      this.fields.set(n, list);
    }
  }

  /** Whether field `n` was present at all (proto2: a zero sent differs from none). */
  has(n: number): boolean {
    return this.fields.has(n);
  }

  private last(n: number): Value | undefined {
    const l = this.fields.get(n);
    return l?.[l.length - 1];
  }

  /** A signed varint field (int32, int64, enum) as a number. */
  int(n: number): number {
    const v = this.last(n);
    return typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : 0;
  }

  bool(n: number): boolean {
    return this.int(n) !== 0;
  }

  buf(n: number): Buffer {
    const v = this.last(n);
    return Buffer.isBuffer(v) ? v : Buffer.alloc(0);
  }

  str(n: number): string {
    return this.buf(n).toString('utf8');
  }

  strs(n: number): string[] {
    return (this.fields.get(n) ?? []).filter(Buffer.isBuffer).map((b) => b.toString('utf8'));
  }

  msg(n: number): Reader | undefined {
    const v = this.last(n);
    return Buffer.isBuffer(v) ? new Reader(v) : undefined;
  }

  msgs(n: number): Reader[] {
    return (this.fields.get(n) ?? []).filter(Buffer.isBuffer).map((b) => new Reader(b));
  }

  map(n: number): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of this.msgs(n)) out[e.str(1)] = e.str(2);
    return out;
  }
}
