// linux.resources.devices: the rules, their meaning, and the cgroup v1
// writes that realise them. The cgroup v2 eBPF program (devices-bpf.ts) is
// built from the same emulated state, so both hierarchies enforce exactly
// the same thing.
//
// The semantics are the kernel's v1 device controller, as runc emulates it
// (runc libcontainer/cgroups/devices/devices_emulator.go):
//  - A rule of type "a" (or without a type) resets everything: allow-all
//    ("blacklist") or deny-all ("whitelist") with no exceptions, whatever its
//    major, minor and access say.
//  - Any other rule adds an exception when its verdict differs from the
//    current default, or removes access from the exactly matching exception
//    when it agrees with the default. Later rules override earlier ones.
//  - Removing access that a *wildcard* exception grants ("allow c 1:* rw"
//    then "deny c 1:3 w") is an error: v1 silently ignores it, so the rule
//    would give a false sense of security.
//  - A list that does not start with an "a" rule starts from deny-all, as in
//    runc (which always appends its default device rules; see
//    runcDefaultDeviceRules).
import type { LinuxDeviceCgroup } from '../spec/types.js';
import { CgroupError, settingError } from './cgroup-error.js';

export type DeviceType = 'a' | 'c' | 'b';

/** Access bits, with the kernel's BPF_DEVCG_ACC_* values so the BPF program can use them directly. */
export const ACC = { MKNOD: 1, READ: 2, WRITE: 4, ALL: 7 } as const;

export interface DeviceRule {
  allow: boolean;
  type: DeviceType;
  /** -1: any. */
  major: number;
  /** -1: any. */
  minor: number;
  /** ACC bits, never 0. */
  access: number;
}

// Linux device numbers are 12 (major) and 20 (minor) bits; anything up to
// int32 max is accepted so the BPF immediates stay exact.
const MAX_DEVNUM = 0x7fffffff;

export function accessBits(s: string): number {
  let a = 0;
  for (const ch of s) a |= ch === 'r' ? ACC.READ : ch === 'w' ? ACC.WRITE : ch === 'm' ? ACC.MKNOD : 0;
  return a;
}

export function accessString(a: number): string {
  return (a & ACC.READ ? 'r' : '') + (a & ACC.WRITE ? 'w' : '') + (a & ACC.MKNOD ? 'm' : '');
}

/** The rule as v1's devices.allow/deny and devices.list spell it: `c 1:3 rwm`, `a *:* rwm`. */
export function ruleString(r: Pick<DeviceRule, 'type' | 'major' | 'minor' | 'access'>): string {
  const n = (v: number) => (v < 0 ? '*' : String(v));
  return `${r.type} ${n(r.major)}:${n(r.minor)} ${accessString(r.access)}`;
}

/**
 * Validates and fills in the OCI rules. An absent access means "rwm": the
 * spec gives no default, runc rejects it, and "rwm" is what a rule such as
 * `{"allow": false}` is always meant to say. Letters other than r, w and m
 * (runc's own tests write "rwa") are ignored with a warning, as runc
 * ignores them; an access with none of r, w and m is an error.
 * `warn` receives one line per such rule; callers that translate the same
 * rules twice (systemd's properties next to the cgroup files) pass none.
 */
export function normalizeDeviceRules(
  list: readonly LinuxDeviceCgroup[],
  source = 'config.json',
  at = '/linux/resources/devices',
  warn?: (line: string) => void,
): DeviceRule[] {
  return list.map((d, i) => {
    const here = `${at}/${i}`;
    const num = (v: number | undefined, field: string): number => {
      if (v === undefined || v === -1) return -1;
      if (!Number.isInteger(v) || v < 0 || v > MAX_DEVNUM)
        throw settingError(source, `${here}/${field}`, `must be -1 (any) or a device number 0..${MAX_DEVNUM}`);
      return v;
    };
    if (d.access === '') throw settingError(source, `${here}/access`, 'must not be empty (use any of r, w and m)');
    const access = d.access === undefined ? ACC.ALL : accessBits(d.access);
    if (access === 0) throw settingError(source, `${here}/access`, `${JSON.stringify(d.access)}: must contain at least one of the letters r, w and m`);
    const unknown = unknownAccessLetters(d.access ?? '');
    if (unknown.length > 0 && warn) {
      const letters = unknown.map((c) => JSON.stringify(c).replace(/^"|"$/g, "'")).join(', ');
      warn(
        `${source}: ${here}/access: ${JSON.stringify(d.access)}: unknown letter${unknown.length > 1 ? 's' : ''} ${letters} ignored (only r, w and m mean anything)`,
      );
    }
    return { allow: d.allow, type: d.type ?? 'a', major: num(d.major, 'major'), minor: num(d.minor, 'minor'), access };
  });
}

