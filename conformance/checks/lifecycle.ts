// runtime.md: the state, the lifecycle and the operations.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { alive } from '../../bench/proc.js';
import { cgroupDirOf, ok, type Check, type State, type T } from '../harness.js';

const STATUSES = ['creating', 'created', 'running', 'stopped'];

/** The rules of schema/state-schema.json (draft-04), by hand. */
export function stateErrors(s: unknown): string[] {
  const e: string[] = [];
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return ['not a JSON object'];
  const o = s as State;
  for (const k of ['ociVersion', 'id', 'status', 'bundle']) if (!(k in o)) e.push(`${k} missing`);
  if ('ociVersion' in o && typeof o.ociVersion !== 'string') e.push('ociVersion is not a string');
  if ('id' in o && typeof o.id !== 'string') e.push('id is not a string');
  if ('status' in o && !STATUSES.includes(o.status as string)) e.push(`status ${JSON.stringify(o.status)} is not one of ${STATUSES.join('|')}`);
  if ('pid' in o && !(Number.isInteger(o.pid) && (o.pid as number) >= 0)) e.push('pid is not an integer >= 0');
  if ('bundle' in o && typeof o.bundle !== 'string') e.push('bundle is not a string');
  if ('annotations' in o && o.annotations !== undefined) {
    const a = o.annotations;
    if (typeof a !== 'object' || a === null || Array.isArray(a)) e.push('annotations is not a map');
    else for (const [k, v] of Object.entries(a)) if (typeof v !== 'string') e.push(`annotation ${k} is not a string`);
  }
  return e;
}

const sleepBundle = (t: T, edit?: (c: Record<string, any>) => void): string =>
  t.bundle((c) => {
    c.process.args = ['sleep', '3600'];
    edit?.(c);
  });

/** A container that has run `true` and exited: stopped. */
async function stopped(t: T): Promise<{ id: string; pid: number }> {
  const c = await t.create(t.bundle());
  await t.must(['start', c.id], 'start');
  await t.waitExit(c.pid);
  await t.waitStatus(c.id, 'stopped');
  return c;
}

