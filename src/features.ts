// The OCI features document (features.md): what this build of hako really
// supports. Anything not yet implemented is reported as absent/disabled so
// that callers can trust it.
import { readFileSync } from 'node:fs';
import { CAPS } from './launch/linux-consts.js';
import { KNOWN_MOUNT_OPTIONS } from './launch/mount-options.js';
import { NS_FLAGS } from './launch/plan.js';
import type { Features } from './spec/types.js';
import { seccompFeatures } from './seccomp/features.js';
import { MPOL_FLAG, MPOL_MODE } from './launch/sched.js';

export function features(): Features {
  let last = 40;
  try {
    last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    /* keep the table */
  }
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.3.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [...KNOWN_MOUNT_OPTIONS],
    linux: {
      namespaces: Object.keys(NS_FLAGS),
      capabilities: Object.entries(CAPS)
        .filter(([, n]) => n <= last)
        .map(([name]) => name),
      cgroup: { v1: false, v2: false, systemd: true, systemdUser: false, rdma: false },
      seccomp: seccompFeatures(),
      // features.md: whether the runtime supports them, "irrelevant to the
      // availability on the host" (runc and crun say true everywhere).
      // Whether this host has them decides at create (src/launch/lsm.ts).
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: false },
      // Idmapped bind mounts (mount_setattr, Linux 5.12; whether a given
      // filesystem supports them is the kernel's answer at create time).
      mountExtensions: { idmap: { enabled: true } },
      // set_mempolicy(2) modes and flags hako passes on (src/launch/sched.ts).
      memoryPolicy: { modes: Object.keys(MPOL_MODE), flags: Object.keys(MPOL_FLAG) },
    },
    annotations: {
      'org.hako.version': process.env.HAKO_VERSION ?? 'dev',
    },
    // runc's: org.systemd.property.* annotations become unit properties.
    potentiallyUnsafeConfigAnnotations: ['org.systemd.property.'],
  } as Features;
}
