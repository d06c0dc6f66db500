// config.md#posix-platform-hooks and the hook steps of runtime.md#lifecycle.
//
// Every hook is `/bin/sh -c SCRIPT hook NAME`: it saves its stdin, its
// namespaces and whether the host's filesystem is visible under a directory
// H that exists on the host and, bind-mounted at the same path, in the
// container; then appends NAME to H/log. The container process appends
// "process" and sleeps.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { alive } from '../../bench/proc.js';
import { nsOf, ok, type Check, type Config, type State, type T } from '../harness.js';
import { stateErrors } from './lifecycle.js';

const KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
type Kind = (typeof KINDS)[number];
const IN_CONTAINER: readonly Kind[] = ['createContainer', 'startContainer'];
const HOOK_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function hookScript(h: string, bundle: string): string {
  return [
    'name=$1',
    `cat > "${h}/$name.stdin"`,
    `for n in mnt uts net ipc pid; do readlink /proc/self/ns/$n; done > "${h}/$name.ns"`,
    `if [ -e "${bundle}/config.json" ]; then echo yes; else echo no; fi > "${h}/$name.hostfs"`,
    `echo "$name" >> "${h}/log"`,
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, for sh
    'exit ${HOOK_EXIT:-0}',
  ].join('\n');
}

interface HookOpts {
  /** Hooks per kind (default 2 of every kind, named KIND-1, KIND-2). */
  kinds?: readonly Kind[];
  perKind?: number;
  /** Hook names that exit 1. */
  failing?: string[];
  edit?: (c: Config) => void;
}

interface Hooked {
  h: string;
  bundle: string;
  log: () => string[];
  stdin: (name: string) => State | null;
  stdinRaw: (name: string) => string | null;
  ns: (name: string) => string[] | null;
  hostfs: (name: string) => string | null;
}

