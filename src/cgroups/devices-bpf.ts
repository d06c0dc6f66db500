// cgroup v2 has no devices.allow/deny files: device access is decided by a
// BPF_PROG_TYPE_CGROUP_DEVICE program attached to the cgroup. This builds
// that program, as raw struct bpf_insn bytes, from the same emulated rule
// state the v1 writes come from (devices.ts), so v1 and v2 agree.
//
// The program, like runc's and crun's: load the access type, the access
// bits, major and minor from struct bpf_cgroup_dev_ctx into r2..r5, then one
// block per exception that returns the exception's verdict when it matches,
// then the default verdict:
//
//   r2 = ctx->access_type & 0xffff      device type (BPF_DEVCG_DEV_*)
//   r3 = ctx->access_type >> 16         requested access (BPF_DEVCG_ACC_*)
//   r4 = ctx->major; r5 = ctx->minor
//   block: if r2 != TYPE goto next; <access test>; if r4 != MAJOR goto next;
//          if r5 != MINOR goto next; r0 = VERDICT; exit
//   ...
//   r0 = DEFAULT; exit
//
// The access test follows the kernel's v1 semantics (see
// DeviceEmulator.permits): an allow exception must grant every requested
// bit, a deny exception applies when it shares any requested bit.
// Every exception carries the verdict opposite to the default (the emulator
// folds the rest away), so block order does not matter.
import { endianness } from 'node:os';
import { ACC, DeviceEmulator, type DeviceRule } from './devices.js';

/** The program's license string; anything not GPL is fine, it calls no helpers. */
export const DEVICE_FILTER_LICENSE = 'Apache';

// include/uapi/linux/bpf.h
export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;

// Opcodes used (class | op | source).
export const OP = {
  LDXW: 0x61, // BPF_LDX | BPF_MEM | BPF_W
  AND32_K: 0x54, // BPF_ALU | BPF_AND | BPF_K
  RSH32_K: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  MOV32_K: 0xb4, // BPF_ALU | BPF_MOV | BPF_K
  MOV32_X: 0xbc, // BPF_ALU | BPF_MOV | BPF_X
  JEQ_K: 0x15, // BPF_JMP | BPF_JEQ | BPF_K
  JNE_K: 0x55, // BPF_JMP | BPF_JNE | BPF_K
  JNE_X: 0x5d, // BPF_JMP | BPF_JNE | BPF_X
  EXIT: 0x95, // BPF_JMP | BPF_EXIT
} as const;

export interface BpfInsn {
  code: number;
  dst: number;
  src: number;
  /** Jump offset, relative to the next instruction. */
  off: number;
  imm: number;
}

const ins = (code: number, dst: number, src: number, off: number, imm: number): BpfInsn => ({ code, dst, src, off, imm });

/** The program for an emulated rule state, as instructions. */
export function deviceFilterInsns(emu: DeviceEmulator): BpfInsn[] {
  const out: BpfInsn[] = [
    ins(OP.LDXW, 2, 1, 0, 0),
    ins(OP.AND32_K, 2, 0, 0, 0xffff),
    ins(OP.LDXW, 3, 1, 0, 0),
    ins(OP.RSH32_K, 3, 0, 0, 16),
    ins(OP.LDXW, 4, 1, 4, 0),
    ins(OP.LDXW, 5, 1, 8, 0),
  ];
  const verdict = emu.defaultAllow ? 0 : 1;
  for (const e of emu.sorted()) {
    // Jumps are patched once the block's length is known: each "goto next"
    // lands on the first instruction after this block.
    const block: BpfInsn[] = [];
    const jumps: number[] = [];
    const jump = (i: BpfInsn) => {
      jumps.push(block.length);
      block.push(i);
    };
    jump(ins(OP.JNE_K, 2, 0, 0, e.type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
    if (emu.defaultAllow) {
      // Deny when any requested bit is denied: (r3 & access) == 0 → next.
      block.push(ins(OP.MOV32_X, 1, 3, 0, 0), ins(OP.AND32_K, 1, 0, 0, e.access));
      jump(ins(OP.JEQ_K, 1, 0, 0, 0));
    } else if (e.access !== ACC.ALL) {
      // Allow only when every requested bit is granted: (r3 & access) != r3 → next.
      block.push(ins(OP.MOV32_X, 1, 3, 0, 0), ins(OP.AND32_K, 1, 0, 0, e.access));
      jump(ins(OP.JNE_X, 1, 3, 0, 0));
    }
    if (e.major >= 0) jump(ins(OP.JNE_K, 4, 0, 0, e.major));
    if (e.minor >= 0) jump(ins(OP.JNE_K, 5, 0, 0, e.minor));
    block.push(ins(OP.MOV32_K, 0, 0, 0, verdict), ins(OP.EXIT, 0, 0, 0, 0));
    for (const j of jumps) block[j]!.off = block.length - (j + 1);
    out.push(...block);
  }
  out.push(ins(OP.MOV32_K, 0, 0, 0, emu.defaultAllow ? 1 : 0), ins(OP.EXIT, 0, 0, 0, 0));
  return out;
}

/**
 * struct bpf_insn { u8 code; u8 dst_reg:4, src_reg:4; s16 off; s32 imm; } in
 * host byte order. The register nibbles follow the bitfield layout, which
 * the compiler orders by endianness.
 */
export function encodeInsns(list: readonly BpfInsn[], littleEndian = endianness() === 'LE'): Uint8Array {
  const buf = new Uint8Array(list.length * 8);
  const view = new DataView(buf.buffer);
  list.forEach((i, n) => {
    const o = n * 8;
    view.setUint8(o, i.code);
    view.setUint8(o + 1, littleEndian ? (i.src << 4) | i.dst : (i.dst << 4) | i.src);
    view.setInt16(o + 2, i.off, littleEndian);
    view.setInt32(o + 4, i.imm, littleEndian);
  });
  return buf;
}

export function decodeInsns(buf: Uint8Array, littleEndian = endianness() === 'LE'): BpfInsn[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: BpfInsn[] = [];
  for (let o = 0; o + 8 <= buf.byteLength; o += 8) {
    const regs = view.getUint8(o + 1);
    out.push({
      code: view.getUint8(o),
      dst: littleEndian ? regs & 0xf : regs >> 4,
      src: littleEndian ? regs >> 4 : regs & 0xf,
      off: view.getInt16(o + 2, littleEndian),
      imm: view.getInt32(o + 4, littleEndian),
    });
  }
  return out;
}

/** The program for linux.resources.devices rules (normalized), ready for bpf(BPF_PROG_LOAD). */
export function deviceFilterProgram(rules: readonly DeviceRule[], source?: string, at?: string): Uint8Array {
  return encodeInsns(deviceFilterInsns(DeviceEmulator.fromRules(rules, source, at)));
}
