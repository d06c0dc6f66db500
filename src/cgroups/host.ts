// The host's cgroup layout, read from /proc/self/mountinfo and
// /proc/self/cgroup: pure v2, pure v1, or hybrid (v1 controllers plus a
// cgroup2 tree). Parsing is pure; reading is one call.
import { readFileSync } from 'node:fs';
import { unescapeMountinfo } from '../mountinfo.js';

export interface Hierarchy {
  fstype: 'cgroup' | 'cgroup2';
  /** Where the hierarchy is mounted on the host. */
  mountpoint: string;
  /** The mount's root within the hierarchy (usually "/"). */
  root: string;
  /** v1: controllers and name= options of the mount, e.g. ["cpu","cpuacct"]; v2: []. */
  controllers: string[];
}

export interface CgroupLayout {
  mode: 'v2' | 'v1' | 'hybrid' | 'none';
  hierarchies: Hierarchy[];
  /** This process's cgroup path per hierarchy key ("" for v2, else the controller list as in /proc/self/cgroup). */
  self: Map<string, string>;
}

// Super options of a cgroup v1 mount that are not controllers.
const NOT_CONTROLLERS = new Set([
  'rw',
  'ro',
  'nosuid',
  'nodev',
  'noexec',
  'relatime',
  'noatime',
  'xattr',
  'clone_children',
  'noprefix',
  'cpuset_v2_mode',
  'favordynmods',
]);

export function parseMountinfo(text: string): Hierarchy[] {
  const out: Hierarchy[] = [];
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const pre = line.slice(0, dash).split(' ');
    const post = line.slice(dash + 3).split(' ');
    const fstype = post[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const controllers = fstype === 'cgroup' ? (post[2] ?? '').split(',').filter((o) => o && !NOT_CONTROLLERS.has(o) && !o.startsWith('release_agent=')) : [];
    out.push({ fstype, mountpoint: unescapeMountinfo(pre[4] ?? ''), root: unescapeMountinfo(pre[3] ?? '/'), controllers });
  }
  return out;
}

export function parseProcCgroup(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    m.set(line.slice(a + 1, b), line.slice(b + 1));
  }
  return m;
}

export function layoutOf(hierarchies: Hierarchy[], self: Map<string, string>): CgroupLayout {
  const v1 = hierarchies.some((h) => h.fstype === 'cgroup');
  const v2 = hierarchies.some((h) => h.fstype === 'cgroup2');
  const mode = v1 && v2 ? 'hybrid' : v1 ? 'v1' : v2 ? 'v2' : 'none';
  return { mode, hierarchies, self };
}

let cached: CgroupLayout | undefined;

/** Read once per process: `list` asks for every container, create twice. */
export function readLayout(): CgroupLayout {
  cached ??= layoutOf(parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')), parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8')));
  return cached;
}

/** This process's path within a hierarchy, per /proc/self/cgroup. */
export function selfPath(layout: CgroupLayout, h: Hierarchy): string | undefined {
  if (h.fstype === 'cgroup2') return layout.self.get('');
  const want = [...h.controllers].sort().join(',');
  for (const [key, p] of layout.self) {
    if (key !== '' && key.split(',').sort().join(',') === want) return p;
  }
  return undefined;
}
