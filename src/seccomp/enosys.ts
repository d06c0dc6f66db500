// runc's -ENOSYS stub, our own code: a short program put in front of
// libseccomp's filter that answers ENOSYS for every syscall numbered above
// the largest one the profile names, on each architecture.
//
// Why: a profile is a list written at some point in time. A syscall added to
// the kernel later is not in it and would get the default action, usually
// EPERM; but programs probe new syscalls and fall back only on ENOSYS
// ("not implemented here"). glibc >= 2.34 calling clone3 under an older
// Docker profile is the famous case. runc (libcontainer/seccomp/patchbpf)
// patches every filter this way, and containerd's and Docker's profiles
// (default action ERRNO/EPERM) are written expecting it.
//
// Like runc this uses "above the largest number" as the test for "newer
// than the profile"; syscall tables have holes and late additions, so it is
// a heuristic that errs towards ENOSYS only for numbers nobody listed.
import { BPF, DATA, type Insn } from './bpf.js';
import { ACT, AUDIT_ARCH_X86_64, ENOSYS, X32_SYSCALL_BIT, withData } from './consts.js';

/** One architecture of the filter, as the addon reports it. */
export interface ArchInfo {
  /** libseccomp's name: x86_64, x32, s390x... */
  arch: string;
  /** AUDIT_ARCH_* value the kernel puts in seccomp_data.arch. */
  audit: number;
  /** Largest syscall number the profile names on this architecture; -1 if none. */
  lastSyscall: number;
}

type Target = string | number; // a label, or "next instruction" (0)

interface Proto {
  code: number;
  k: number;
  jt?: Target;
  jf?: Target;
  /** BPF_JA: the label whose distance goes in k. */
  ja?: string;
  label?: string;
}

const ld = (off: number, label?: string): Proto => ({ code: BPF.LD | BPF.W | BPF.ABS, k: off, label });
const jeq = (k: number, jt: Target, jf: Target = 0): Proto => ({ code: BPF.JMP | BPF.JEQ | BPF.K, k: k >>> 0, jt, jf });
const jgt = (k: number, jt: Target, jf: Target, label?: string): Proto => ({ code: BPF.JMP | BPF.JGT | BPF.K, k: k >>> 0, jt, jf, label });
const jset = (k: number, jt: Target, jf: Target): Proto => ({ code: BPF.JMP | BPF.JSET | BPF.K, k: k >>> 0, jt, jf });
const ja = (to: string): Proto => ({ code: BPF.JMP | BPF.JA, k: 0, ja: to });
const ret = (k: number, label?: string): Proto => ({ code: BPF.RET | BPF.K, k: k >>> 0, label });

/** Turns labels into relative jumps; a conditional jump reaches 255 instructions at most. */
function assemble(protos: Proto[], end: string): Insn[] {
  const at = new Map<string, number>([[end, protos.length]]);
  protos.forEach((p, i) => {
    if (p.label !== undefined) at.set(p.label, i);
  });
  const dist = (from: number, to: Target): number => {
    if (typeof to === 'number') return to;
    const target = at.get(to);
    if (target === undefined) throw new Error(`seccomp stub: no label ${to}`);
    const d = target - (from + 1);
    if (d < 0) throw new Error(`seccomp stub: backward jump to ${to}`);
    return d;
  };
  return protos.map((p, i) => {
    if (p.ja !== undefined) return { code: p.code, jt: 0, jf: 0, k: dist(i, p.ja) };
    const jt = p.jt === undefined ? 0 : dist(i, p.jt);
    const jf = p.jf === undefined ? 0 : dist(i, p.jf);
    if (jt > 255 || jf > 255) throw new Error('seccomp stub: conditional jump longer than 255 instructions');
    return { code: p.code, jt, jf, k: p.k };
  });
}

/**
 * The stub for these architectures, to run before libseccomp's program (it
 * ends by falling into it). Empty when no architecture has a known syscall.
 */
export function enosysStub(archs: readonly ArchInfo[]): Insn[] {
  // Group by what the kernel reports: x86_64 and x32 share AUDIT_ARCH_X86_64.
  const groups = new Map<number, Map<string, number>>();
  for (const a of archs) {
    if (a.lastSyscall <= 0) continue;
    let g = groups.get(a.audit);
    if (!g) groups.set(a.audit, (g = new Map()));
    g.set(a.arch, Math.max(a.lastSyscall, g.get(a.arch) ?? 0));
  }
  if (groups.size === 0) return [];

  const FILTER = 'filter';
  const NOSYS = 'enosys';
  const head: Proto[] = [ld(DATA.ARCH)];
  const body: Proto[] = [];
  let n = 0;
  for (const [audit, members] of groups) {
    const sec = `arch${n++}`;
    head.push(jeq(audit, sec));
    body.push(ld(DATA.NR, sec));
    if (members.has('s390') || members.has('s390x')) {
      // On s390 a syscall number too large for the kernel is multiplexed
      // through setup(2), number 0, which nothing uses otherwise: a kernel
      // that does not know the syscall leaves it at 0.
      body.push(jeq(0, NOSYS));
    }
    if (audit === AUDIT_ARCH_X86_64) {
      const x64 = members.get('x86_64');
      const x32 = members.get('x32');
      // Bit 30 marks an x32 call. The numbers libseccomp gives for x32
      // include that bit, and so does seccomp_data.nr.
      body.push(jset(X32_SYSCALL_BIT, x32 !== undefined ? `${sec}x32` : FILTER, x64 !== undefined ? 0 : FILTER));
      if (x64 !== undefined) body.push(jgt(x64, NOSYS, FILTER));
      if (x32 !== undefined) body.push(jgt(x32, NOSYS, FILTER, `${sec}x32`));
    } else {
      // Two libseccomp architectures never share another AUDIT_ARCH.
      body.push(jgt(Math.max(...members.values()), NOSYS, FILTER));
    }
  }
  head.push(ja(FILTER));
  body.push(ret(withData(ACT.ERRNO, ENOSYS), NOSYS));
  return assemble([...head, ...body], FILTER);
}
