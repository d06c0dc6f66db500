// The numbers a seccomp profile turns into. They are kernel and libseccomp
// ABI (SECCOMP_RET_* is what libseccomp's SCMP_ACT_* encode), so they are the
// same on every architecture; a unit test checks them against the headers
// the addon was compiled with (native().seccompConstants).

import type { Arch, LinuxSeccompAction, LinuxSeccompFlag, LinuxSeccompOperator } from '../spec/types.js';

/** SCMP_ACT_* codes. ERRNO and TRACE carry 16 bits of data (the errno / tracer message). */
export const ACT = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  NOTIFY: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

/** The 16 data bits of SECCOMP_RET_ERRNO / SECCOMP_RET_TRACE. */
export const ACT_DATA_MAX = 0xffff;

/** An ERRNO or TRACE action with its data, as an unsigned 32-bit number. */
export function withData(action: number, data: number): number {
  return (action | (data & ACT_DATA_MAX)) >>> 0;
}

/**
 * The OCI action names. SCMP_ACT_KILL is KILL_THREAD, as in libseccomp and
 * runc (the kernel's original SECCOMP_RET_KILL).
 */
export const ACTIONS: Readonly<Record<LinuxSeccompAction, number>> = {
  SCMP_ACT_KILL: ACT.KILL_THREAD,
  SCMP_ACT_KILL_THREAD: ACT.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: ACT.KILL_PROCESS,
  SCMP_ACT_TRAP: ACT.TRAP,
  SCMP_ACT_ERRNO: ACT.ERRNO,
  SCMP_ACT_TRACE: ACT.TRACE,
  SCMP_ACT_ALLOW: ACT.ALLOW,
  SCMP_ACT_LOG: ACT.LOG,
  SCMP_ACT_NOTIFY: ACT.NOTIFY,
};

/** libseccomp's enum scmp_compare. */
export const OPERATORS: Readonly<Record<LinuxSeccompOperator, number>> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** seccomp(2) SECCOMP_FILTER_FLAG_* bits. */
export const FILTER_FLAG = {
  TSYNC: 1 << 0,
  LOG: 1 << 1,
  SPEC_ALLOW: 1 << 2,
  NEW_LISTENER: 1 << 3,
  TSYNC_ESRCH: 1 << 4,
  WAIT_KILLABLE_RECV: 1 << 5,
} as const;

/**
 * The OCI flag names and the seccomp(2) bit each asks for. TSYNC is
 * accepted and means nothing: the launcher is single-threaded when it loads
 * the filter (runc ignores it for the same reason).
 */
export const FLAGS: Readonly<Record<LinuxSeccompFlag, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 0,
  SECCOMP_FILTER_FLAG_LOG: FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: FILTER_FLAG.WAIT_KILLABLE_RECV,
};

/** The OCI architecture names and libseccomp's names for them (seccomp_arch_resolve_name). */
export const ARCHES: Readonly<Record<Arch, string>> = {
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X86_64: 'x86_64',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_ARM: 'arm',
  SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips',
  SCMP_ARCH_MIPS64: 'mips64',
  SCMP_ARCH_MIPS64N32: 'mips64n32',
  SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64',
  SCMP_ARCH_MIPSEL64N32: 'mipsel64n32',
  SCMP_ARCH_PPC: 'ppc',
  SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le',
  SCMP_ARCH_S390: 's390',
  SCMP_ARCH_S390X: 's390x',
  SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64',
  SCMP_ARCH_RISCV64: 'riscv64',
  SCMP_ARCH_LOONGARCH64: 'loongarch64',
  SCMP_ARCH_M68K: 'm68k',
  SCMP_ARCH_SH: 'sh',
  SCMP_ARCH_SHEB: 'sheb',
};

export const EPERM = 1;
export const ENOSYS = 38;

/** AUDIT_ARCH_X86_64: x32 shares it and sets bit 30 of the syscall number instead. */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const X32_SYSCALL_BIT = 0x40000000;

/** BPF_MAXINSNS: the kernel refuses longer programs. */
export const BPF_MAXINSNS = 4096;
