// Where a container started by podman sees its limits, and where the host
// keeps its freezer state. podman's config.json mounts /sys/fs/cgroup (type
// cgroup): on a v1 or hybrid host hako shows one directory per hierarchy,
// named as on the host, plus per-controller links where the host mounts
// controllers together (cpu -> cpu,cpuacct); on a pure v2 host, the
// container's own cgroup2 directory.
import { readFileSync } from 'node:fs';
import path from 'node:path';

interface Hierarchy {
  mountpoint: string;
  fstype: string;
  options: string[];
}

function hierarchies(): Hierarchy[] {
  const out: Hierarchy[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0 || (f[sep + 1] !== 'cgroup' && f[sep + 1] !== 'cgroup2')) continue;
    out.push({ mountpoint: f[4]!, fstype: f[sep + 1]!, options: (f[sep + 3] ?? '').split(',') });
  }
  return out;
}

/** True on a pure cgroup v2 host (one cgroup2 hierarchy at /sys/fs/cgroup). */
export function pureV2(): boolean {
  return hierarchies().some((h) => h.fstype === 'cgroup2' && h.mountpoint === '/sys/fs/cgroup');
}

/** The v1 hierarchy carrying a controller, by its host mount point. */
function v1(controller: string): Hierarchy {
  const h = hierarchies().find((x) => x.fstype === 'cgroup' && x.options.includes(controller));
  if (!h) throw new Error(`no cgroup v1 hierarchy with the ${controller} controller on this host`);
  return h;
}

/** Container paths of the limit files and how to read them back. */
export interface Limits {
  /** A shell script printing "memory=<bytes> cpu=<quota>/<period> pids=<max>". */
  script: string;
  freezerInside: string;
}

export function limitsInside(): Limits {
  if (pureV2()) {
    return {
      script: 'echo "memory=$(cat /sys/fs/cgroup/memory.max) cpu=$(tr " " / < /sys/fs/cgroup/cpu.max) pids=$(cat /sys/fs/cgroup/pids.max)"',
      freezerInside: '/sys/fs/cgroup/cgroup.freeze',
    };
  }
  // By controller name, as programs read them: where the host mounts
  // controllers together (cpu,cpuacct) hako adds the per-name symlinks.
  return {
    script:
      'echo "memory=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes) cpu=$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us)/$(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us) pids=$(cat /sys/fs/cgroup/pids/pids.max)"',
    freezerInside: '/sys/fs/cgroup/freezer/freezer.state',
  };
}

/** Whether the host has the container's cgroup frozen (podman inspect's .State.CgroupPath). */
export function frozenOnHost(cgroupPath: string): boolean {
  if (pureV2()) return /^frozen 1$/m.test(readFileSync(path.join('/sys/fs/cgroup', cgroupPath, 'cgroup.events'), 'utf8'));
  return readFileSync(path.join(v1('freezer').mountpoint, cgroupPath, 'freezer.state'), 'utf8').trim() === 'FROZEN';
}
