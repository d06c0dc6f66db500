// What `hako spec` writes: runc's example config (runc 1.1.5 `spec` and
// `spec --rootless`), field for field and in runc's key order, so that
// scripts and tests written against runc's output keep working. Only
// ociVersion differs: hako writes the version it implements.

import type { Spec } from './generated/config.js';
import type { LoadedSpec } from './load.js';
import { OCI_VERSION } from './version.js';

/** What `hako spec` is told. */
export interface DefaultSpecOptions {
  /** As `runc spec --rootless`: a user namespace mapping the caller to root, no network namespace, no cgroup limits. */
  rootless: boolean;
  /** Host uid mapped to root in rootless mode; the effective uid by default, as runc. */
  uid?: number;
  /** Host gid mapped to root in rootless mode; the effective gid by default. */
  gid?: number;
}

const CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

/** The config.json `hako spec` writes (runc's): a shell in a rootfs/ beside it, with a terminal. */
export function defaultSpec(opts: DefaultSpecOptions): LoadedSpec {
  const { rootless } = opts;
  const devpts = ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'];
  // gid=5 (tty) cannot be used inside a user namespace that maps only the caller.
  if (!rootless) devpts.push('gid=5');
  const spec: LoadedSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...CAPS],
        effective: [...CAPS],
        permitted: [...CAPS],
        ambient: [...CAPS],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: devpts },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      // Without a network namespace of its own, a rootless container may not
      // mount sysfs; runc binds the host's read-only instead.
      rootless
        ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
        : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: rootless
      ? {
          uidMappings: [{ containerID: 0, hostID: opts.uid ?? process.geteuid?.() ?? 0, size: 1 }],
          gidMappings: [{ containerID: 0, hostID: opts.gid ?? process.getegid?.() ?? 0, size: 1 }],
          namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'user' }],
          maskedPaths: maskedPaths(),
          readonlyPaths: readonlyPaths(),
        }
      : {
          resources: { devices: [{ allow: false, access: 'rwm' }] },
          namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
          maskedPaths: maskedPaths(),
          readonlyPaths: readonlyPaths(),
        },
  };
  return spec;
}

function maskedPaths(): string[] {
  return [
    '/proc/acpi',
    '/proc/asound',
    '/proc/kcore',
    '/proc/keys',
    '/proc/latency_stats',
    '/proc/timer_list',
    '/proc/timer_stats',
    '/proc/sched_debug',
    '/sys/firmware',
    '/proc/scsi',
  ];
}

function readonlyPaths(): string[] {
  return ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
}

/** config.json text as runc writes it: tab indentation, no trailing newline. */
export function specJson(spec: Spec): string {
  return JSON.stringify(spec, null, '\t');
}
