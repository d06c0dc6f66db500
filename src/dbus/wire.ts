// The D-Bus wire format (the D-Bus specification, "Message Protocol":
// type signatures, alignment, marshalling), written from the specification
// for the few calls hako makes to systemd. Pure: bytes in, values out.
//
// Values by type code:
//   y n q i u h   number          b        boolean
//   x t           bigint          d        number
//   s o g         string          v        Variant
//   a             array of the element's values; "ay" also takes a
//                 Uint8Array and always reads back as one
//   ( ) { }       array of the members' values (a dict entry is a pair)
//
// Every failure is a DBusWireError naming what was wrong; a reader never
// reads past its buffer, whatever the bytes claim.

export class DBusWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DBusWireError';
  }
}

/** A value with its own signature (the 'v' type). */
export class Variant {
  constructor(
    /** One complete type. */
    readonly signature: string,
    readonly value: DBusValue,
  ) {}
}

export type DBusValue = number | bigint | boolean | string | Variant | Uint8Array | DBusValue[];

/** One complete type, parsed. */
export interface TypeNode {
  /** The type code: a basic type, 'v', 'a', '(' or '{'. */
  code: string;
  /** 'a': the element; '(' the members; '{' key and value. */
  children: TypeNode[];
  /** The signature text of this type. */
  text: string;
}

const BASIC = 'ybnqiuxtdsogh';
const UTF8 = new TextDecoder('utf-8', { fatal: true });

// The specification's limits.
const MAX_SIGNATURE = 255;
const MAX_DEPTH = 32; // of arrays, and separately of structs
export const MAX_ARRAY = 1 << 26;
export const MAX_MESSAGE = 1 << 27;

/** The alignment of a type on the wire. */
export function alignment(code: string): number {
  switch (code) {
    case 'y':
    case 'g':
    case 'v':
      return 1;
    case 'n':
    case 'q':
      return 2;
    case 'x':
    case 't':
    case 'd':
    case '(':
    case '{':
      return 8;
    default:
      return 4; // b i u h s o a
  }
}

/** Parses a signature (zero or more complete types). */
export function parseSignature(sig: string): TypeNode[] {
  if (sig.length > MAX_SIGNATURE) throw new DBusWireError(`signature longer than ${MAX_SIGNATURE} characters`);
  let i = 0;
  const one = (arrays: number, structs: number, inArray: boolean): TypeNode => {
    const start = i;
    const c = sig[i++];
    if (c === undefined) throw new DBusWireError(`signature ${JSON.stringify(sig)} ends inside a type`);
    if (BASIC.includes(c) || c === 'v') return { code: c, children: [], text: c };
    if (c === 'a') {
      if (arrays >= MAX_DEPTH) throw new DBusWireError(`signature ${JSON.stringify(sig)} nests arrays more than ${MAX_DEPTH} deep`);
      const el = one(arrays + 1, structs, true);
      return { code: 'a', children: [el], text: sig.slice(start, i) };
    }
    if (c === '(') {
      if (structs >= MAX_DEPTH) throw new DBusWireError(`signature ${JSON.stringify(sig)} nests structs more than ${MAX_DEPTH} deep`);
      const members: TypeNode[] = [];
      while (sig[i] !== ')') {
        if (i >= sig.length) throw new DBusWireError(`signature ${JSON.stringify(sig)} has an unclosed struct`);
        members.push(one(arrays, structs + 1, false));
      }
      i++;
      if (members.length === 0) throw new DBusWireError(`signature ${JSON.stringify(sig)} has an empty struct`);
      return { code: '(', children: members, text: sig.slice(start, i) };
    }
    if (c === '{') {
      if (!inArray) throw new DBusWireError(`signature ${JSON.stringify(sig)} has a dict entry outside an array`);
      const k = one(arrays, structs + 1, false);
      if (!BASIC.includes(k.code)) throw new DBusWireError(`signature ${JSON.stringify(sig)} has a dict key that is not a basic type`);
      const v = one(arrays, structs + 1, false);
      if (sig[i++] !== '}') throw new DBusWireError(`signature ${JSON.stringify(sig)} has a dict entry without exactly two types`);
      return { code: '{', children: [k, v], text: sig.slice(start, i) };
    }
    throw new DBusWireError(`signature ${JSON.stringify(sig)} has an unknown type code ${JSON.stringify(c)}`);
  };
  const out: TypeNode[] = [];
  while (i < sig.length) out.push(one(0, 0, false));
  return out;
}

