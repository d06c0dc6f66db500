// features.md and features-linux.md: the document is valid, and truthful
// (what it lists, the runtime accepts).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CAPS, capNames, ok, ourBounding, type Check, type Config, type T } from '../harness.js';

type Features = Record<string, unknown> & { linux?: Record<string, unknown> | null };

const TOP = ['ociVersionMin', 'ociVersionMax', 'hooks', 'mountOptions', 'linux', 'annotations', 'potentiallyUnsafeConfigAnnotations'];
const LINUX = ['namespaces', 'capabilities', 'cgroup', 'seccomp', 'apparmor', 'selinux', 'intelRdt', 'mountExtensions', 'netDevices', 'memoryPolicy'];
const NS_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];

const cache = new WeakMap<object, Features>();

async function features(t: T): Promise<Features> {
  const hit = cache.get(t.suite);
  if (hit) return hit;
  const r = await t.rt(['features']);
  if (!ok(r)) return t.skip(`the runtime has no features command: ${r.stderr.trim().split('\n').pop()}`);
  let f: Features;
  try {
    f = JSON.parse(r.stdout) as Features;
  } catch {
    return t.fail(`features printed no JSON: ${r.stdout.slice(0, 100)}`);
  }
  cache.set(t.suite, f);
  return f;
}

function semver(v: string): [number, number, number, string] | null {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] ?? ''] : null;
}

/** a < b in SemVer precedence (pre-release lower than release; pre-releases compared as strings). */
function semverLess(a: string, b: string): boolean {
  const x = semver(a)!;
  const y = semver(b)!;
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return (x[i] as number) < (y[i] as number);
  if (x[3] === y[3]) return false;
  if (x[3] === '') return false;
  if (y[3] === '') return true;
  return x[3] < y[3];
}

const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const list = (v: unknown): string[] => (strings(v) ? v : []);

