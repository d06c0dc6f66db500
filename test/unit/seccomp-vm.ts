// A classic BPF interpreter with the kernel's seccomp semantics, so unit tests
// can ask a compiled filter what it does with a syscall, without loading it.
// Only what seccomp allows: absolute word loads from struct seccomp_data,
// scratch memory, ALU, jumps, returns.
import { BPF, DATA, decode, type Insn } from '../../src/seccomp/bpf.js';

export interface SyscallData {
  nr: number;
  arch: number;
  ip?: bigint;
  args?: bigint[];
}

const U32 = 0xffffffff;

function word(d: SyscallData, off: number): number {
  if (off === DATA.NR) return d.nr >>> 0;
  if (off === DATA.ARCH) return d.arch >>> 0;
  const wide = (v: bigint, hi: boolean) => Number((hi ? v >> 32n : v) & BigInt(U32));
  if (off === DATA.IP || off === DATA.IP + 4) return wide(d.ip ?? 0n, off === DATA.IP + 4);
  const i = Math.floor((off - DATA.ARGS) / 8);
  if (off >= DATA.ARGS && i < 6 && off % 4 === 0) {
    return wide(d.args?.[i] ?? 0n, (off - DATA.ARGS) % 8 === 4);
  }
  throw new Error(`load outside seccomp_data at ${off}`);
}

/** Runs the program; returns the SECCOMP_RET_* value. Throws on anything the kernel would refuse at run time. */
export function run(program: Buffer | Insn[], d: SyscallData): number {
  const p = Buffer.isBuffer(program) ? decode(program) : program;
  let A = 0;
  let X = 0;
  const M = new Array<number>(16).fill(0);
  for (let pc = 0, steps = 0; pc < p.length; pc++, steps++) {
    if (steps > 100_000) throw new Error('runaway program');
    const { code, jt, jf, k } = p[pc]!;
    const cls = code & 0x07;
    switch (cls) {
      case BPF.LD:
        if ((code & 0xe0) === BPF.ABS && (code & 0x18) === BPF.W) A = word(d, k);
        else if ((code & 0xe0) === BPF.IMM) A = k >>> 0;
        else if ((code & 0xe0) === BPF.MEM) A = M[k]!;
        else if ((code & 0xe0) === BPF.LEN) A = 64;
        else throw new Error(`unsupported load ${code.toString(16)} at ${pc}`);
        break;
      case BPF.LDX:
        if ((code & 0xe0) === BPF.IMM) X = k >>> 0;
        else if ((code & 0xe0) === BPF.MEM) X = M[k]!;
        else if ((code & 0xe0) === BPF.LEN) X = 64;
        else throw new Error(`unsupported ldx ${code.toString(16)} at ${pc}`);
        break;
      case BPF.ST:
        M[k] = A;
        break;
      case BPF.STX:
        M[k] = X;
        break;
      case BPF.ALU: {
        const src = (code & 0x08) === BPF.X ? X : k >>> 0;
        const op = code & 0xf0;
        if (op === BPF.ADD) A = (A + src) >>> 0;
        else if (op === BPF.SUB) A = (A - src) >>> 0;
        else if (op === BPF.MUL) A = Number((BigInt(A) * BigInt(src)) & BigInt(U32));
        else if (op === BPF.DIV) A = src === 0 ? 0 : Math.floor(A / src);
        else if (op === BPF.MOD) A = src === 0 ? 0 : A % src;
        else if (op === BPF.OR) A = (A | src) >>> 0;
        else if (op === BPF.AND) A = (A & src) >>> 0;
        else if (op === BPF.XOR) A = (A ^ src) >>> 0;
        else if (op === BPF.LSH) A = src >= 32 ? 0 : (A << src) >>> 0;
        else if (op === BPF.RSH) A = src >= 32 ? 0 : A >>> src;
        else if (op === BPF.NEG) A = -A >>> 0;
        else throw new Error(`unsupported alu ${code.toString(16)} at ${pc}`);
        break;
      }
      case BPF.JMP: {
        const op = code & 0xf0;
        if (op === BPF.JA) {
          pc += k;
          break;
        }
        const src = (code & 0x08) === BPF.X ? X : k >>> 0;
        let taken: boolean;
        if (op === BPF.JEQ) taken = A === src;
        else if (op === BPF.JGT) taken = A > src;
        else if (op === BPF.JGE) taken = A >= src;
        else if (op === BPF.JSET) taken = (A & src) !== 0;
        else throw new Error(`unsupported jump ${code.toString(16)} at ${pc}`);
        pc += taken ? jt : jf;
        break;
      }
      case BPF.RET:
        return ((code & 0x18) === BPF.A ? A : k) >>> 0;
      case BPF.MISC:
        if ((code & 0xf8) === BPF.TAX) X = A;
        else A = X;
        break;
      default:
        throw new Error(`bad instruction class at ${pc}`);
    }
  }
  throw new Error('fell off the end of the program');
}