export const checks: Check[] = [
  {
    id: 'state.schema',
    section: 'runtime.md#state',
    level: 'MUST',
    title: 'state output adheres to schema/state-schema.json (created, running, stopped)',
    async run(t) {
      const c = await t.create(sleepBundle(t));
      const errs = stateErrors(await t.state(c.id)).map((e) => `created: ${e}`);
      await t.must(['start', c.id], 'start');
      errs.push(...stateErrors(await t.state(c.id)).map((e) => `running: ${e}`));
      await t.must(['kill', c.id, 'KILL'], 'kill');
      await t.waitExit(c.pid);
      errs.push(...stateErrors(await t.waitStatus(c.id, 'stopped')).map((e) => `stopped: ${e}`));
      t.assert(errs.length === 0, errs.join('; '));
    },
  },
  {
    id: 'state.id',
    section: 'runtime.md#state',
    level: 'MUST',
    title: 'state.id is the container ID',
    async run(t) {
      const c = await t.create(t.bundle());
      t.eq((await t.state(c.id)).id, c.id, 'id');
    },
  },
  {
    id: 'state.created',
    section: 'runtime.md#state',
    level: 'MUST',
    title: 'status is "created" after create, and the user program has not run',
    async run(t) {
      const b = t.bundle((c) => {
        c.process.args = ['sh', '-c', 'touch /ran'];
      });
      const c = await t.create(b);
      t.eq((await t.state(c.id)).status, 'created', 'status');
      t.assert(!existsSync(path.join(b, 'rootfs/ran')), 'the user-specified program ran during create (lifecycle step 2)');
      await t.must(['start', c.id], 'start');
      await t.waitExit(c.pid);
      t.assert(existsSync(path.join(b, 'rootfs/ran')), 'the user-specified program did not run on start');
    },
  },
  {
    id: 'state.pid',
    section: 'runtime.md#state',
    level: 'MUST',
    title: 'state.pid is the container process (created and running), as the runtime sees it',
    async run(t) {
      const c = await t.create(sleepBundle(t));
      t.eq((await t.state(c.id)).pid, c.pid, 'pid when created (vs the pid file)');
      await t.must(['start', c.id], 'start');
      const s = await t.state(c.id);
      t.eq(s.pid, c.pid, 'pid when running');
      const comm = readFileSync(`/proc/${c.pid}/comm`, 'utf8').trim();
      t.eq(comm, 'sleep', `/proc/${c.pid}/comm`);
    },
  },
  {
    id: 'state.running',
    section: 'runtime.md#state',
    level: 'MUST',
    title: 'status is "running" once the user program runs',
    async run(t) {
      const c = await t.running(sleepBundle(t));
      t.eq((await t.state(c.id)).status, 'running', 'status');
    },
  },
  {
    id: 'state.stopped',
    section: 'runtime.md#state',
    level: 'MUST',
    title: 'status is "stopped" once the container process exited',
    async run(t) {
      const c = await t.create(t.bundle());
      await t.must(['start', c.id], 'start');
      await t.waitExit(c.pid);
      // Give the runtime no time: status must be right as soon as the process is gone.
      t.eq((await t.state(c.id)).status, 'stopped', 'status right after the process exited');
    },
  },
  {
    id: 'state.bundle',
    section: 'runtime.md#state',
    level: 'MUST',
    title: 'state.bundle is the absolute path of the bundle (even when given relative)',
    async run(t) {
      const b = t.bundle();
      const id = t.id();
      const pf = path.join(t.dir, 'pid');
      const r = await t.rt(['create', '--bundle', path.basename(b), '--pid-file', pf, id], { cwd: path.dirname(b) });
      if (!ok(r)) t.fail(`create with a relative --bundle failed: ${r.stderr.trim()}`);
      t.defer(async () => {
        await t.rt(['delete', '--force', id]);
      });
      t.eq((await t.state(id)).bundle, b, 'bundle');
    },
  },
  {
    id: 'state.annotations',
    section: 'runtime.md#state',
    level: 'MUST',
    title: "state.annotations are the config's annotations",
    async run(t) {
      const ann = { 'org.example.a': 'x y', 'org.example.empty': '', 'com.example/b': '{"json":1}' };
      const c = await t.create(
        t.bundle((cfg) => {
          cfg.annotations = ann;
        }),
      );
      t.eq((await t.state(c.id)).annotations, ann, 'annotations');
    },
  },
  {
    id: 'state.ociVersion',
    section: 'runtime.md#state',
    level: 'MUST',
    title: 'state.ociVersion is a SemVer version of the runtime spec',
    async run(t) {
      const c = await t.create(t.bundle());
      const v = (await t.state(c.id)).ociVersion;
      t.assert(typeof v === 'string' && /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(v), `ociVersion ${JSON.stringify(v)} is not SemVer`);
    },
  },
  {
    id: 'state.missing',
    section: 'runtime.md#query-state',
    level: 'MUST',
    title: 'state of a container that does not exist is an error',
    async run(t) {
      const r = await t.rt(['state', t.id('nope')]);
      t.assert(!ok(r), 'state of a missing container succeeded');
    },
  },
  {
    id: 'state.no-id',
    section: 'runtime.md#query-state',
    level: 'MUST',
    title: 'state without a container ID is an error',
    async run(t) {
      t.assert(!ok(await t.rt(['state'])), 'state without an ID succeeded');
    },
  },
  {
    id: 'create.duplicate-id',
    section: 'runtime.md#create',
    level: 'MUST',
    title: 'create with an ID in use is an error and creates nothing (the first container is untouched)',
    async run(t) {
      const b1 = sleepBundle(t);
      const first = await t.create(b1);
      const b2 = t.bundle();
      const r = await t.rt(['create', '--bundle', b2, '--pid-file', path.join(t.dir, 'dup.pid'), first.id]);
      t.assert(!ok(r), 'the second create with the same ID succeeded');
      const s = await t.state(first.id);
      t.eq(s.status, 'created', 'status of the first container');
      t.eq(s.pid, first.pid, 'pid of the first container');
      t.eq(s.bundle, b1, 'bundle of the first container');
      t.assert(alive(first.pid), 'the first container process died');
    },
  },
  {
    id: 'create.error-leaves-nothing',
    section: 'runtime.md#errors',
    level: 'MUST',
    title: 'a failed create leaves no container behind (the environment as if never attempted)',
    async run(t) {
      const b = t.bundle((c) => {
        c.mounts.push({ destination: '/mnt/x', type: 'no-such-fstype', source: 'none' });
      });
      const id = t.id();
      const r = await t.rt(['create', '--bundle', b, '--pid-file', path.join(t.dir, 'x.pid'), id]);
      if (ok(r)) {
        t.defer(async () => {
          await t.rt(['delete', '--force', id]);
        });
        t.fail('create succeeded with a mount of an unknown filesystem type');
      }
      const s = await t.rt(['state', id]);
      t.assert(!ok(s), `the container exists after the failed create: ${s.stdout.trim()}`);
      const l = await t.rt(['list', '--format', 'json']);
      if (ok(l) && l.stdout.trim() && l.stdout.trim() !== 'null') {
        const ids = (JSON.parse(l.stdout) as { id: string }[]).map((x) => x.id);
        t.assert(!ids.includes(id), 'list shows the failed container');
      }
    },
  },
  {
    id: 'create.env-error',
    section: 'runtime.md#lifecycle',
    level: 'MUST',
    title: 'create errors when the environment cannot be created (a root.path that does not exist)',
    async run(t) {
      await t.createFails(
        t.bundle((c) => {
          c.root.path = 'no-such-rootfs';
        }),
        'with a root.path that does not exist',
      );
    },
  },
  {
    id: 'create.config-frozen',
    section: 'runtime.md#lifecycle',
    level: 'MUST',
    title: 'changes to config.json after create do not affect the container',
    async run(t) {
      const b = t.bundle((c) => {
        c.process.args = ['sh', '-c', 'echo original > /which'];
      });
      const c = await t.create(b);
      const cfg = JSON.parse(readFileSync(path.join(b, 'config.json'), 'utf8'));
      cfg.process.args = ['sh', '-c', 'echo changed > /which'];
      cfg.process.env.push('CHANGED=1');
      writeFileSync(path.join(b, 'config.json'), JSON.stringify(cfg));
      await t.must(['start', c.id], 'start');
      await t.waitExit(c.pid);
      t.eq(readFileSync(path.join(b, 'rootfs/which'), 'utf8').trim(), 'original', 'the program that ran');
    },
  },
  {
    id: 'start.no-id',
    section: 'runtime.md#start',
    level: 'MUST',
    title: 'start without a container ID is an error',
    async run(t) {
      t.assert(!ok(await t.rt(['start'])), 'start without an ID succeeded');
    },
  },
  {
    id: 'start.running',
    section: 'runtime.md#start',
    level: 'MUST',
    title: 'start of a running container errors and has no effect',
    async run(t) {
      const b = t.bundle((c) => {
        c.process.args = ['sh', '-c', 'echo x >> /count; exec sleep 3600'];
      });
      const c = await t.running(b);
      await new Promise((r) => setTimeout(r, 200));
      const r = await t.rt(['start', c.id]);
      t.assert(!ok(r), 'the second start succeeded');
      await new Promise((r) => setTimeout(r, 200));
      const s = await t.state(c.id);
      t.eq(s.status, 'running', 'status');
      t.eq(s.pid, c.pid, 'pid');
      t.eq(readFileSync(path.join(b, 'rootfs/count'), 'utf8'), 'x\n', 'times the program ran');
    },
  },
  {
    id: 'start.stopped',
    section: 'runtime.md#start',
    level: 'MUST',
    title: 'start of a stopped container errors and has no effect',
    async run(t) {
      const c = await stopped(t);
      t.assert(!ok(await t.rt(['start', c.id])), 'start of a stopped container succeeded');
      t.eq((await t.state(c.id)).status, 'stopped', 'status');
    },
  },
  {
    id: 'start.no-process',
    section: 'runtime.md#start',
    level: 'MUST',
    title: 'start errors when process is not set (create may refuse it already)',
    async run(t) {
      const b = t.bundle((c) => {
        delete c.process;
      });
      const id = t.id();
      const pf = path.join(t.dir, 'np.pid');
      const cr = await t.rt(['create', '--bundle', b, '--pid-file', pf, id]);
      t.defer(async () => {
        await t.rt(['delete', '--force', id]);
      });
      if (!ok(cr)) {
        t.note('create refused a config without process');
        return;
      }
      t.assert(!ok(await t.rt(['start', id])), 'start succeeded without process');
    },
  },
  {
    id: 'kill.no-id',
    section: 'runtime.md#kill',
    level: 'MUST',
    title: 'kill without a container ID is an error',
    async run(t) {
      t.assert(!ok(await t.rt(['kill'])), 'kill without an ID succeeded');
    },
  },
  {
    id: 'kill.created',
    section: 'runtime.md#kill',
    level: 'MUST',
    title: 'kill sends the signal to a created container',
    async run(t) {
      const c = await t.create(t.bundle());
      await t.must(['kill', c.id, 'KILL'], 'kill of a created container');
      const w = await t.waitExit(c.pid);
      t.eq(w.signal, 9, 'the signal the container process died of');
      t.eq((await t.state(c.id)).status, 'stopped', 'status');
    },
  },
  {
    id: 'kill.running',
    section: 'runtime.md#kill',
    level: 'MUST',
    title: 'kill sends the specified signal to the container process',
    async run(t) {
      const b = t.bundle((c) => {
        c.process.args = ['sh', '-c', 'trap "echo USR1 > /got; exit 7" USR1; touch /ready; while :; do sleep 0.05; done'];
      });
      const c = await t.running(b);
      const end = Date.now() + 5000;
      while (!existsSync(path.join(b, 'rootfs/ready')) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      await t.must(['kill', c.id, 'USR1'], 'kill USR1');
      const w = await t.waitExit(c.pid);
      t.eq(w.exitCode, 7, 'exit status (the USR1 trap exits 7)');
    },
  },
  {
    id: 'kill.stopped',
    section: 'runtime.md#kill',
    level: 'MUST',
    title: 'kill of a stopped container errors and has no effect',
    async run(t) {
      const c = await stopped(t);
      t.assert(!ok(await t.rt(['kill', c.id, 'KILL'])), 'kill of a stopped container succeeded');
      t.eq((await t.state(c.id)).status, 'stopped', 'status');
    },
  },
  {
    id: 'delete.no-id',
    section: 'runtime.md#delete',
    level: 'MUST',
    title: 'delete without a container ID is an error',
    async run(t) {
      t.assert(!ok(await t.rt(['delete'])), 'delete without an ID succeeded');
    },
  },
  {
    id: 'delete.running',
    section: 'runtime.md#delete',
    level: 'MUST',
    title: 'delete of a running container errors and has no effect',
    async run(t) {
      const c = await t.running(sleepBundle(t));
      t.assert(!ok(await t.rt(['delete', c.id])), 'delete of a running container succeeded');
      const s = await t.state(c.id);
      t.eq(s.status, 'running', 'status');
      t.assert(alive(c.pid), 'the container process was killed');
    },
  },
  {
    id: 'delete.created',
    section: 'runtime.md#delete',
    level: 'MUST',
    title: 'delete of a created (not stopped) container errors and has no effect',
    async run(t) {
      const c = await t.create(t.bundle());
      const r = await t.rt(['delete', c.id]);
      t.assert(!ok(r), 'delete of a created container succeeded (the spec allows deleting only stopped containers)');
      t.eq((await t.state(c.id)).status, 'created', 'status');
      t.assert(alive(c.pid), 'the container process was killed');
    },
  },
  {
    id: 'delete.stopped',
    section: 'runtime.md#delete',
    level: 'MUST',
    title: 'delete of a stopped container removes it; its ID may be used again',
    async run(t) {
      const c = await stopped(t);
      await t.must(['delete', c.id], 'delete');
      t.assert(!ok(await t.rt(['state', c.id])), 'state still finds the deleted container');
      const again = await t.create(t.bundle(), c.id);
      t.eq((await t.state(again.id)).status, 'created', 'status of a new container with the same ID');
    },
  },
  {
    id: 'delete.cgroup',
    section: 'runtime.md#delete',
    level: 'MUST',
    title: 'delete removes the cgroup that create made (linux.cgroupsPath)',
    async run(t) {
      const cg = `/hako-conformance-${process.pid}-${Date.now()}`;
      const c = await t.create(
        t.bundle((cfg) => {
          cfg.linux.cgroupsPath = cg;
        }),
      );
      const d = cgroupDirOf(c.pid, 'pids') ?? cgroupDirOf(c.pid, 'memory');
      if (!d) return t.skip('no pids or memory cgroup controller on this host');
      if (!d.dir.endsWith(cg)) t.fail(`the container is in ${d.dir}, not in cgroupsPath ${cg}`);
      await t.must(['kill', c.id, 'KILL'], 'kill');
      await t.waitExit(c.pid);
      await t.must(['delete', c.id], 'delete');
      t.assert(!existsSync(d.dir), `${d.dir} still exists after delete`);
    },
  },
  {
    id: 'delete.not-owned',
    section: 'runtime.md#delete',
    level: 'MUST',
    title: 'delete does not remove resources it did not create (a joined network namespace, a bind-mount source)',
    async run(t) {
      const nsFile = path.join(t.dir, 'netns');
      writeFileSync(nsFile, '');
      const u = spawnSync('unshare', [`--net=${nsFile}`, 'true']);
      if (u.status !== 0) t.skip(`unshare --net=FILE failed: ${String(u.stderr).trim()}`);
      t.defer(() => {
        spawnSync('umount', [nsFile]);
      });
      const src = path.join(t.dir, 'shared-src');
      mkdirSync(src);
      writeFileSync(path.join(src, 'keep'), 'x');
      const c = await t.create(
        t.bundle((cfg) => {
          cfg.linux.namespaces = cfg.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: nsFile } : n));
          cfg.mounts.push({ destination: '/mnt/src', type: 'bind', source: src, options: ['rbind', 'rw'] });
        }),
      );
      const inode = statSync(nsFile).ino;
      await t.must(['kill', c.id, 'KILL'], 'kill');
      await t.waitExit(c.pid);
      await t.must(['delete', c.id], 'delete');
      t.assert(existsSync(path.join(src, 'keep')), 'the bind-mount source was emptied or removed');
      const after = statSync(nsFile).ino;
      t.eq(after, inode, 'the joined network namespace file (still a namespace)');
    },
  },
];
