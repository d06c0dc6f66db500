// Numbers of the plan (addon/plan.tags) back into the names config.json
// and the man pages use, for `hako explain`. Pure; every table is the one
// the plan was made from (linux-consts.ts, sched.ts, seccomp/consts.ts),
// read backwards.
import { capNames } from '../launch/caps.js';
import { MOUNT_ATTR, MS, PROPAGATION, RLIMITS } from '../launch/linux-consts.js';
import { NS_FLAGS } from '../launch/namespaces.js';
import { IOPRIO_CLASS, MPOL_FLAG, MPOL_MODE, SCHED_FLAG, SCHED_POLICY } from '../launch/sched.js';
import { FILTER_FLAG } from '../seccomp/consts.js';

export { capNames };

function reverse(table: Readonly<Record<string, number>>, n: number): string | undefined {
  return Object.entries(table).find(([, v]) => v === n)?.[0];
}

/** The bits of `mask` by their names in `table` (prefixed), and what is left as hex. */
function bitNames(table: Readonly<Record<string, number | bigint>>, mask: number | bigint, prefix: string): string[] {
  let left = BigInt(mask);
  const out: string[] = [];
  for (const [name, v] of Object.entries(table)) {
    const b = BigInt(v);
    if (b !== 0n && (b & (b - 1n)) === 0n && (left & b) !== 0n) {
      out.push(prefix + name);
      left &= ~b;
    }
  }
  if (left !== 0n) out.push(`0x${left.toString(16)}`);
  return out;
}

/** MS_* flags of mount(2). */
export function msFlags(mask: number | bigint): string[] {
  return bitNames(MS, mask, 'MS_');
}

/** MOUNT_ATTR_* bits of mount_setattr(2). */
export function mountAttrs(mask: number | bigint): string[] {
  return bitNames(MOUNT_ATTR, mask, 'MOUNT_ATTR_');
}

/** A propagation as config.json names it ("rslave"), else its MS_* flags. */
export function propagationName(flags: number | bigint): string {
  return reverse(PROPAGATION, Number(flags)) ?? msFlags(flags).join('|');
}

/** Namespace types (config.json's names) of CLONE_NEW* flags, in NS_FLAGS's order. */
export function namespaceTypes(flags: number | bigint): string[] {
  const f = BigInt(flags);
  return Object.entries(NS_FLAGS)
    .filter(([, v]) => (f & BigInt(v)) !== 0n)
    .map(([t]) => t);
}

export function rlimitName(n: number): string {
  return reverse(RLIMITS, n) ?? `rlimit ${n}`;
}

export function schedPolicyName(n: number): string {
  return reverse(SCHED_POLICY, n) ?? `policy ${n}`;
}

export function schedFlagNames(mask: bigint): string[] {
  return bitNames(SCHED_FLAG, mask, '');
}

/** ioprio_set's value as class and level. */
export function ioPriority(v: number): { class: string; priority: number } {
  return { class: reverse(IOPRIO_CLASS, v >> 13) ?? `class ${v >> 13}`, priority: v & 0x1fff };
}

/** set_mempolicy's mode | flags. */
export function memPolicyMode(v: number): { mode: string; flags: string[] } {
  const flagBits = Object.values(MPOL_FLAG).reduce((a, b) => a | b, 0);
  return { mode: reverse(MPOL_MODE, v & ~flagBits) ?? `mode ${v & ~flagBits}`, flags: bitNames(MPOL_FLAG, v & flagBits, '') };
}

/** A node mask (unsigned longs, host order: little-endian here) as the node numbers in it. */
export function nodeList(mask: Uint8Array): number[] {
  const out: number[] = [];
  mask.forEach((byte, i) => {
    for (let b = 0; b < 8; b++) if (byte & (1 << b)) out.push(i * 8 + b);
  });
  return out;
}

export function seccompFlagNames(mask: number): string[] {
  return bitNames(FILTER_FLAG, mask, 'SECCOMP_FILTER_FLAG_');
}

export function fileType(t: number): string {
  return t === 0o020000 ? 'c' : t === 0o060000 ? 'b' : t === 0o010000 ? 'p' : `type 0o${t.toString(8)}`;
}

export function clockName(id: number): string {
  return id === 1 ? 'monotonic' : id === 7 ? 'boottime' : `clock ${id}`;
}

export function octal(n: number): string {
  return '0' + n.toString(8).padStart(3, '0');
}
