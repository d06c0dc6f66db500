// process.capabilities → the five capability masks of the plan. Pure.
import type { LinuxCapabilities } from '../spec/types.js';
import { CAPS, DEFAULT_CAP_LAST_CAP } from './linux-consts.js';
import { rec, type Rec } from './tlv.js';

export function capMask(names: readonly string[] | undefined, where: string, warnings: string[], last = DEFAULT_CAP_LAST_CAP): bigint {
  let m = 0n;
  for (const n of names ?? []) {
    const bit = CAPS[n.toUpperCase()];
    if (bit === undefined) {
      warnings.push(`${where}: unknown capability ${JSON.stringify(n)} ignored`);
      continue;
    }
    if (bit > last) {
      warnings.push(`${where}: capability ${n} is not supported by this kernel, ignored`);
      continue;
    }
    m |= 1n << BigInt(bit);
  }
  return m;
}

/**
 * A capability this process cannot grant (outside its own bounding set,
 * `hostCapBnd`) is a warning and left out, as the spec's SHOULD asks, not a
 * failure: capset would refuse the whole set.
 */
export function grantableCaps(mask: bigint, hostCapBnd: bigint | undefined, where: string, warnings: string[]): bigint {
  const grantable = hostCapBnd ?? ~0n;
  const lost = mask & ~grantable;
  if (lost) warnings.push(`${where}: ${capNames(lost).join(', ')} cannot be granted here (not in hako's bounding set), left out`);
  return mask & grantable;
}

export function capNames(mask: bigint): string[] {
  return Object.entries(CAPS)
    .filter(([, n]) => (mask & (1n << BigInt(n))) !== 0n)
    .map(([name]) => name);
}

export interface CapHost {
  /** Kernel's last capability (/proc/sys/kernel/cap_last_cap). */
  capLastCap?: number;
  /** hako's own bounding set (CapBnd of /proc/self/status): what it can grant. */
  hostCapBnd?: bigint;
}

/** CAP_BOUNDING .. CAP_AMBIENT for `caps`; what cannot be had is a warning (or, for ambient, a debug note). */
export function capabilityRecs(caps: LinuxCapabilities | undefined, host: CapHost, warnings: string[], debug: string[]): Rec[] {
  const c = caps ?? {};
  const mask = (set: keyof LinuxCapabilities): bigint => {
    const where = `/process/capabilities/${set}`;
    return grantableCaps(capMask(c[set], where, warnings, host.capLastCap), host.hostCapBnd, where, warnings);
  };
  const permitted = mask('permitted');
  const inheritable = mask('inheritable');
  let ambient = mask('ambient');
  // The kernel raises an ambient capability only if it is permitted and
  // inheritable. runc's own default config asks for ambient capabilities
  // without inheritable ones, and runc carries on silently: so do we, with
  // a debug note rather than a warning on every run.
  const unraisable = ambient & ~(permitted & inheritable);
  if (unraisable) {
    debug.push(`/process/capabilities/ambient: ${capNames(unraisable).join(', ')} not both permitted and inheritable: not raised`);
    ambient &= permitted & inheritable;
  }
  return [
    rec('CAP_BOUNDING', mask('bounding')),
    rec('CAP_EFFECTIVE', mask('effective')),
    rec('CAP_PERMITTED', permitted),
    rec('CAP_INHERITABLE', inheritable),
    rec('CAP_AMBIENT', ambient),
  ];
}