export const checks: Check[] = [
  {
    id: 'features.valid',
    section: 'features.md',
    level: 'MUST',
    title: 'the features document has ociVersionMin/Max and only properties the spec defines, with the right types',
    async run(t) {
      const f = await features(t);
      const errs: string[] = [];
      for (const k of ['ociVersionMin', 'ociVersionMax']) if (typeof f[k] !== 'string') errs.push(`${k} missing or not a string`);
      for (const k of Object.keys(f)) if (!TOP.includes(k)) errs.push(`unknown property ${k}`);
      for (const k of ['hooks', 'mountOptions', 'potentiallyUnsafeConfigAnnotations'])
        if (f[k] != null && !strings(f[k])) errs.push(`${k} is not an array of strings`);
      if (f.annotations != null) {
        if (typeof f.annotations !== 'object' || Array.isArray(f.annotations)) errs.push('annotations is not a map');
        else for (const [k, v] of Object.entries(f.annotations)) if (k === '' || typeof v !== 'string') errs.push(`annotation ${JSON.stringify(k)}`);
      }
      if (f.linux != null) {
        for (const k of Object.keys(f.linux)) if (!LINUX.includes(k)) errs.push(`unknown property linux.${k}`);
        const l = f.linux;
        if (l.namespaces != null) for (const n of list(l.namespaces)) if (!NS_TYPES.includes(n)) errs.push(`linux.namespaces: ${n}`);
        if (l.capabilities != null) for (const c of list(l.capabilities)) if (!/^CAP_[A-Z_]+$/.test(c)) errs.push(`linux.capabilities: ${c}`);
      }
      t.assert(errs.length === 0, errs.join('; '));
    },
  },
  {
    id: 'features.versions',
    section: 'features.md#specification-version',
    level: 'MUST',
    title: 'ociVersionMin and ociVersionMax are SemVer and max is not less than min',
    async run(t) {
      const f = await features(t);
      const min = String(f.ociVersionMin);
      const max = String(f.ociVersionMax);
      t.assert(semver(min) && semver(max), `not SemVer: ${min} / ${max}`);
      t.assert(!semverLess(max, min), `ociVersionMax ${max} < ociVersionMin ${min}`);
    },
  },
  ...(['ociVersionMin', 'ociVersionMax'] as const).map(
    (k): Check => ({
      id: `features.accepts-${k}`,
      section: 'features.md#specification-version',
      level: 'MUST',
      title: `the runtime accepts ${k} as config.json's ociVersion`,
      async run(t) {
        const f = await features(t);
        const r = await t.sh('echo ran', (c) => {
          c.ociVersion = String(f[k]);
        });
        t.eq(r.stdout.trim(), 'ran', `run with ociVersion ${String(f[k])}`);
      },
    }),
  ),
  {
    id: 'features.hooks',
    section: 'features.md#hooks',
    level: 'MUST',
    title: 'every hook listed is supported (it runs)',
    async run(t) {
      const f = await features(t);
      const hooks = list(f.hooks);
      if (hooks.length === 0) return t.skip('no hooks listed');
      const log = path.join(t.dir, 'hooklog');
      const b = t.bundle((c) => {
        c.process.args = ['sleep', '3600'];
        c.hooks = {};
        for (const h of hooks) {
          // startContainer runs inside the container: /bin/sh there is busybox, the log path is not visible, so use the rootfs path.
          const target = h === 'startContainer' ? '/hooklog' : log;
          c.hooks[h] = [{ path: '/bin/sh', args: ['sh', '-c', `echo ${h} >> ${target}`] }];
        }
      });
      const c = await t.create(b);
      await t.must(['start', c.id], 'start');
      await t.must(['kill', c.id, 'KILL'], 'kill');
      await t.waitExit(c.pid);
      await t.waitStatus(c.id, 'stopped');
      await t.must(['delete', c.id], 'delete');
      t.forget(c.id);
      const ran = new Set<string>();
      for (const f2 of [log, path.join(b, 'rootfs/hooklog')]) {
        try {
          for (const l of readFileSync(f2, 'utf8').split('\n')) if (l) ran.add(l);
        } catch {
          /* none */
        }
      }
      const missing = hooks.filter((h) => !ran.has(h));
      t.assert(missing.length === 0, `listed but never ran: ${missing.join(', ')}`);
    },
  },
  {
    id: 'features.mountOptions',
    section: 'features.md#mount-options',
    level: 'MUST',
    title: 'every mount option listed is recognised (a tmpfs mount with it works; bind, rbind, remount, idmap, ridmap excepted)',
    async run(t) {
      const f = await features(t);
      // These need a bind source, an existing mount or id mappings: other checks cover them.
      const opts = list(f.mountOptions).filter((o) => !['bind', 'rbind', 'remount', 'idmap', 'ridmap'].includes(o));
      if (opts.length === 0) return t.skip('no mountOptions listed');
      const edit = (only: string[]) => (c: Config) => {
        only.forEach((o, i) => c.mounts.push({ destination: `/mnt/o${i}`, type: 'tmpfs', source: 'tmpfs', options: [o] }));
      };
      const all = await t.sh('echo ran', edit(opts), { allowFail: true });
      if (ok(all)) return;
      const bad: string[] = [];
      for (const o of opts) {
        const r = await t.sh('echo ran', edit([o]), { allowFail: true });
        if (!ok(r)) bad.push(`${o} (${r.stderr.trim().split('\n').pop()?.slice(0, 120)})`);
      }
      t.assert(bad.length === 0, `listed but refused on a tmpfs: ${bad.join('; ')}`);
    },
  },
  {
    id: 'features.namespaces',
    section: 'features-linux.md#namespaces',
    level: 'MUST',
    title: 'every namespace type listed is recognised (a container with all of them runs)',
    async run(t) {
      const f = await features(t);
      const ns = list(f.linux?.namespaces);
      if (ns.length === 0) return t.skip('no linux.namespaces listed');
      const r = await t.sh('echo ran', (c) => {
        c.linux.namespaces = ns.map((type) => ({ type }));
        if (ns.includes('user')) {
          c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
          c.mounts = c.mounts.filter((m: { destination: string }) => !m.destination.startsWith('/sys'));
        }
      });
      t.eq(r.stdout.trim(), 'ran', 'output');
    },
  },
  {
    id: 'features.capabilities',
    section: 'features-linux.md#capabilities',
    level: 'MUST',
    title: 'every capability listed is recognised (granted in the bounding set, unless this host withholds it)',
    async run(t) {
      const f = await features(t);
      const host = ourBounding();
      const listed = list(f.linux?.capabilities);
      if (listed.length === 0) return t.skip('no linux.capabilities listed');
      // Ask only for what this host can grant; unknown-to-the-kernel names are kept (they must be recognised).
      const caps = listed.filter((c) => host.includes(c) || !CAPS.includes(c));
      const r = await t.sh('grep CapBnd /proc/self/status', (c) => {
        c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
      });
      const got = capNames(r.stdout.split(':')[1] ?? '0');
      const missing = caps.filter((c) => !got.includes(c) && host.includes(c));
      t.assert(missing.length === 0, `listed but not granted: ${missing.join(', ')}`);
    },
  },
  {
    id: 'features.seccomp',
    section: 'features-linux.md#seccomp',
    level: 'MUST',
    title: 'seccomp: when enabled, every action, operator and architecture listed is recognised',
    async run(t) {
      const f = await features(t);
      const s = f.linux?.seccomp as Record<string, unknown> | null | undefined;
      if (s?.enabled !== true) return t.skip('seccomp not enabled in features');
      const actions = list(s.actions).filter((a) => a !== 'SCMP_ACT_NOTIFY');
      const ops = list(s.operators);
      const archs = list(s.archs).filter((a) => ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'].includes(a));
      const unused = [
        'acct',
        'swapon',
        'swapoff',
        'reboot',
        'kexec_load',
        'init_module',
        'delete_module',
        'pivot_root',
        'syslog',
        'quotactl',
        'nfsservctl',
        'lookup_dcookie',
        'vhangup',
      ];
      const r = await t.sh('echo ran', (c) => {
        c.linux.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          architectures: archs,
          syscalls: [
            ...actions.map((a, i) => ({
              names: [unused[i % unused.length]!],
              action: a,
              ...(a === 'SCMP_ACT_ERRNO' || a === 'SCMP_ACT_TRACE' ? { errnoRet: 1 } : {}),
            })),
            ...ops.map((op) => ({ names: ['settimeofday'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 1, valueTwo: 1, op }] })),
          ],
        };
      });
      t.eq(r.stdout.trim(), 'ran', 'output');
    },
  },
];