function hookedBundle(t: T, o: HookOpts = {}): Hooked {
  const h = path.join(t.dir, `hooks-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(h);
  let bundleDir = '';
  const bundle = t.bundle((c, b) => {
    bundleDir = b;
    mkdirSync(path.join(b, 'rootfs', h), { recursive: true });
    c.mounts.push({ destination: h, type: 'bind', source: h, options: ['rbind', 'rw'] });
    c.process.args = ['sh', '-c', `echo process >> ${h}/log; exec sleep 3600`];
    c.hooks = {};
    for (const kind of o.kinds ?? KINDS) {
      c.hooks[kind] = [];
      for (let i = 1; i <= (o.perKind ?? 2); i++) {
        const name = `${kind}-${i}`;
        c.hooks[kind].push({
          path: '/bin/sh',
          args: ['sh', '-c', hookScript(h, b), 'hook', name],
          env: [HOOK_PATH, ...((o.failing ?? []).includes(name) ? ['HOOK_EXIT=1'] : [])],
        });
      }
    }
    o.edit?.(c);
  });
  const read = (f: string): string | null => {
    const p = path.join(h, f);
    return existsSync(p) ? readFileSync(p, 'utf8') : null;
  };
  return {
    h,
    bundle: bundleDir || bundle,
    log: () => (read('log') ?? '').split('\n').filter(Boolean),
    stdinRaw: (n) => read(`${n}.stdin`),
    stdin: (n) => {
      const s = read(`${n}.stdin`);
      if (s === null) return null;
      try {
        return JSON.parse(s) as State;
      } catch {
        return null;
      }
    },
    ns: (n) => read(`${n}.ns`)?.trim().split('\n') ?? null,
    hostfs: (n) => read(`${n}.hostfs`)?.trim() ?? null,
  };
}

/** The whole lifecycle of a hooked container, with the log after each step. */
async function lifecycle(
  t: T,
  hk: Hooked,
): Promise<{ id: string; pid: number; afterCreate: string[]; afterStart: string[]; beforeDelete: string[]; afterDelete: string[]; initNs: string[] }> {
  const c = await t.create(hk.bundle);
  const afterCreate = hk.log();
  await t.must(['start', c.id], 'start');
  const afterStart = hk.log();
  const initNs = ['mnt', 'uts', 'net', 'ipc', 'pid'].map((n) => nsOf(c.pid, n));
  await t.must(['kill', c.id, 'KILL'], 'kill');
  await t.waitExit(c.pid);
  await t.waitStatus(c.id, 'stopped');
  const beforeDelete = hk.log();
  await t.must(['delete', c.id], 'delete');
  t.forget(c.id);
  return { id: c.id, pid: c.pid, afterCreate, afterStart, beforeDelete, afterDelete: hk.log(), initNs };
}

const names = (kinds: readonly Kind[]): string[] => kinds.flatMap((k) => [`${k}-1`, `${k}-2`]);

const EXPECTED_STATUS: Record<Kind, string> = {
  prestart: 'creating',
  createRuntime: 'creating',
  createContainer: 'creating',
  startContainer: 'created',
  poststart: 'running',
  poststop: 'stopped',
};

function failCheck(kind: Kind): Check {
  const duringCreate = ['prestart', 'createRuntime', 'createContainer'].includes(kind);
  return {
    id: `hooks.fail.${kind}`,
    section: 'runtime.md#lifecycle',
    level: 'MUST',
    title: `a failing ${kind} hook makes ${duringCreate ? 'create' : 'start'} fail and stops the container`,
    async run(t) {
      const hk = hookedBundle(t, { kinds: [kind, 'poststop'], perKind: 1, failing: [`${kind}-1`] });
      const id = t.id();
      const pf = path.join(t.dir, 'f.pid');
      if (duringCreate) {
        const r = await t.rt(['create', '--bundle', hk.bundle, '--pid-file', pf, id]);
        t.defer(async () => {
          await t.rt(['delete', '--force', id]);
        });
        t.assert(!ok(r), `create succeeded although the ${kind} hook failed`);
        const s = await t.rt(['state', id]);
        if (ok(s)) {
          const st = JSON.parse(s.stdout) as State;
          t.assert(st.status === 'stopped', `after the failed create the container is ${String(st.status)}, not destroyed or stopped`);
          t.note('the container is left stopped (the spec continues the lifecycle at step 12: destroyed)');
        }
      } else {
        const c = await t.create(hk.bundle, id);
        const r = await t.rt(['start', id]);
        t.assert(!ok(r), `start succeeded although the ${kind} hook failed`);
        const end = Date.now() + 5000;
        while (alive(c.pid) && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
        t.assert(!alive(c.pid), 'the container process still runs after the failed start');
        const s = await t.rt(['state', id]);
        if (ok(s)) t.eq((JSON.parse(s.stdout) as State).status, 'stopped', 'status after the failed start');
      }
    },
  };
}

export const checks: Check[] = [
  {
    id: 'hooks.order',
    section: 'config.md#posix-platform-hooks',
    level: 'MUST',
    title: 'hooks run in the listed order: prestart, createRuntime, createContainer, startContainer, poststart, poststop; each array in order',
    async run(t) {
      const hk = hookedBundle(t);
      const l = await lifecycle(t, hk);
      t.eq(
        l.afterDelete.filter((x) => x !== 'process'),
        names(KINDS),
        'hook log',
      );
    },
  },
  {
    id: 'hooks.create-phase',
    section: 'config.md#prestart',
    level: 'MUST',
    title: 'prestart, createRuntime and createContainer hooks are called during create (not start)',
    async run(t) {
      const hk = hookedBundle(t);
      const l = await lifecycle(t, hk);
      t.eq(l.afterCreate, names(['prestart', 'createRuntime', 'createContainer']), 'hook log when create returned');
    },
  },
  {
    id: 'hooks.startContainer-before-process',
    section: 'config.md#startcontainer-hooks',
    level: 'MUST',
    title: 'startContainer hooks run during start, before the user-specified program',
    async run(t) {
      const hk = hookedBundle(t);
      const l = await lifecycle(t, hk);
      const log = l.afterDelete;
      t.assert(!l.afterCreate.includes('startContainer-1'), 'startContainer ran during create');
      const p = log.indexOf('process');
      t.assert(p >= 0, 'the process never ran');
      t.assert(log.indexOf('startContainer-2') >= 0 && log.indexOf('startContainer-2') < p, `startContainer hooks after the process: ${log.join(',')}`);
    },
  },
  {
    id: 'hooks.poststart-before-start-returns',
    section: 'config.md#poststart',
    level: 'MUST',
    title: 'poststart hooks run after the user program started and before start returns',
    async run(t) {
      const hk = hookedBundle(t);
      const l = await lifecycle(t, hk);
      t.assert(l.afterStart.includes('poststart-2'), `poststart hooks had not run when start returned: ${l.afterStart.join(',')}`);
    },
  },
  {
    id: 'hooks.poststop-in-delete',
    section: 'config.md#poststop',
    level: 'MUST',
    title: 'poststop hooks run during delete (after the container is deleted, before delete returns)',
    async run(t) {
      const hk = hookedBundle(t);
      const l = await lifecycle(t, hk);
      t.assert(!l.beforeDelete.includes('poststop-1'), 'poststop ran before delete');
      t.assert(l.afterDelete.includes('poststop-2'), 'poststop hooks had not run when delete returned');
    },
  },
  {
    id: 'hooks.stdin',
    section: 'config.md#posix-platform-hooks',
    level: 'MUST',
    title: "every hook gets the container's state on stdin (valid state JSON with its id and bundle)",
    async run(t) {
      const hk = hookedBundle(t);
      const l = await lifecycle(t, hk);
      const errs: string[] = [];
      for (const n of names(KINDS)) {
        const raw = hk.stdinRaw(n);
        const s = hk.stdin(n);
        if (raw === null) errs.push(`${n}: did not run`);
        else if (s === null) errs.push(`${n}: stdin is not JSON: ${JSON.stringify(raw.slice(0, 80))}`);
        else {
          errs.push(...stateErrors(s).map((e) => `${n}: ${e}`));
          if (s.id !== l.id) errs.push(`${n}: id ${JSON.stringify(s.id)}`);
          if (s.bundle !== hk.bundle) errs.push(`${n}: bundle ${JSON.stringify(s.bundle)}`);
        }
      }
      t.assert(errs.length === 0, errs.join('; '));
    },
  },
  {
    id: 'hooks.stdin-status',
    section: 'runtime.md#state',
    level: 'MUST',
    title: 'the state given to hooks has the status of that step: creating (create hooks), created (startContainer), running (poststart), stopped (poststop)',
    async run(t) {
      const hk = hookedBundle(t);
      await lifecycle(t, hk);
      const errs: string[] = [];
      for (const k of KINDS) {
        const s = hk.stdin(`${k}-1`);
        if (s?.status !== EXPECTED_STATUS[k]) errs.push(`${k}: ${JSON.stringify(s?.status)} (want ${EXPECTED_STATUS[k]})`);
      }
      t.assert(errs.length === 0, errs.join('; '));
    },
  },
  {
    id: 'hooks.stdin-pid',
    section: 'runtime.md#state',
    level: 'MUST',
    title: "the state's pid is the runtime's view for runtime-namespace hooks and the container's view for container-namespace hooks",
    async run(t) {
      const hk = hookedBundle(t);
      const l = await lifecycle(t, hk);
      const errs: string[] = [];
      for (const k of ['prestart', 'createRuntime', 'poststart'] as const) {
        const pid = hk.stdin(`${k}-1`)?.pid;
        if (pid !== l.pid) errs.push(`${k}: pid ${JSON.stringify(pid)} (want ${l.pid})`);
      }
      for (const k of IN_CONTAINER) {
        const pid = hk.stdin(`${k}-1`)?.pid;
        if (pid !== 1) errs.push(`${k}: pid ${JSON.stringify(pid)} (want 1, the init in its new pid namespace)`);
      }
      t.assert(errs.length === 0, errs.join('; '));
    },
  },
  {
    id: 'hooks.runtime-namespace',
    section: 'config.md#posix-platform-hooks',
    level: 'MUST',
    title: 'prestart, createRuntime, poststart and poststop hooks run in the runtime namespace',
    async run(t) {
      const hk = hookedBundle(t);
      await lifecycle(t, hk);
      const ours = ['mnt', 'uts', 'net', 'ipc', 'pid'].map((n) => nsOf('self', n));
      const errs: string[] = [];
      for (const k of ['prestart', 'createRuntime', 'poststart', 'poststop'] as const) {
        const ns = hk.ns(`${k}-1`);
        if (!ns) errs.push(`${k}: did not run`);
        else ns.forEach((v, i) => v !== ours[i] && errs.push(`${k}: ${v} (runtime: ${ours[i]})`));
      }
      t.assert(errs.length === 0, errs.join('; '));
    },
  },
  {
    id: 'hooks.container-namespace',
    section: 'config.md#posix-platform-hooks',
    level: 'MUST',
    title: "createContainer and startContainer hooks run in the container's namespaces",
    async run(t) {
      const hk = hookedBundle(t);
      const l = await lifecycle(t, hk);
      const errs: string[] = [];
      for (const k of IN_CONTAINER) {
        const ns = hk.ns(`${k}-1`);
        // mnt, uts, net, ipc: the init's; pid: /proc/self/ns/pid of a
        // process in the container's pid namespace.
        if (!ns) errs.push(`${k}: did not run`);
        else ns.forEach((v, i) => v !== l.initNs[i] && errs.push(`${k}: ${v} (container: ${l.initNs[i]})`));
      }
      t.assert(errs.length === 0, errs.join('; '));
    },
  },
  {
    id: 'hooks.createContainer-before-pivot',
    section: 'config.md#createcontainer-hooks',
    level: 'MUST',
    title: 'createContainer hooks run before pivot_root (the runtime filesystem is still visible); path resolves in the runtime namespace',
    async run(t) {
      const hk = hookedBundle(t, { kinds: ['createContainer'], perKind: 1 });
      await lifecycle(t, hk);
      t.eq(hk.hostfs('createContainer-1'), 'yes', 'the bundle visible at its host path from createContainer');
    },
  },
  {
    id: 'hooks.startContainer-path',
    section: 'config.md#startcontainer-hooks',
    level: 'MUST',
    title: "startContainer hook paths resolve in the container namespace (a program only the container's rootfs has)",
    async run(t) {
      const hk = hookedBundle(t, {
        kinds: [],
        edit: (c) => {
          c.hooks = { startContainer: [{ path: '/only-in-rootfs/hook.sh', args: ['hook.sh'] }] };
        },
      });
      t.file(path.join(hk.bundle, 'rootfs/only-in-rootfs/hook.sh'), `#!/bin/sh\necho startContainer >> ${hk.h}/log\n`);
      t.assert(!existsSync('/only-in-rootfs/hook.sh'), 'the host has /only-in-rootfs/hook.sh');
      const c = await t.create(hk.bundle);
      await t.must(['start', c.id], 'start');
      t.assert(hk.log().includes('startContainer'), 'the startContainer hook did not run');
    },
  },
  {
    id: 'hooks.args-env',
    section: 'config.md#posix-platform-hooks',
    level: 'MUST',
    title: 'a hook runs with exactly its args (argv[0] included) and env',
    async run(t) {
      const hk = hookedBundle(t, {
        kinds: [],
        edit: (c) => {
          c.hooks = {
            createRuntime: [
              {
                path: '/bin/sh',
                args: ['custom-argv0', '-c', 'cat /proc/$$/cmdline > "$H/cmdline"; cat /proc/$$/environ > "$H/environ"', 'x', 'a b'],
                env: ['H=' + '@H@', 'ONE=1', 'EMPTY=', 'EQ=a=b'],
              },
            ],
          };
        },
      });
      // The hook's env needs H: patch it in now that H is known.
      const cfgPath = path.join(hk.bundle, 'config.json');
      const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Config;
      cfg.hooks.createRuntime[0].env[0] = `H=${hk.h}`;
      t.writeConfig(hk.bundle, cfg);
      await t.create(hk.bundle);
      // NUL-terminated entries: drop the empty string after the last NUL.
      const read = (f: string): string[] => (existsSync(path.join(hk.h, f)) ? readFileSync(path.join(hk.h, f), 'utf8').split('\0').slice(0, -1) : []);
      t.eq(read('cmdline'), ['custom-argv0', '-c', cfg.hooks.createRuntime[0].args[2], 'x', 'a b'], 'argv');
      t.eq(read('environ').sort(), [...cfg.hooks.createRuntime[0].env].sort(), 'environ');
    },
  },
  failCheck('prestart'),
  failCheck('createRuntime'),
  failCheck('createContainer'),
  failCheck('startContainer'),
  failCheck('poststart'),
  {
    id: 'hooks.fail.create-runs-poststop',
    section: 'runtime.md#lifecycle',
    level: 'MUST',
    title: 'after a failing createRuntime hook the lifecycle continues at step 12: poststop hooks run',
    async run(t) {
      const hk = hookedBundle(t, { kinds: ['createRuntime', 'poststop'], perKind: 1, failing: ['createRuntime-1'] });
      const id = t.id();
      const r = await t.rt(['create', '--bundle', hk.bundle, '--pid-file', path.join(t.dir, 'x.pid'), id]);
      t.defer(async () => {
        await t.rt(['delete', '--force', id]);
      });
      t.assert(!ok(r), 'create succeeded although createRuntime failed');
      // A runtime may leave the container stopped for a delete to finish the job.
      if (!hk.log().includes('poststop-1') && ok(await t.rt(['state', id]))) await t.rt(['delete', id]);
      t.assert(hk.log().includes('poststop-1'), 'the poststop hook never ran');
    },
  },
  {
    id: 'hooks.poststop-fail-continues',
    section: 'runtime.md#lifecycle',
    level: 'MUST',
    title: 'a failing poststop hook is a warning: the next poststop hooks run and delete succeeds',
    async run(t) {
      const hk = hookedBundle(t, { kinds: ['poststop'], failing: ['poststop-1'] });
      const c = await t.create(hk.bundle);
      await t.must(['kill', c.id, 'KILL'], 'kill');
      await t.waitExit(c.pid);
      await t.waitStatus(c.id, 'stopped');
      const d = await t.rt(['delete', c.id]);
      t.assert(ok(d), `delete failed: ${d.stderr.trim()}`);
      t.eq(hk.log(), ['poststop-1', 'poststop-2'], 'poststop hooks that ran');
      t.assert(!ok(await t.rt(['state', c.id])), 'the container still exists');
    },
  },
  {
    id: 'hooks.timeout',
    section: 'config.md#posix-platform-hooks',
    level: 'MUST',
    title: 'a hook that outlives its timeout is aborted (and create fails)',
    async run(t) {
      const hk = hookedBundle(t, {
        kinds: [],
        edit: (c) => {
          c.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
        },
      });
      const t0 = Date.now();
      const r = await t.rt(['create', '--bundle', hk.bundle, '--pid-file', path.join(t.dir, 'x.pid'), 'to-' + process.pid], { timeoutMs: 40_000 });
      t.defer(async () => {
        await t.rt(['delete', '--force', 'to-' + process.pid]);
      });
      const s = (Date.now() - t0) / 1000;
      t.assert(!ok(r), `create succeeded after ${s.toFixed(1)} s`);
      t.assert(s < 10, `create took ${s.toFixed(1)} s with a 1 s hook timeout`);
    },
  },
];
