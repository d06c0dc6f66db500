// The OCI features document (features.md): what this build of hako
// supports, each field taken from the table or code that implements it, so
// that the document cannot drift from the code (test/unit/features.test.ts
// checks the rest against the code's behaviour). Anything not implemented
// is reported as absent or disabled, so that callers can trust it.
import { CAPS } from './launch/linux-consts.js';
import { KNOWN_MOUNT_OPTIONS } from './launch/mount-options.js';
import { NS_FLAGS } from './launch/plan.js';
import type { Features } from './spec/types.js';
import { seccompFeatures } from './seccomp/features.js';
import { MPOL_FLAG, MPOL_MODE } from './launch/sched.js';
import { HOOK_KINDS } from './hooks/kinds.js';
import { OCI_VERSION, OCI_VERSION_MIN } from './spec/version.js';
import { PROPERTY_ANNOTATION } from './cgroups/systemd-props.js';

/**
 * The cgroup managers (features-linux.md "cgroup"): v1 and v2 hierarchies
 * and the hybrid of both (src/cgroups/v1.ts, v2.ts, hybrid.ts), the
 * systemd driver of --systemd-cgroup (src/cgroups/systemd.ts), and the
 * rdma controller's limits in both translations. The user's own systemd
 * instance (rootless --systemd-cgroup) is refused by plannedCgroup
 * (src/container/cgroup.ts), so systemdUser is false.
 */
export const CGROUP_FEATURES = { v1: true, v2: true, systemd: true, systemdUser: false, rdma: true } as const;

/**
 * Parts of config.json that buildPlan refuses as not implemented
 * (src/launch/plan.ts, "not supported by hako yet").
 */
export const NOT_IMPLEMENTED = { intelRdt: true } as const;

/** What the caller found out about the host: whether criu works here (src/checkpoint/available.ts). */
export interface HostFeatures {
  checkpoint?: boolean;
}

/** The name runc gives its own (org.opencontainers.runc.checkpoint.enabled), in hako's namespace. */
export const CHECKPOINT_ANNOTATION = 'org.hako.checkpoint.enabled';

export function features(host: HostFeatures = {}): Features {
  return {
    ociVersionMin: OCI_VERSION_MIN,
    ociVersionMax: OCI_VERSION,
    hooks: [...HOOK_KINDS],
    mountOptions: [...KNOWN_MOUNT_OPTIONS],
    linux: {
      namespaces: Object.keys(NS_FLAGS),
      // Every capability hako knows by name, as runc lists its library's:
      // ones this kernel lacks are warned about and left out at create
      // (features.md describes the runtime, not the host).
      capabilities: Object.keys(CAPS),
      cgroup: { ...CGROUP_FEATURES },
      seccomp: seccompFeatures(),
      // features.md: whether the runtime supports them, "irrelevant to the
      // availability on the host" (runc and crun say true everywhere).
      // Whether this host has them decides at create (src/launch/lsm.ts).
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: !NOT_IMPLEMENTED.intelRdt },
      // Idmapped bind mounts (mount_setattr, Linux 5.12; whether a given
      // filesystem supports them is the kernel's answer at create time).
      mountExtensions: { idmap: { enabled: true } },
      // Moved in at create by the runtime (src/container/netdevices.ts).
      netDevices: { enabled: true },
      // set_mempolicy(2) modes and flags hako passes on (src/launch/sched.ts).
      memoryPolicy: { modes: Object.keys(MPOL_MODE), flags: Object.keys(MPOL_FLAG) },
    },
    annotations: {
      'org.hako.version': process.env.HAKO_VERSION ?? 'dev',
      // checkpoint/restore drive criu: listed only where criu works.
      ...(host.checkpoint ? { [CHECKPOINT_ANNOTATION]: 'true' } : {}),
    },
    // As runc's: org.systemd.property.* annotations become unit properties.
    potentiallyUnsafeConfigAnnotations: [PROPERTY_ANNOTATION],
  } as Features;
}