/** Parses exactly one complete type (a variant's signature). */
export function parseSingleType(sig: string): TypeNode {
  const t = parseSignature(sig);
  if (t.length !== 1) throw new DBusWireError(`${JSON.stringify(sig)} is not a single complete type`);
  return t[0]!;
}

const OBJECT_PATH = /^\/$|^(\/[A-Za-z0-9_]+)+$/;

export type Endian = 'l' | 'B';

/** Marshals values; offsets (and so alignment) count from the writer's start. */
export class Writer {
  private buf: Buffer;
  private len = 0;

  constructor(initial = 256) {
    this.buf = Buffer.alloc(initial);
  }

  get length(): number {
    return this.len;
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  align(n: number): void {
    const pad = (n - (this.len % n)) % n;
    this.room(pad);
    this.buf.fill(0, this.len, this.len + pad);
    this.len += pad;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  u8(v: number): void {
    this.room(1);
    this.buf.writeUInt8(v, this.len);
    this.len += 1;
  }

  u32(v: number): void {
    this.align(4);
    this.room(4);
    this.buf.writeUInt32LE(v, this.len);
    this.len += 4;
  }

  /** Overwrites a uint32 written earlier (an array's length). */
  patchU32(at: number, v: number): void {
    this.buf.writeUInt32LE(v, at);
  }

  result(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** Writes `values` as the types of `sig`. */
  write(sig: string | TypeNode[], values: readonly DBusValue[]): void {
    const types = typeof sig === 'string' ? parseSignature(sig) : sig;
    if (types.length !== values.length)
      throw new DBusWireError(`signature ${JSON.stringify(types.map((t) => t.text).join(''))} wants ${types.length} values, got ${values.length}`);
    types.forEach((t, i) => this.value(t, values[i]!));
  }

  value(t: TypeNode, v: DBusValue): void {
    const c = checks(t, v);
    switch (t.code) {
      case 'y':
      case 'b':
      case 'n':
      case 'q':
      case 'i':
      case 'u':
      case 'h':
      case 'x':
      case 't':
      case 'd':
        this.fixedValue(t, v, c);
        return;
      case 's':
      case 'o': {
        const b = c.str();
        if (t.code === 'o' && !OBJECT_PATH.test(v as string)) c.bad('not a valid object path');
        this.u32(b.length);
        this.bytes(b);
        this.u8(0);
        return;
      }
      case 'g': {
        const b = c.str();
        parseSignature(v as string);
        this.u8(b.length);
        this.bytes(b);
        this.u8(0);
        return;
      }
      case 'v':
      case 'a':
      case '(':
      case '{':
        this.containerValue(t, v, c.bad);
        return;
      default:
        c.bad('unknown type');
    }
  }

  /** The fixed-size types: integers, booleans, doubles. */
  private fixedValue(t: TypeNode, v: DBusValue, { bad, int, big }: ValueChecks): void {
    switch (t.code) {
      case 'y':
        this.u8(int(0, 255));
        return;
      case 'b':
        if (typeof v !== 'boolean') bad('expected a boolean');
        this.u32(v ? 1 : 0);
        return;
      case 'n':
      case 'q': {
        const n = t.code === 'n' ? int(-0x8000, 0x7fff) : int(0, 0xffff);
        this.align(2);
        this.room(2);
        if (t.code === 'n') this.buf.writeInt16LE(n, this.len);
        else this.buf.writeUInt16LE(n, this.len);
        this.len += 2;
        return;
      }
      case 'i':
        this.align(4);
        this.room(4);
        this.buf.writeInt32LE(int(-0x80000000, 0x7fffffff), this.len);
        this.len += 4;
        return;
      case 'u':
      case 'h':
        this.u32(int(0, 0xffffffff));
        return;
      case 'x':
      case 't': {
        const n = t.code === 'x' ? big(-(1n << 63n), (1n << 63n) - 1n) : big(0n, (1n << 64n) - 1n);
        this.align(8);
        this.room(8);
        if (t.code === 'x') this.buf.writeBigInt64LE(n, this.len);
        else this.buf.writeBigUInt64LE(n, this.len);
        this.len += 8;
        return;
      }
      case 'd':
        if (typeof v !== 'number') bad('expected a number');
        this.align(8);
        this.room(8);
        this.buf.writeDoubleLE(v as number, this.len);
        this.len += 8;
        return;
    }
  }

  /** Variants, arrays, structs and dict entries. */
  private containerValue(t: TypeNode, v: DBusValue, bad: (what: string) => never): void {
    switch (t.code) {
      case 'v': {
        if (!(v instanceof Variant)) bad('expected a Variant');
        const vv = v as Variant;
        const inner = parseSingleType(vv.signature);
        this.value({ code: 'g', children: [], text: 'g' }, vv.signature);
        this.value(inner, vv.value);
        return;
      }
      case 'a': {
        const el = t.children[0]!;
        const items: ArrayLike<DBusValue> = el.code === 'y' && v instanceof Uint8Array ? Array.from(v) : Array.isArray(v) ? v : bad('expected an array');
        this.u32(0);
        const at = this.len - 4;
        this.align(alignment(el.code));
        const start = this.len;
        for (let i = 0; i < items.length; i++) this.value(el, items[i]!);
        const n = this.len - start;
        if (n > MAX_ARRAY) bad(`arrays are limited to ${MAX_ARRAY} bytes`);
        this.patchU32(at, n);
        return;
      }
      case '(':
      case '{': {
        if (!Array.isArray(v) || v.length !== t.children.length) bad(`expected an array of ${t.children.length} members`);
        this.align(8);
        t.children.forEach((c, i) => this.value(c, (v as DBusValue[])[i]!));
        return;
      }
    }
  }
}

interface ValueChecks {
  bad: (what: string) => never;
  int: (min: number, max: number) => number;
  big: (min: bigint, max: bigint) => bigint;
  str: () => Buffer;
}

/** The checks of `v` against `t`, each failing with one error naming both. */
function checks(t: TypeNode, v: DBusValue): ValueChecks {
  const bad = (what: string): never => {
    throw new DBusWireError(`cannot marshal ${describeValue(v)} as ${JSON.stringify(t.text)}: ${what}`);
  };
  const int = (min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(`expected an integer in ${min}..${max}`);
    return v as number;
  };
  const big = (min: bigint, max: bigint): bigint => {
    const n = typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v;
    if (typeof n !== 'bigint' || n < min || n > max) bad(`expected an integer in ${min}..${max}`);
    return n as bigint;
  };
  const str = (): Buffer => {
    if (typeof v !== 'string') bad('expected a string');
    const b = Buffer.from(v as string, 'utf8');
    if (b.includes(0)) bad('strings cannot contain NUL');
    return b;
  };
  return { bad, int, big, str };
}

function describeValue(v: unknown): string {
  if (v instanceof Variant) return `a variant of ${JSON.stringify(v.signature)}`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'bigint') return `${v}n`;
  return typeof v === 'string' ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v) : String(v);
}

/** Unmarshals values from `buf`; offsets (and so alignment) count from `base`. */
export class Reader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    readonly endian: Endian = 'l',
    /** Where alignment counts from (the start of the message). */
    readonly base = 0,
    start = base,
    /** Where the readable bytes end. */
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) throw new DBusWireError(`truncated message: ${what} runs past the end`);
  }

  align(n: number): void {
    const pad = (n - ((this.pos - this.base) % n)) % n;
    this.need(pad, 'padding');
    for (let i = 0; i < pad; i++) {
      if (this.buf[this.pos + i] !== 0) throw new DBusWireError('padding bytes are not zero');
    }
    this.pos += pad;
  }

  u8(): number {
    this.need(1, 'a byte');
    return this.buf[this.pos++]!;
  }

  u32(): number {
    this.align(4);
    this.need(4, 'a uint32');
    const v = this.endian === 'l' ? this.buf.readUInt32LE(this.pos) : this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  read(sig: string | TypeNode[]): DBusValue[] {
    const types = typeof sig === 'string' ? parseSignature(sig) : sig;
    return types.map((t) => this.value(t, 0));
  }

  value(t: TypeNode, depth: number): DBusValue {
    const le = this.endian === 'l';
    const fixed = (n: number, f: (at: number) => number | bigint) => {
      this.align(n);
      this.need(n, JSON.stringify(t.code));
      const v = f(this.pos);
      this.pos += n;
      return v;
    };
    const string = (len: number, what: string): string => {
      this.need(len + 1, what);
      const b = this.buf.subarray(this.pos, this.pos + len);
      if (this.buf[this.pos + len] !== 0) throw new DBusWireError(`${what} is not NUL-terminated`);
      if (b.includes(0)) throw new DBusWireError(`${what} contains NUL`);
      this.pos += len + 1;
      try {
        return UTF8.decode(b);
      } catch {
        throw new DBusWireError(`${what} is not valid UTF-8`);
      }
    };
    switch (t.code) {
      case 'y':
        return this.u8();
      case 'b': {
        const n = this.u32();
        if (n > 1) throw new DBusWireError(`boolean value ${n} is neither 0 nor 1`);
        return n === 1;
      }
      case 'n':
        return fixed(2, (at) => (le ? this.buf.readInt16LE(at) : this.buf.readInt16BE(at)));
      case 'q':
        return fixed(2, (at) => (le ? this.buf.readUInt16LE(at) : this.buf.readUInt16BE(at)));
      case 'i':
        return fixed(4, (at) => (le ? this.buf.readInt32LE(at) : this.buf.readInt32BE(at)));
      case 'u':
      case 'h':
        return this.u32();
      case 'x':
        return fixed(8, (at) => (le ? this.buf.readBigInt64LE(at) : this.buf.readBigInt64BE(at)));
      case 't':
        return fixed(8, (at) => (le ? this.buf.readBigUInt64LE(at) : this.buf.readBigUInt64BE(at)));
      case 'd':
        return fixed(8, (at) => (le ? this.buf.readDoubleLE(at) : this.buf.readDoubleBE(at)));
      case 's':
      case 'o': {
        const s = string(this.u32(), t.code === 's' ? 'a string' : 'an object path');
        if (t.code === 'o' && !OBJECT_PATH.test(s)) throw new DBusWireError(`${JSON.stringify(s)} is not a valid object path`);
        return s;
      }
      case 'g': {
        const s = string(this.u8(), 'a signature');
        parseSignature(s);
        return s;
      }
      case 'v': {
        // A variant can hold a variant: bound the recursion the signature
        // parser cannot see.
        if (depth >= 64) throw new DBusWireError('variants nested more than 64 deep');
        const sig = string(this.u8(), "a variant's signature");
        return new Variant(sig, this.value(parseSingleType(sig), depth + 1));
      }
      case 'a': {
        const n = this.u32();
        if (n > MAX_ARRAY) throw new DBusWireError(`array of ${n} bytes is over the ${MAX_ARRAY}-byte limit`);
        const el = t.children[0]!;
        this.align(alignment(el.code));
        this.need(n, 'an array');
        const stop = this.pos + n;
        if (el.code === 'y') {
          const b = Uint8Array.from(this.buf.subarray(this.pos, stop));
          this.pos = stop;
          return b;
        }
        const out: DBusValue[] = [];
        while (this.pos < stop) out.push(this.value(el, depth));
        if (this.pos !== stop) throw new DBusWireError('array elements overrun the array length');
        return out;
      }
      case '(':
      case '{':
        this.align(8);
        return t.children.map((c) => this.value(c, depth));
      default:
        throw new DBusWireError(`unknown type ${JSON.stringify(t.code)}`);
    }
  }
}
