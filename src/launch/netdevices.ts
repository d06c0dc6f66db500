// linux.netDevices (config-linux.md "Network Devices", runtime-spec 1.2):
// host interfaces moved into the container's network namespace at create.
// Pure: what config.json asks for, checked before anything exists; the
// moves themselves are src/container/netdevices.ts.
//
// What the spec decides, and hako therefore does:
//   - the device is renamed to `name` when given; a name ending in the
//     kernel's "%d" template is the kernel's to complete;
//   - its permanent addresses of global scope are kept (the kernel drops
//     every address on a move: they are read before and added after);
//   - it is set up once inside;
//   - it is never moved back: "The runtime MUST NOT attempt to move the
//     interface out of the namespace before deletion". When the namespace
//     goes with its last process, the kernel returns physical devices to
//     the initial namespace and destroys virtual ones (veth, dummy...).
import type { Addr } from './netlink.js';
import { IFA_F, RT_SCOPE_UNIVERSE } from './netlink.js';
import { PlanError } from './plan-error.js';

export interface NetDeviceMove {
  /** The host's name (the entry's key). */
  host: string;
  /** Its name in the container: `name`, else the host's. */
  name: string;
  /** `name` has the kernel's "%d" template: the final name is the kernel's choice. */
  template: boolean;
  /** JSON path of the entry, for errors. */
  pointer: string;
}

// Linux's own rule (net/core/dev.c dev_valid_name): 1 to 15 bytes (IFNAMSIZ
// less its NUL), not "." or "..", no '/', ':' or white space.
export function ifNameProblem(name: string): string | null {
  const bytes = Buffer.byteLength(name);
  if (bytes === 0) return 'is empty';
  if (bytes > 15) return `is ${bytes} bytes long, and interface names have at most 15`;
  if (name === '.' || name === '..') return 'is not a valid interface name';
  if (/[/:\s]/.test(name)) return "must not contain '/', ':' or white space";
  return null;
}

function templateProblem(name: string): string | null {
  const at = name.indexOf('%');
  if (at < 0) return null;
  // dev_alloc_name: exactly one format, and it must be %d.
  if (name[at + 1] !== 'd' || name.indexOf('%', at + 1) >= 0) return "may hold one '%d' template and no other '%'";
  return null;
}

export interface NetDevicesContext {
  /** A network namespace is made for the container. */
  newNet: boolean;
  /** Or the path of the one it joins. */
  joinedNet?: string;
  /** The runtime is unprivileged: it cannot move the host's devices. */
  rootless: boolean;
}

/** The moves config.json asks for, in its order; refuses what can never work. */
export function netDevicesPlan(netDevices: Record<string, { name?: string } | undefined> | undefined, ctx: NetDevicesContext): NetDeviceMove[] {
  const entries = Object.entries(netDevices ?? {});
  if (entries.length === 0) return [];
  if (!ctx.newNet && !ctx.joinedNet) {
    throw new PlanError('/linux/netDevices', "moving network devices needs a network namespace in /linux/namespaces: the container shares the host's");
  }
  if (ctx.rootless) throw new PlanError('/linux/netDevices', 'moving network devices needs a privileged runtime (root): not supported rootless');
  const moves: NetDeviceMove[] = [];
  const byName = new Map<string, string>();
  for (const [host, dev] of entries) {
    const pointer = `/linux/netDevices/${host.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    const bad = ifNameProblem(host) ?? (host.includes('%') ? "must not contain '%'" : null);
    if (bad) throw new PlanError(pointer, `the host interface name ${bad}`);
    const name = dev?.name ? dev.name : host;
    if (dev?.name) {
      const badName = ifNameProblem(name) ?? templateProblem(name);
      if (badName) throw new PlanError(`${pointer}/name`, `${JSON.stringify(name)} ${badName}`);
    }
    const template = name.includes('%');
    if (!template) {
      const other = byName.get(name);
      if (other !== undefined) throw new PlanError(pointer, `${JSON.stringify(name)} is also the container's name for ${JSON.stringify(other)}`);
      // The new namespace's own loopback is there before any move.
      if (ctx.newNet && name === 'lo') throw new PlanError(pointer, 'the name "lo" is taken by the container\'s loopback interface');
      byName.set(name, host);
    }
    moves.push({ host, name, template, pointer });
  }
  return moves;
}

// Flags that describe how the address was configured, kept with it; the
// others (PERMANENT, TENTATIVE, DADFAILED...) are the kernel's state.
const CARRIED_FLAGS = IFA_F.NODAD | IFA_F.HOMEADDRESS | IFA_F.MANAGETEMPADDR | IFA_F.NOPREFIXROUTE | IFA_F.MCAUTOJOIN;

/**
 * The addresses of link `index` the spec says to keep: permanent
 * (IFA_F_PERMANENT: configured, not autoconfigured or temporary) and of
 * global scope (RT_SCOPE_UNIVERSE: not link- or host-local), RFC 3549
 * 2.3.3.2. Ready to add inside: scope universe, only the carried flags.
 */
export function addressesToKeep(addrs: readonly Addr[], index: number): Addr[] {
  return addrs
    .filter((a) => a.index === index && (a.flags & IFA_F.PERMANENT) !== 0 && a.scope === RT_SCOPE_UNIVERSE)
    .map((a) => ({ ...a, flags: a.flags & CARRIED_FLAGS, scope: RT_SCOPE_UNIVERSE }));
}

/** Whether `name` is what the kernel makes of the "%d" template `template`. */
export function fitsTemplate(template: string, name: string): boolean {
  const at = template.indexOf('%d');
  if (at < 0) return name === template;
  const head = template.slice(0, at);
  const tail = template.slice(at + 2);
  if (!name.startsWith(head) || !name.endsWith(tail) || name.length <= head.length + tail.length) return false;
  return /^[0-9]+$/.test(name.slice(head.length, name.length - tail.length));
}
