// config.md: root, mounts, process, user, hostname, extensibility, valid
// values. Observed from inside the container with busybox.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cmd } from '../../bench/proc.js';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { capNames, mountAt, ok, ourBounding, parseMountinfo, type Check, type T } from '../harness.js';

const ENV_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The lines of /proc/1/status as a map (the container's init). */
async function initStatus(t: T, edit?: Parameters<T['sh']>[1]): Promise<Map<string, string>> {
  const r = await t.sh('cat /proc/self/status', edit);
  const m = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

function mountCheck(
  id: string,
  title: string,
  mount: Record<string, unknown>,
  expect: (opts: string[], sup: string[], optional: string[]) => string | null,
  level: 'MUST' | 'SHOULD' = 'MUST',
): Check {
  return {
    id,
    section: 'config.md#linux-mount-options',
    level,
    title,
    async run(t) {
      const r = await t.sh('cat /proc/self/mountinfo', (c) => {
        c.mounts.push({ destination: '/mnt/m', ...mount });
      });
      const m = mountAt(parseMountinfo(r.stdout), '/mnt/m');
      if (!m) return t.fail('nothing mounted at /mnt/m');
      const err = expect(m.options, m.superOptions, m.optional);
      t.assert(
        err === null,
        `${err} (mount options ${m.options.join(',')}; super ${m.superOptions.join(',')}; ${m.optional.join(' ') || 'no propagation fields'})`,
      );
    },
  };
}

const has = (xs: string[], ...want: string[]): string | null => {
  const miss = want.filter((w) => !xs.includes(w));
  return miss.length ? `missing ${miss.join(',')}` : null;
};

export const checks: Check[] = [
  // ------------------------------------------------------------- root
  {
    id: 'root.readonly',
    section: 'config.md#root',
    level: 'MUST',
    title: 'root.readonly true makes the root filesystem read-only',
    async run(t) {
      const r = await t.sh('touch /x 2>&1 && echo writable || echo readonly', (c) => {
        c.root.readonly = true;
      });
      t.eq(r.stdout.trim().split('\n').pop(), 'readonly', 'touch /x');
    },
  },
  {
    id: 'root.readwrite',
    section: 'config.md#root',
    level: 'MUST',
    title: 'root.readonly false leaves the root filesystem writable',
    async run(t) {
      const r = await t.sh('touch /x && echo writable');
      t.eq(r.stdout.trim(), 'writable', 'touch /x');
    },
  },
  // ------------------------------------------------------------- mounts
  {
    id: 'mounts.order',
    section: 'config.md#mounts',
    level: 'MUST',
    title: 'mounts are mounted in the listed order (a later mount covers an earlier one; nested after parent)',
    async run(t) {
      const r = await t.sh('cat /proc/self/mountinfo; echo ---; cat /mnt/o/which; ls /mnt/o', (c) => {
        c.mounts.push(
          { destination: '/mnt/o', type: 'tmpfs', source: 'first', options: ['size=1m'] },
          { destination: '/mnt/o', type: 'tmpfs', source: 'second', options: ['size=2m'] },
          { destination: '/mnt/o/sub', type: 'tmpfs', source: 'third', options: ['size=3m'] },
        );
      });
      const ms = parseMountinfo(r.stdout.split('---')[0]!);
      const at = ms.filter((m) => m.mountPoint === '/mnt/o' || m.mountPoint === '/mnt/o/sub').map((m) => m.source);
      t.eq(at, ['first', 'second', 'third'], 'sources in mount order');
      t.eq(mountAt(ms, '/mnt/o')?.source, 'second', 'the visible /mnt/o');
    },
  },
  {
    id: 'mounts.relative-destination',
    section: 'config.md#mounts',
    level: 'MUST',
    title: 'a relative mount destination is interpreted relative to /',
    async run(t) {
      const r = await t.sh('cat /proc/self/mountinfo', (c) => {
        c.mounts.push({ destination: 'mnt/rel', type: 'tmpfs', source: 'rel' });
      });
      t.assert(mountAt(parseMountinfo(r.stdout), '/mnt/rel'), 'nothing mounted at /mnt/rel');
    },
  },
  {
    id: 'mounts.default-filesystems',
    section: 'config-linux.md#default-filesystems',
    level: 'SHOULD',
    title: '/proc, /sys, /dev/pts and /dev/shm are available (proc, sysfs, devpts, tmpfs)',
    async run(t) {
      const ms = parseMountinfo((await t.sh('cat /proc/self/mountinfo')).stdout);
      const want: [string, string][] = [
        ['/proc', 'proc'],
        ['/sys', 'sysfs'],
        ['/dev/pts', 'devpts'],
        ['/dev/shm', 'tmpfs'],
      ];
      const bad = want.filter(([p, fs]) => mountAt(ms, p)?.fstype !== fs).map(([p, fs]) => `${p} is ${mountAt(ms, p)?.fstype ?? 'not mounted'} (want ${fs})`);
      t.assert(bad.length === 0, bad.join('; '));
    },
  },
  mountCheck(
    'mounts.opt.ro-nosuid-nodev-noexec',
    'tmpfs with ro, nosuid, nodev, noexec',
    { type: 'tmpfs', source: 'tmpfs', options: ['ro', 'nosuid', 'nodev', 'noexec'] },
    (o) => has(o, 'ro', 'nosuid', 'nodev', 'noexec'),
  ),
  mountCheck('mounts.opt.noatime', 'noatime', { type: 'tmpfs', source: 'tmpfs', options: ['noatime'] }, (o) => has(o, 'noatime')),
  mountCheck('mounts.opt.strictatime', 'strictatime (no relatime, no noatime)', { type: 'tmpfs', source: 'tmpfs', options: ['strictatime'] }, (o) =>
    o.includes('relatime') || o.includes('noatime') ? 'relatime or noatime still set' : null,
  ),
  mountCheck('mounts.opt.nodiratime', 'nodiratime', { type: 'tmpfs', source: 'tmpfs', options: ['nodiratime'] }, (o) => has(o, 'nodiratime')),
  mountCheck('mounts.opt.sync-dirsync', 'sync and dirsync', { type: 'tmpfs', source: 'tmpfs', options: ['sync', 'dirsync'] }, (o, s) =>
    has([...o, ...s], 'sync', 'dirsync'),
  ),
  mountCheck(
    'mounts.opt.data',
    'filesystem-specific options are passed as data (tmpfs size, mode)',
    { type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=700'] },
    (_o, s) => has(s, 'size=1024k', 'mode=700'),
  ),
  mountCheck('mounts.opt.nosymfollow', 'nosymfollow', { type: 'tmpfs', source: 'tmpfs', options: ['nosymfollow'] }, (o) => has(o, 'nosymfollow'), 'SHOULD'),
  {
    id: 'mounts.bind',
    section: 'config.md#linux-mount-options',
    level: 'MUST',
    title: 'bind mounts a host directory; ro on a bind mount makes it read-only',
    async run(t) {
      const src = path.join(t.dir, 'bindsrc');
      mkdirSync(src);
      writeFileSync(path.join(src, 'f'), 'hello');
      const r = await t.sh('cat /mnt/b/f; echo; touch /mnt/b/g 2>/dev/null && echo writable || echo readonly; grep " /mnt/b " /proc/self/mountinfo', (c) => {
        c.mounts.push({ destination: '/mnt/b', type: 'bind', source: src, options: ['bind', 'ro'] });
      });
      const [content, w] = r.stdout.split('\n');
      t.eq(content, 'hello', 'the file through the bind mount');
      t.eq(w, 'readonly', 'write through a bind,ro mount');
    },
  },
  {
    id: 'mounts.rbind',
    section: 'config.md#linux-mount-options',
    level: 'MUST',
    title: 'rbind brings submounts along; bind does not',
    async run(t) {
      const src = path.join(t.dir, 'rbindsrc');
      mkdirSync(path.join(src, 'sub'), { recursive: true });
      const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'subtmp', path.join(src, 'sub')]);
      if (m.status !== 0) t.skip(`cannot mount a tmpfs on the host: ${String(m.stderr)}`);
      t.defer(() => {
        spawnSync('umount', ['-l', path.join(src, 'sub')]);
      });
      writeFileSync(path.join(src, 'sub', 'inside'), 'x');
      const r = await t.sh('test -e /mnt/r/sub/inside && echo r-yes || echo r-no; test -e /mnt/b/sub/inside && echo b-yes || echo b-no', (c) => {
        c.mounts.push({ destination: '/mnt/r', type: 'bind', source: src, options: ['rbind'] });
        c.mounts.push({ destination: '/mnt/b', type: 'bind', source: src, options: ['bind'] });
      });
      t.eq(r.stdout.trim().split('\n'), ['r-yes', 'b-no'], 'submount visible through rbind / bind');
    },
  },
  ...(['private', 'shared', 'slave', 'unbindable'] as const).map(
    (prop): Check => ({
      id: `mounts.opt.r${prop}`,
      section: 'config.md#linux-mount-options',
      level: 'MUST',
      title: `r${prop} sets the propagation of a bind mount (source: a shared mount of the host)`,
      async run(t) {
        const src = path.join(t.dir, 'propsrc');
        mkdirSync(src);
        const m = spawnSync('sh', ['-c', `mount -t tmpfs -o size=1m propsrc "${src}" && mount --make-shared "${src}"`]);
        if (m.status !== 0) t.skip(`cannot mount a shared tmpfs on the host: ${String(m.stderr)}`);
        t.defer(() => {
          spawnSync('umount', ['-l', src]);
        });
        const r = await t.sh('cat /proc/self/mountinfo', (c) => {
          c.mounts.push({ destination: '/mnt/m', type: 'bind', source: src, options: ['rbind', `r${prop}`] });
        });
        const mi = mountAt(parseMountinfo(r.stdout), '/mnt/m');
        if (!mi) return t.fail('nothing mounted at /mnt/m');
        const opt = mi.optional;
        const shared = opt.some((x) => x.startsWith('shared:'));
        const master = opt.some((x) => x.startsWith('master:'));
        const unb = opt.includes('unbindable');
        const got = prop === 'private' ? !shared && !master && !unb : prop === 'shared' ? shared : prop === 'slave' ? master && !shared : unb;
        t.assert(got, `propagation is not ${prop}: ${opt.join(' ') || 'private'}`);
      },
    }),
  ),
  {
    id: 'mounts.opt.rro',
    section: 'config.md#linux-mount-options',
    level: 'SHOULD',
    title: 'rro makes a bind mount and its submounts read-only (mount_setattr)',
    async run(t) {
      const src = path.join(t.dir, 'rrosrc');
      mkdirSync(path.join(src, 'sub'), { recursive: true });
      const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'subtmp', path.join(src, 'sub')]);
      if (m.status !== 0) t.skip('cannot mount a tmpfs on the host');
      t.defer(() => {
        spawnSync('umount', ['-l', path.join(src, 'sub')]);
      });
      const r = await t.sh('touch /mnt/r/sub/x 2>/dev/null && echo writable || echo readonly', (c) => {
        c.mounts.push({ destination: '/mnt/r', type: 'bind', source: src, options: ['rbind', 'rro'] });
      });
      t.eq(r.stdout.trim(), 'readonly', 'write to a submount of an rro mount');
    },
  },
  // ------------------------------------------------------------- process
  {
    id: 'process.cwd',
    section: 'config.md#process',
    level: 'MUST',
    title: 'process.cwd is the working directory of the process',
    async run(t) {
      const r = await t.sh('pwd -P', (c) => {
        c.process.cwd = '/usr/bin';
      });
      t.eq(r.stdout.trim(), '/usr/bin', 'cwd');
    },
  },
  {
    id: 'process.cwd-relative',
    section: 'config.md#process',
    level: 'MUST',
    title: 'a relative process.cwd is an error (cwd MUST be absolute; invalid values are errors)',
    async run(t) {
      const b = t.bundle((c) => {
        c.process.cwd = 'tmp';
      });
      const id = t.id();
      const r = await t.rt(['run', '--bundle', b, id]);
      t.defer(async () => {
        await t.rt(['delete', '--force', id]);
      });
      t.assert(!ok(r), 'a container with cwd "tmp" ran');
    },
  },
  {
    id: 'process.env',
    section: 'config.md#process',
    level: 'MUST',
    title: 'process.env is the environment of the process (values with =, empty values)',
    async run(t) {
      const env = [ENV_PATH, 'ONE=1', 'EMPTY=', 'EQ=a=b=c', 'SPACE=x y'];
      // pid 1 is the process the runtime started (sh): its environ as execve got it.
      const r = await t.sh('cat /proc/1/environ', (c) => {
        c.process.env = env;
      });
      const got = r.stdout.split('\0').filter(Boolean);
      const missing = env.filter((e) => !got.includes(e));
      t.assert(missing.length === 0, `missing or changed: ${missing.join(' ')} (environ: ${got.join(' ')})`);
      const extra = got.filter((e) => !env.includes(e));
      if (extra.length) t.note(`the runtime added: ${extra.join(' ')}`);
    },
  },
  {
    id: 'process.args',
    section: 'config.md#process',
    level: 'MUST',
    title: 'process.args are passed verbatim (spaces, empty strings, globs)',
    async run(t) {
      const b = t.bundle((c) => {
        c.process.args = ['sh', '-c', 'for a in "$0" "$@"; do printf "[%s]" "$a"; done', 'zero', 'a b', '', '*', '$HOME'];
      });
      const r = await t.sh('', undefined, { bundle: b });
      t.eq(r.stdout, '[zero][a b][][*][$HOME]', 'argv as the program saw it');
    },
  },
  {
    id: 'process.args-path',
    section: 'config.md#process',
    level: 'MUST',
    title: "args[0] is found with execvp semantics on the container's PATH",
    async run(t) {
      const b = t.bundle((c) => {
        c.process.args = ['mycmd', 'arg'];
        c.process.env = ['PATH=/custom/bin:/bin'];
      });
      t.file(path.join(b, 'rootfs/custom/bin/mycmd'), '#!/bin/sh\necho "found $1"\n');
      const r = await t.sh('', undefined, { bundle: b });
      t.eq(r.stdout.trim(), 'found arg', 'output');
    },
  },
  {
    id: 'process.consoleSize-ignored',
    section: 'config.md#process',
    level: 'MUST',
    title: 'consoleSize is ignored when terminal is false',
    async run(t) {
      const r = await t.sh('echo ran', (c) => {
        c.process.terminal = false;
        c.process.consoleSize = { height: 10, width: 20 };
      });
      t.eq(r.stdout.trim(), 'ran', 'output');
    },
  },
  {
    id: 'process.user',
    section: 'config.md#posix-platform-user',
    level: 'MUST',
    title: 'user.uid and user.gid set the real and effective ids',
    async run(t) {
      const st = await initStatus(t, (c) => {
        c.process.user = { uid: 1000, gid: 1001 };
      });
      t.eq(st.get('Uid')?.split(/\s+/), ['1000', '1000', '1000', '1000'], 'Uid (real effective saved fs)');
      t.eq(st.get('Gid')?.split(/\s+/), ['1001', '1001', '1001', '1001'], 'Gid');
    },
  },
  {
    id: 'process.additionalGids',
    section: 'config.md#posix-platform-user',
    level: 'MUST',
    title: 'user.additionalGids are the supplementary groups',
    async run(t) {
      const st = await initStatus(t, (c) => {
        c.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 6, 1234] };
      });
      const groups = (st.get('Groups') ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .map(Number)
        .sort((a, b) => a - b);
      t.eq(
        groups.filter((g) => g !== 1000),
        [5, 6, 1234],
        'Groups (besides the primary gid)',
      );
    },
  },
  {
    id: 'process.no-additionalGids',
    section: 'config.md#posix-platform-user',
    level: 'SHOULD',
    title: "without additionalGids the process has no supplementary groups of the runtime's",
    async run(t) {
      const st = await initStatus(t, (c) => {
        c.process.user = { uid: 1000, gid: 1000 };
      });
      const groups = (st.get('Groups') ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .filter((g) => g !== '1000');
      t.eq(groups, [], 'Groups');
    },
  },
  {
    id: 'process.umask',
    section: 'config.md#posix-platform-user',
    level: 'MUST',
    title: 'user.umask sets the umask',
    async run(t) {
      const r = await t.sh('umask', (c) => {
        c.process.user = { uid: 0, gid: 0, umask: 0o077 };
      });
      t.eq(r.stdout.trim(), '0077', 'umask');
    },
  },
  {
    id: 'process.rlimits',
    section: 'config.md#posix-process',
    level: 'MUST',
    title: 'rlimits: getrlimit gives the configured soft and hard values',
    async run(t) {
      const r = await t.sh('cat /proc/self/limits', (c) => {
        c.process.rlimits = [
          { type: 'RLIMIT_NOFILE', soft: 512, hard: 1000 },
          { type: 'RLIMIT_CORE', soft: 4096, hard: 8192 },
          { type: 'RLIMIT_MSGQUEUE', soft: 1000, hard: 2000 },
          { type: 'RLIMIT_NPROC', soft: 500, hard: 1000 },
        ];
      });
      const lim = new Map<string, [string, string]>();
      for (const line of r.stdout.split('\n')) {
        const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
        if (m) lim.set(m[1]!, [m[2]!, m[3]!]);
      }
      t.eq(lim.get('Max open files'), ['512', '1000'], 'NOFILE');
      t.eq(lim.get('Max core file size'), ['4096', '8192'], 'CORE');
      t.eq(lim.get('Max msgqueue size'), ['1000', '2000'], 'MSGQUEUE');
      t.eq(lim.get('Max processes'), ['500', '1000'], 'NPROC');
    },
  },
  {
    id: 'process.rlimits-unknown',
    section: 'config.md#posix-process',
    level: 'MUST',
    title: 'an rlimit type that maps to no kernel resource is an error',
    async run(t) {
      const b = t.bundle((c) => {
        c.process.rlimits = [{ type: 'RLIMIT_NOT_A_LIMIT', soft: 1, hard: 1 }];
      });
      const id = t.id();
      const r = await t.rt(['run', '--bundle', b, id]);
      t.defer(async () => {
        await t.rt(['delete', '--force', id]);
      });
      t.assert(!ok(r), 'RLIMIT_NOT_A_LIMIT was accepted');
    },
  },
  {
    id: 'process.rlimits-duplicate',
    section: 'config.md#posix-process',
    level: 'MUST',
    title: 'duplicated rlimit types are an error',
    async run(t) {
      const b = t.bundle((c) => {
        c.process.rlimits = [
          { type: 'RLIMIT_NOFILE', soft: 100, hard: 100 },
          { type: 'RLIMIT_NOFILE', soft: 200, hard: 200 },
        ];
      });
      const id = t.id();
      const r = await t.rt(['run', '--bundle', b, id]);
      t.defer(async () => {
        await t.rt(['delete', '--force', id]);
      });
      t.assert(!ok(r), 'two RLIMIT_NOFILE entries were accepted');
    },
  },
  {
    id: 'process.capabilities.bounding',
    section: 'config.md#linux-process',
    level: 'MUST',
    title: 'capabilities.bounding is the bounding set',
    async run(t) {
      const want = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID'];
      const st = await initStatus(t, (c) => {
        c.process.capabilities = { bounding: want, effective: want, permitted: want };
        delete c.process.capabilities.ambient;
      });
      t.eq(capNames(st.get('CapBnd') ?? '0'), [...want].sort(), 'CapBnd');
    },
  },
  {
    id: 'process.capabilities.nonroot',
    section: 'config.md#linux-process',
    level: 'MUST',
    title: 'capabilities for a non-root user: inheritable and ambient as configured, effective/permitted = ambient after execve',
    async run(t) {
      const st = await initStatus(t, (c) => {
        c.process.user = { uid: 1000, gid: 1000 };
        c.process.capabilities = {
          bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'],
          effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
          permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
          inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
          ambient: ['CAP_NET_BIND_SERVICE'],
        };
      });
      t.eq(capNames(st.get('CapInh') ?? '0'), ['CAP_KILL', 'CAP_NET_BIND_SERVICE'], 'CapInh');
      t.eq(capNames(st.get('CapAmb') ?? '0'), ['CAP_NET_BIND_SERVICE'], 'CapAmb');
      t.eq(capNames(st.get('CapPrm') ?? '0'), ['CAP_NET_BIND_SERVICE'], 'CapPrm');
      t.eq(capNames(st.get('CapEff') ?? '0'), ['CAP_NET_BIND_SERVICE'], 'CapEff');
      t.eq(capNames(st.get('CapBnd') ?? '0'), ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW'], 'CapBnd');
    },
  },
  {
    id: 'process.capabilities.unknown',
    section: 'config.md#linux-process',
    level: 'SHOULD',
    title: 'an unknown capability is a warning, not a failure (the others still apply)',
    async run(t) {
      const st = await initStatus(t, (c) => {
        c.process.capabilities = { bounding: ['CAP_CHOWN', 'CAP_NOT_A_CAPABILITY'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] };
      });
      t.eq(capNames(st.get('CapBnd') ?? '0'), ['CAP_CHOWN'], 'CapBnd');
    },
  },
  {
    id: 'process.capabilities.ungrantable',
    section: 'config.md#linux-process',
    level: 'SHOULD',
    title: 'a capability the runtime cannot grant (not in its own bounding set) does not fail the container',
    async run(t) {
      const missing = ['CAP_SYS_RESOURCE', 'CAP_SYS_MODULE', 'CAP_MAC_ADMIN', 'CAP_BPF'].find((c) => !ourBounding().includes(c));
      if (!missing) t.skip('this runtime environment has every capability');
      const st = await initStatus(t, (c) => {
        c.process.capabilities = { bounding: ['CAP_CHOWN', missing], effective: ['CAP_CHOWN', missing], permitted: ['CAP_CHOWN', missing] };
      });
      t.assert(capNames(st.get('CapBnd') ?? '0').includes('CAP_CHOWN'), 'CAP_CHOWN missing from CapBnd');
      t.note(`asked for ${missing}, which this host withholds`);
    },
  },
  {
    id: 'process.noNewPrivileges',
    section: 'config.md#linux-process',
    level: 'MUST',
    title: 'noNewPrivileges true sets no_new_privs',
    async run(t) {
      const st = await initStatus(t, (c) => {
        c.process.noNewPrivileges = true;
      });
      t.eq(st.get('NoNewPrivs'), '1', 'NoNewPrivs');
    },
  },
  {
    id: 'process.noNewPrivileges-false',
    section: 'config.md#linux-process',
    level: 'MUST',
    title: 'noNewPrivileges false leaves no_new_privs unset',
    async run(t) {
      const st = await initStatus(t, (c) => {
        c.process.noNewPrivileges = false;
      });
      t.eq(st.get('NoNewPrivs'), '0', 'NoNewPrivs');
    },
  },
  {
    id: 'process.oomScoreAdj',
    section: 'config.md#linux-process',
    level: 'MUST',
    title: 'oomScoreAdj sets oom_score_adj',
    async run(t) {
      const r = await t.sh('cat /proc/self/oom_score_adj', (c) => {
        c.process.oomScoreAdj = 503;
      });
      t.eq(r.stdout.trim(), '503', 'oom_score_adj');
    },
  },
  {
    id: 'process.oomScoreAdj-unset',
    section: 'config.md#linux-process',
    level: 'MUST',
    title: "without oomScoreAdj the runtime does not change oom_score_adj (the caller's value is kept)",
    async run(t) {
      const b = t.bundle((c) => {
        c.process.args = ['cat', '/proc/self/oom_score_adj'];
        delete c.process.oomScoreAdj;
      });
      const id = t.id();
      const r = await cmd([
        '/bin/sh',
        '-c',
        'echo 123 > /proc/self/oom_score_adj && exec "$@"',
        'sh',
        t.suite.runtime,
        '--root',
        t.root,
        'run',
        '--bundle',
        b,
        id,
      ]);
      t.defer(async () => {
        await t.rt(['delete', '--force', id]);
      });
      t.assert(ok(r), `run failed: ${r.stderr.trim()}`);
      t.eq(r.stdout.trim(), '123', 'oom_score_adj (the runtime was started with 123)');
    },
  },
  // ------------------------------------------------------------- names
  {
    id: 'hostname',
    section: 'config.md#hostname',
    level: 'MUST',
    title: "hostname is the container's hostname (new uts namespace)",
    async run(t) {
      const r = await t.sh('hostname', (c) => {
        c.hostname = 'conformance-host';
      });
      t.eq(r.stdout.trim(), 'conformance-host', 'hostname');
    },
  },
  {
    id: 'domainname',
    section: 'config.md#domainname',
    level: 'MUST',
    title: "domainname is the container's NIS domain name",
    async run(t) {
      const r = await t.sh('cat /proc/sys/kernel/domainname', (c) => {
        c.domainname = 'conformance.test';
      });
      t.eq(r.stdout.trim(), 'conformance.test', 'domainname');
    },
  },
  // ------------------------------------------------------------- validity
  {
    id: 'config.unknown-properties',
    section: 'config.md#extensibility',
    level: 'MUST',
    title: 'unknown properties are ignored (top level, process, linux, a mount)',
    async run(t) {
      const r = await t.sh('echo ran', (c) => {
        c.futureTopLevel = { x: 1 };
        c.process.futureProcessThing = true;
        c.linux.futureLinuxThing = 'yes';
        c.mounts[0].futureMountThing = 1;
        c.annotations = { ...(c.annotations ?? {}), 'org.example.unknown-key': 'v' };
      });
      t.eq(r.stdout.trim(), 'ran', 'output');
    },
  },
  {
    id: 'config.ociVersion-invalid',
    section: 'config.md#valid-values',
    level: 'MUST',
    title: 'an ociVersion that is not SemVer is an error',
    async run(t) {
      await t.createFails(
        t.bundle((c) => {
          c.ociVersion = 'not-a-version';
        }),
        'with ociVersion "not-a-version"',
      );
    },
  },
  {
    id: 'config.invalid-value',
    section: 'config.md#valid-values',
    level: 'MUST',
    title: 'an invalid value is an error (namespace type "bogus")',
    async run(t) {
      await t.createFails(
        t.bundle((c) => {
          c.linux.namespaces.push({ type: 'bogus' });
        }),
        'with a namespace of type "bogus"',
      );
    },
  },
];
