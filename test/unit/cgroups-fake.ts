// A fake cgroup filesystem for the manager tests: a temporary directory
// shaped like /sys/fs/cgroup, behind the CgroupFs interface, that reacts to
// writes the way the kernel does as far as the managers care: new cgroups
// get their controllers' files, subtree_control enables controllers for
// children, cgroup.freeze and freezer.state freeze, cgroup.procs holds
// members, rmdir refuses a cgroup with members or children. Every write is
// logged for the tests to compare with what runc would write.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CgroupFs } from '../../src/cgroups/fs.js';
import { layoutOf, parseMountinfo, parseProcCgroup, type CgroupLayout } from '../../src/cgroups/host.js';

function errno(code: string, what: string): Error {
  return Object.assign(new Error(`${code}: ${what}`), { code });
}

/** Files a new cgroup of each v1 controller gets (with their initial values). */
export const V1_FILES: Record<string, Record<string, string>> = {
  memory: {
    'memory.limit_in_bytes': '9223372036854771712\n',
    'memory.memsw.limit_in_bytes': '9223372036854771712\n',
    'memory.soft_limit_in_bytes': '9223372036854771712\n',
    'memory.swappiness': '60\n',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
    'memory.usage_in_bytes': '0\n',
    'memory.max_usage_in_bytes': '0\n',
    'memory.failcnt': '0\n',
    'memory.stat': 'cache 0\nrss 0\n',
    'memory.use_hierarchy': '1\n',
  },
  cpu: {
    'cpu.shares': '1024\n',
    'cpu.cfs_period_us': '100000\n',
    'cpu.cfs_quota_us': '-1\n',
    'cpu.cfs_burst_us': '0\n',
    'cpu.idle': '0\n',
    'cpu.rt_period_us': '1000000\n',
    'cpu.rt_runtime_us': '0\n',
    'cpu.stat': 'nr_periods 0\nnr_throttled 0\nthrottled_time 0\n',
  },
  cpuacct: {
    'cpuacct.usage': '0\n',
    'cpuacct.stat': 'user 0\nsystem 0\n',
    'cpuacct.usage_percpu': '0 0 \n',
    'cpuacct.usage_all': 'cpu user system\n0 0 0\n1 0 0\n',
  },
  cpuset: { 'cpuset.cpus': '\n', 'cpuset.mems': '\n' },
  devices: { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm\n' },
  freezer: { 'freezer.state': 'THAWED\n', 'freezer.self_freezing': '0\n' },
  pids: { 'pids.max': 'max\n', 'pids.current': '0\n' },
  blkio: {
    'blkio.bfq.weight': '100\n',
    'blkio.bfq.weight_device': '',
    'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_bps_device': '',
    'blkio.throttle.read_iops_device': '',
    'blkio.throttle.write_iops_device': '',
  },
  hugetlb: { 'hugetlb.2MB.limit_in_bytes': '0\n', 'hugetlb.2MB.rsvd.limit_in_bytes': '0\n', 'hugetlb.1GB.limit_in_bytes': '0\n' },
  net_cls: { 'net_cls.classid': '0\n' },
  net_prio: { 'net_prio.ifpriomap': '' },
  rdma: { 'rdma.max': '' },
  'name=systemd': {},
};

/** Files each v2 controller adds to a cgroup once enabled for it. */
export const V2_FILES: Record<string, Record<string, string>> = {
  memory: {
    'memory.max': 'max\n',
    'memory.low': '0\n',
    'memory.swap.max': 'max\n',
    'memory.current': '0\n',
    'memory.stat': 'anon 0\nfile 0\n',
    'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n',
    'memory.high': 'max\n',
  },
  cpu: { 'cpu.weight': '100\n', 'cpu.max': 'max 100000\n', 'cpu.max.burst': '0\n', 'cpu.idle': '0\n' },
  cpuset: { 'cpuset.cpus': '\n', 'cpuset.mems': '\n' },
  io: { 'io.weight': 'default 100\n', 'io.max': '', 'io.stat': '' },
  pids: { 'pids.max': 'max\n', 'pids.current': '0\n' },
  hugetlb: { 'hugetlb.2MB.max': 'max\n', 'hugetlb.2MB.rsvd.max': 'max\n', 'hugetlb.2MB.current': '0\n', 'hugetlb.2MB.events': 'max 0\n' },
  rdma: { 'rdma.max': '' },
};

// Core files of every cgroup2 cgroup (and cpu.stat, which exists without the controller).
const V2_CORE: Record<string, string> = {
  'cgroup.procs': '',
  'cgroup.controllers': '',
  'cgroup.subtree_control': '',
  'cgroup.freeze': '0\n',
  'cgroup.events': 'populated 0\nfrozen 0\n',
  'cgroup.kill': '',
  'cgroup.type': 'domain\n',
  'cgroup.max.depth': 'max\n',
  'cpu.stat': 'usage_usec 0\nuser_usec 0\nsystem_usec 0\n',
};

export interface Write {
  file: string;
  value: string;
}

export class FakeCgroupFs implements CgroupFs {
  readonly root: string;
  readonly log: Write[] = [];
  /** Errors to throw on writes to a file (basename), consumed in order. */
  readonly failures = new Map<string, string[]>();
  /** Value rewriting on write (basename → transform), like the kernel's clamping. */
  readonly transforms = new Map<string, (v: string) => string>();
  /** How many FREEZING answers freezer.state gives before FROZEN. */
  freezingRounds = 0;
  /** v1 hierarchy dirs (relative) → controllers. */
  private readonly v1 = new Map<string, string[]>();
  /** v2 mount dirs (relative). */
  private readonly v2 = new Set<string>();

  constructor() {
    // tmpfs when there is one: the fake writes thousands of small files.
    this.root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'hako-cgfake-'));
  }

  /** Absolute path in the fake of a host path such as /sys/fs/cgroup/memory. */
  p(hostPath: string): string {
    return path.join(this.root, hostPath);
  }

  addV1(mount: string, controllers: string[], rootFiles: Record<string, string> = {}): this {
    this.v1.set(mount, controllers);
    const dir = this.p(mount);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'cgroup.procs'), '');
    for (const c of controllers) for (const [f, v] of Object.entries(V1_FILES[c] ?? {})) writeFileSync(path.join(dir, f), v);
    for (const [f, v] of Object.entries(rootFiles)) writeFileSync(path.join(dir, f), v);
    return this;
  }

  addV2(mount: string, controllers: string[]): this {
    this.v2.add(mount);
    const dir = this.p(mount);
    mkdirSync(dir, { recursive: true });
    for (const [f, v] of Object.entries(V2_CORE)) writeFileSync(path.join(dir, f), v);
    writeFileSync(path.join(dir, 'cgroup.controllers'), controllers.join(' ') + '\n');
    return this;
  }

  /** A layout as host.ts would read it, with the fake's mount points. */
  layout(self = '/'): CgroupLayout {
    const lines: string[] = [];
    let id = 30;
    for (const [m, cs] of this.v1) lines.push(`${id++} 25 0:${id} / ${this.p(m)} rw,nosuid - cgroup cgroup rw,${cs.join(',')}`);
    for (const m of this.v2) lines.push(`${id++} 25 0:${id} / ${this.p(m)} rw,nosuid - cgroup2 cgroup2 rw`);
    const proc = [...[...this.v1.values()].map((cs, i) => `${i + 1}:${cs.join(',')}:${self}`), `0::${self}`].join('\n');
    return layoutOf(parseMountinfo(lines.join('\n')), parseProcCgroup(proc));
  }

  private hierarchyOf(file: string): { kind: 'v1'; controllers: string[] } | { kind: 'v2'; mount: string } | undefined {
    const rel = path.relative(this.root, file);
    for (const [m, cs] of this.v1) if (rel === m.slice(1) || rel.startsWith(m.slice(1) + '/')) return { kind: 'v1', controllers: cs };
    for (const m of this.v2) if (rel === m.slice(1) || rel.startsWith(m.slice(1) + '/')) return { kind: 'v2', mount: m };
    return undefined;
  }

  read(file: string): string {
    const base = path.basename(file);
    if (base === 'freezer.state') {
      const s = readFileSync(file, 'utf8');
      if (s.trim() === 'FROZEN' && this.freezingRounds > 0) {
        this.freezingRounds--;
        return 'FREEZING\n';
      }
      return s;
    }
    return readFileSync(file, 'utf8');
  }

  write(file: string, value: string): void {
    const base = path.basename(file);
    const fail = this.failures.get(base);
    if (fail && fail.length > 0) {
      const code = fail.shift()!;
      this.log.push({ file, value: `${value} !${code}` });
      throw errno(code, `write ${file}`);
    }
    if (!existsSync(file)) throw errno('ENOENT', `open ${file}`);
    this.log.push({ file, value });
    const v = this.transforms.get(base)?.(value) ?? value;
    const dir = path.dirname(file);
    switch (base) {
      case 'cgroup.procs': {
        const cur = readFileSync(file, 'utf8');
        writeFileSync(file, cur + v + '\n');
        // A process is in one cgroup per hierarchy: leave the others.
        const h = this.hierarchyOf(file);
        if (h) this.removeMember(h.kind === 'v2' ? this.p(h.mount) : this.mountOf(file), v, file);
        return;
      }
      case 'cgroup.freeze':
        writeFileSync(file, v + '\n');
        writeFileSync(path.join(dir, 'cgroup.events'), `populated 0\nfrozen ${v}\n`);
        return;
      case 'freezer.state':
        writeFileSync(file, v + '\n');
        writeFileSync(path.join(dir, 'freezer.self_freezing'), v === 'FROZEN' ? '1\n' : '0\n');
        return;
      case 'cgroup.kill':
        writeFileSync(path.join(dir, 'cgroup.procs'), '');
        return;
      case 'cgroup.subtree_control': {
        const cur = new Set(readFileSync(file, 'utf8').split(/\s+/).filter(Boolean));
        const avail = new Set(readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').split(/\s+/).filter(Boolean));
        for (const tok of v.split(/\s+/).filter(Boolean)) {
          const c = tok.slice(1);
          if (!avail.has(c)) throw errno('EINVAL', `enable ${c} in ${file}`);
          if (tok[0] === '+') cur.add(c);
          else cur.delete(c);
        }
        writeFileSync(file, [...cur].join(' ') + '\n');
        for (const sub of this.subdirs(dir)) this.setV2Controllers(path.join(dir, sub), [...cur]);
        return;
      }
      case 'devices.allow':
      case 'devices.deny':
        return; // append-only command files; the log has them
      default:
        writeFileSync(file, v + '\n');
    }
  }

  private mountOf(file: string): string {
    const rel = path.relative(this.root, file);
    for (const m of this.v1.keys()) if (rel.startsWith(m.slice(1) + '/')) return this.p(m);
    return this.root;
  }

  private removeMember(top: string, pid: string, except: string): void {
    const walk = (d: string) => {
      const f = path.join(d, 'cgroup.procs');
      if (f !== except && existsSync(f)) {
        const left = readFileSync(f, 'utf8')
          .split('\n')
          .filter((l) => l !== '' && l !== pid);
        writeFileSync(f, left.map((l) => l + '\n').join(''));
      }
      for (const s of readdirSync(d, { withFileTypes: true })) if (s.isDirectory()) walk(path.join(d, s.name));
    };
    walk(top);
  }

  private setV2Controllers(dir: string, controllers: string[]): void {
    writeFileSync(path.join(dir, 'cgroup.controllers'), controllers.join(' ') + '\n');
    for (const c of controllers)
      for (const [f, v] of Object.entries(V2_FILES[c] ?? {})) if (!existsSync(path.join(dir, f))) writeFileSync(path.join(dir, f), v);
  }

  exists(p: string): boolean {
    return existsSync(p);
  }

  mkdir(dir: string): boolean {
    if (existsSync(dir)) return false;
    if (!existsSync(path.dirname(dir))) throw errno('ENOENT', `mkdir ${dir}`);
    mkdirSync(dir);
    const h = this.hierarchyOf(dir);
    if (h?.kind === 'v1') {
      writeFileSync(path.join(dir, 'cgroup.procs'), '');
      for (const c of h.controllers) for (const [f, v] of Object.entries(V1_FILES[c] ?? {})) writeFileSync(path.join(dir, f), v);
      // A child starts with its parent's device rules.
      const parentList = path.join(path.dirname(dir), 'devices.list');
      if (h.controllers.includes('devices') && existsSync(parentList)) writeFileSync(path.join(dir, 'devices.list'), readFileSync(parentList));
    } else if (h?.kind === 'v2') {
      for (const [f, v] of Object.entries(V2_CORE)) writeFileSync(path.join(dir, f), v);
      const parentSub = readFileSync(path.join(path.dirname(dir), 'cgroup.subtree_control'), 'utf8')
        .split(/\s+/)
        .filter(Boolean);
      this.setV2Controllers(dir, parentSub);
    }
    return true;
  }

  rmdir(dir: string): void {
    if (!existsSync(dir)) throw errno('ENOENT', `rmdir ${dir}`);
    if (this.subdirs(dir).length > 0) throw errno('EBUSY', `rmdir ${dir}`);
    const procs = path.join(dir, 'cgroup.procs');
    if (existsSync(procs) && readFileSync(procs, 'utf8').trim() !== '') throw errno('EBUSY', `rmdir ${dir}`);
    rmSync(dir, { recursive: true });
  }

  subdirs(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  }

  /** Writes below `under` (a host path), as [file relative to it, value]. */
  writes(under: string): Array<[string, string]> {
    const base = this.p(under);
    return this.log.filter((w) => w.file.startsWith(base + '/')).map((w) => [path.relative(base, w.file), w.value]);
  }

  content(hostFile: string): string {
    return readFileSync(this.p(hostFile), 'utf8');
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** This machine's shape: v1 controllers one per hierarchy, cgroup2 at unified with hugetlb. */
export function hybridFake(): FakeCgroupFs {
  const f = new FakeCgroupFs();
  for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'])
    f.addV1(`/sys/fs/cgroup/${c}`, [c], c === 'cpuset' ? { 'cpuset.cpus': '0-1\n', 'cpuset.mems': '0\n' } : {});
  f.addV1('/sys/fs/cgroup/systemd', ['name=systemd']);
  f.addV2('/sys/fs/cgroup/unified', ['hugetlb']);
  return f;
}

export function v2Fake(controllers = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma']): FakeCgroupFs {
  return new FakeCgroupFs().addV2('/sys/fs/cgroup', controllers);
}
