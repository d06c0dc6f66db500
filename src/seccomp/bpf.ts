// Classic BPF instructions (struct sock_filter) as seccomp takes them: eight
// bytes each, in the host's byte order (libseccomp exports that way and the
// kernel reads it that way).
import { endianness } from 'node:os';

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const INSN_SIZE = 8;

// Opcode parts (linux/bpf_common.h).
export const BPF = {
  LD: 0x00,
  LDX: 0x01,
  ST: 0x02,
  STX: 0x03,
  ALU: 0x04,
  JMP: 0x05,
  RET: 0x06,
  MISC: 0x07,
  W: 0x00,
  H: 0x08,
  B: 0x10,
  IMM: 0x00,
  ABS: 0x20,
  IND: 0x40,
  MEM: 0x60,
  LEN: 0x80,
  MSH: 0xa0,
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  K: 0x00,
  X: 0x08,
  A: 0x10,
  TAX: 0x00,
  TXA: 0x80,
} as const;

/** Offsets in struct seccomp_data. */
export const DATA = { NR: 0, ARCH: 4, IP: 8, ARGS: 16 } as const;

const little = endianness() === 'LE';

export function encode(program: readonly Insn[]): Buffer {
  const b = Buffer.alloc(program.length * INSN_SIZE);
  program.forEach((p, i) => {
    const o = i * INSN_SIZE;
    if (little) {
      b.writeUInt16LE(p.code, o);
      b.writeUInt32LE(p.k >>> 0, o + 4);
    } else {
      b.writeUInt16BE(p.code, o);
      b.writeUInt32BE(p.k >>> 0, o + 4);
    }
    b.writeUInt8(p.jt, o + 2);
    b.writeUInt8(p.jf, o + 3);
  });
  return b;
}

export function decode(bytes: Buffer): Insn[] {
  if (bytes.length % INSN_SIZE !== 0) throw new Error(`BPF program of ${bytes.length} bytes is not a whole number of instructions`);
  const out: Insn[] = [];
  for (let o = 0; o < bytes.length; o += INSN_SIZE) {
    out.push({
      code: little ? bytes.readUInt16LE(o) : bytes.readUInt16BE(o),
      jt: bytes.readUInt8(o + 2),
      jf: bytes.readUInt8(o + 3),
      k: little ? bytes.readUInt32LE(o + 4) : bytes.readUInt32BE(o + 4),
    });
  }
  return out;
}