/** The distinct characters of an access string that are not r, w or m, in order. */
export function unknownAccessLetters(s: string): string[] {
  return [...new Set([...s].filter((c) => c !== 'r' && c !== 'w' && c !== 'm'))];
}

type Key = string;
const key = (type: DeviceType, major: number, minor: number): Key => `${type} ${major} ${minor}`;

interface Exception {
  type: 'c' | 'b';
  major: number;
  minor: number;
  access: number;
}

/** The state of a v1 device cgroup: a default verdict and exceptions to it. */
export class DeviceEmulator {
  defaultAllow = false;
  readonly exceptions = new Map<Key, Exception>();

  /** Allow-all with no deny exceptions: the cgroup restricts nothing. */
  get allowsAll(): boolean {
    return this.defaultAllow && this.exceptions.size === 0;
  }

  /** @param location names the rule in errors (`config.json: /linux/resources/devices/3`). */
  apply(rule: DeviceRule, location = 'device rule'): void {
    if (rule.type === 'a') {
      this.defaultAllow = rule.allow;
      this.exceptions.clear();
      return;
    }
    const k = key(rule.type, rule.major, rule.minor);
    if (rule.allow !== this.defaultAllow) {
      const old = this.exceptions.get(k);
      this.exceptions.set(k, { type: rule.type, major: rule.major, minor: rule.minor, access: (old?.access ?? 0) | rule.access });
      return;
    }
    // Agreeing with the default removes access from the exact exception;
    // a wildcard exception that also covers this device would keep granting
    // (or denying) it, and v1 would say nothing.
    for (const [mj, mn] of [
      [-1, rule.minor],
      [rule.major, -1],
      [-1, -1],
    ] as const) {
      if (mj === rule.major && mn === rule.minor) continue;
      const w = this.exceptions.get(key(rule.type, mj, mn));
      if (w && (w.access & rule.access) !== 0) {
        throw new CgroupError(
          `${location}: ${rule.allow ? 'allowing' : 'denying'} ${ruleString(rule)} cannot take effect: an earlier rule ${rule.allow ? 'denies' : 'allows'} ${ruleString(w)}, and the device cgroup cannot punch a hole in a wildcard rule`,
        );
      }
    }
    const old = this.exceptions.get(k);
    if (!old) return;
    const left = old.access & ~rule.access;
    if (left === 0) this.exceptions.delete(k);
    else this.exceptions.set(k, { ...old, access: left });
  }

  /**
   * The verdict for one access, as the v1 kernel gives it (and the BPF
   * program, which follows the kernel rather than runc here): in a deny-all
   * cgroup one allow exception must name the device (or a wildcard for it)
   * and grant every requested bit; in an allow-all cgroup a deny exception
   * that names the device and shares any requested bit denies it. (runc's
   * BPF program denies only when the deny rule covers every requested bit,
   * so O_RDWR gets past a rule that denies "w".)
   */
  permits(type: 'c' | 'b', major: number, minor: number, access: number): boolean {
    for (const e of this.exceptions.values()) {
      if (e.type !== type || (e.major !== -1 && e.major !== major) || (e.minor !== -1 && e.minor !== minor)) continue;
      if (this.defaultAllow ? (access & e.access) !== 0 : (access & ~e.access) === 0) return !this.defaultAllow;
    }
    return this.defaultAllow;
  }

  /** Exceptions sorted by (major, minor, type), wildcards first: the order runc writes them in. */
  sorted(): Exception[] {
    return [...this.exceptions.values()].sort((a, b) => a.major - b.major || a.minor - b.minor || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  }

  /**
   * The rules that take a cgroup in state `this` to `target` with the least
   * disruption: existing exceptions are kept, and a reset rule ("a *:* rwm")
   * is written only when the default changes, or when `this` is allow-all
   * (devices.list cannot show deny exceptions, so they may exist unseen).
   */
  transition(target: DeviceEmulator): DeviceRule[] {
    const out: DeviceRule[] = [];
    let old = this.exceptions;
    if (this.defaultAllow || this.defaultAllow !== target.defaultAllow) {
      out.push({ allow: target.defaultAllow, type: 'a', major: -1, minor: -1, access: ACC.ALL });
      old = new Map();
    }
    for (const e of this.sorted()) {
      if (!old.has(key(e.type, e.major, e.minor))) continue;
      const dropped = e.access & ~(target.exceptions.get(key(e.type, e.major, e.minor))?.access ?? 0);
      if (dropped) out.push({ allow: target.defaultAllow, type: e.type, major: e.major, minor: e.minor, access: dropped });
    }
    for (const e of target.sorted()) {
      const gained = e.access & ~(old.get(key(e.type, e.major, e.minor))?.access ?? 0);
      if (gained) out.push({ allow: !target.defaultAllow, type: e.type, major: e.major, minor: e.minor, access: gained });
    }
    return out;
  }

  static fromRules(rules: readonly DeviceRule[], source = 'config.json', at = '/linux/resources/devices'): DeviceEmulator {
    const emu = new DeviceEmulator();
    rules.forEach((r, i) => emu.apply(r, `${source}: ${at}/${i}`));
    return emu;
  }

  /**
   * The state a v1 devices.list shows. "a *:* rwm" means allow-all (the
   * file then lists nothing else); otherwise every line is an allow
   * exception of a deny-all cgroup.
   */
  static fromList(text: string): DeviceEmulator {
    const emu = new DeviceEmulator();
    for (const line of text.split('\n')) {
      const t = line.trim();
      if (t === '') continue;
      const m = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(t);
      if (!m) throw new CgroupError(`devices.list: cannot parse ${JSON.stringify(t)}`);
      const type = m[1] as DeviceType;
      const n = (s: string) => (s === '*' ? -1 : Number(s));
      emu.apply({ allow: true, type, major: n(m[2]!), minor: n(m[3]!), access: accessBits(m[4]!) });
    }
    return emu;
  }
}

// runc's libcontainer/specconv AllowedDevices: appended to every
// container's rules, so its containers can always use these even when the
// config denies everything. Kept as runc has it for drop-in compatibility
// (mknod of anything, /dev/null, /dev/zero, /dev/full, /dev/tty,
// /dev/random, /dev/urandom, /dev/pts/*, /dev/ptmx and /dev/net/tun).
const RUNC_ALLOWED: ReadonlyArray<{ path?: string; rule: LinuxDeviceCgroup }> = [
  { rule: { allow: true, type: 'c', access: 'm' } },
  { rule: { allow: true, type: 'b', access: 'm' } },
  { path: '/dev/null', rule: { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' } },
  { path: '/dev/random', rule: { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' } },
  { path: '/dev/full', rule: { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' } },
  { path: '/dev/tty', rule: { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' } },
  { path: '/dev/zero', rule: { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' } },
  { path: '/dev/urandom', rule: { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' } },
  { rule: { allow: true, type: 'c', major: 136, access: 'rwm' } },
  { rule: { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' } },
  { rule: { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' } },
];

/**
 * The device rules runc would enforce for a config: its own rules followed
 * by runc's default allow list, minus the defaults for paths that
 * linux.devices redefines (runc drops those, so a config that brings its
 * own /dev/null must also allow it).
 */
export function runcDefaultDeviceRules(rules: readonly LinuxDeviceCgroup[] | undefined, linuxDevicePaths: readonly string[] = []): LinuxDeviceCgroup[] {
  const redefined = new Set(linuxDevicePaths);
  return [...(rules ?? []), ...RUNC_ALLOWED.filter((d) => d.path === undefined || !redefined.has(d.path)).map((d) => ({ ...d.rule }))];
}

/** The v1 writes that move a devices cgroup showing `currentList` to the emulated `target`. */
export function v1DeviceWrites(target: DeviceEmulator, currentList: string | undefined): Array<{ file: 'devices.allow' | 'devices.deny'; value: string }> {
  // A fresh v1 cgroup copies its parent; without a listing, assume the
  // usual allow-all, which makes the first write a full reset.
  const current = currentList === undefined ? Object.assign(new DeviceEmulator(), { defaultAllow: true }) : DeviceEmulator.fromList(currentList);
  return current.transition(target).map((r) => ({ file: r.allow ? 'devices.allow' : 'devices.deny', value: ruleString(r) }));
}
