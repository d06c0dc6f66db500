// The state directory on an operator's worst day (issue 11, items 1-4):
// ids that try to leave the root, a create that died half-way, a state
// disk with no room, and state files that are damaged. Each test checks
// what is left afterwards: no state or work directory, no temporary file,
// no cgroup, no process, and the id usable again.
// The SIGKILL-at-every-syscall test is state-kill.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  openSync,
  closeSync,
  writeSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import { Env, HAKO, processesUnder, uniqueId } from '../helpers.js';
import { assertNothingLeft, cgroupDirs, cleanupRoots, errorLines, hk, record, warnings } from './state-lib.js';

const t = suite('state-faults');
let env: Env;
t.before(() => {
  env = new Env();
});
const roots = new Set<string>();
t.after(() => {
  cleanupRoots(env, roots);
  env.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(f: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const oneLine = (stderr: string, re: RegExp, what: string) => {
  const lines = errorLines(stderr);
  assert.is(lines.length, 1, `${what}: one error line, got ${JSON.stringify(stderr)}`);
  assert.match(lines[0]!, re, what);
};

/** A fresh state root for one test (its own, so "empty" means this test's containers are gone). */
function newRoot(name: string): string {
  const root = path.join(env.dir, uniqueId(name));
  roots.add(root);
  return root;
}

t('ids: no command reaches outside the root, and bad ids fail', () => {
  const top = path.join(env.dir, uniqueId('ids'));
  const A = path.join(top, 'A');
  const B = path.join(top, 'B');
  roots.add(A).add(B);
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    c.linux.resources = { pids: { limit: 100 } };
  });
  assert.is(hk(env, B, ['run', '-d', '--bundle', b, 'victim']).status, 0);
  const rec = record(B, 'victim');
  const pidsMax = path.join(rec.cgroup.pids ?? Object.values(rec.cgroup)[0], 'pids.max');
  const before = existsSync(pidsMax) ? readFileSync(pidsMax, 'utf8') : '';
  // A directory outside any root that looks like a container.
  const somedir = path.join(top, 'somedir');
  mkdirSync(somedir, { recursive: true });
  writeFileSync(path.join(somedir, 'state.json'), readFileSync(path.join(B, 'victim', 'state.json')));
  mkdirSync(A, { recursive: true });

  const commands: string[][] = [
    ['state'],
    ['kill', '@', 'KILL'],
    ['ps', '@'],
    ['update', '--pids-limit', '7', '@'],
    ['pause'],
    ['resume'],
    ['events', '--stats'],
    ['start'],
    ['exec', '@', 'true'],
    ['delete'],
    ['delete', '--force'],
    ['create', '--bundle', b, '@'],
  ];
  const ids = ['../B/victim', '../somedir', '../B', '/', 'a/b', '.', '..', 'x'.repeat(256), 'a\u0001b', 'a\nb', '.tmp-1-2-ab'];
  for (const cmd of commands) {
    for (const id of ids) {
      const args = cmd.includes('@') ? cmd.map((a) => (a === '@' ? id : a)) : [...cmd, id];
      const r = hk(env, A, args);
      const what = `${args.join(' ')}`;
      assert.ok(r.status !== 0, `${what}: fails (stderr ${r.stderr})`);
      oneLine(r.stderr, /invalid container ID format/, what);
    }
    const r = hk(env, A, cmd.includes('@') ? cmd.map((a) => (a === '@' ? '' : a)) : [...cmd, '']);
    assert.ok(r.status !== 0, `${cmd.join(' ')} '': fails`);
    oneLine(r.stderr, /container id cannot be empty/, `${cmd.join(' ')} ''`);
  }
  // Untouched: the container in B, its limits, the directory outside.
  assert.is(JSON.parse(hk(env, B, ['state', 'victim']).stdout).status, 'running');
  if (before) assert.is(readFileSync(pidsMax, 'utf8'), before, 'pids.max unchanged');
  assert.ok(existsSync(path.join(somedir, 'state.json')), 'somedir kept');
  assert.equal(readdirSync(A), [], 'nothing made in A');
  assert.is(hk(env, B, ['delete', '--force', 'victim']).status, 0);
});

t('a half-made container: a live creator shows "creating", a dead one is removed by a plain delete with what it made', async () => {
  const root = newRoot('half');
  const gate = path.join(env.dir, uniqueId('gate'));
  const inHook = `${gate}.in`;
  // createRuntime runs once the cgroup and the init exist; it waits
  // (bounded) for the gate, so the create can be caught and killed there.
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    c.hooks = {
      createRuntime: [
        { path: '/bin/sh', args: ['sh', '-c', `touch ${inHook}; i=0; while [ ! -e ${gate} ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done`] },
      ],
    };
  });
  const id = uniqueId('half');
  const child = spawn(HAKO, ['--root', root, 'create', '--bundle', b, id], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  try {
    await until(() => existsSync(inHook), 'the createRuntime hook');
    const st = JSON.parse(hk(env, root, ['state', id]).stdout);
    assert.is(st.status, 'creating');
    const init = st.pid;
    assert.ok(init > 0, 'the init is recorded while creating');
    assert.is(JSON.parse(hk(env, root, ['list', '--format', 'json']).stdout)[0].status, 'creating');
    const dirs = cgroupDirs(root, id);
    assert.ok(dirs.length > 0 && dirs.every((d) => existsSync(d)), 'its cgroup exists');

    child.kill('SIGKILL');
    await exited;
    writeFileSync(gate, '');
    // The creator is dead: what is left is a failed create.
    assert.is(JSON.parse(hk(env, root, ['state', id]).stdout).status, 'stopped');
    assert.is(hk(env, root, ['start', id]).status, 1);
    const del = hk(env, root, ['delete', id]);
    assert.is(del.status, 0, del.stderr);
    await until(() => !existsSync(`/proc/${init}/root`) || processesUnder(b).length === 0, 'the init to go');
    assertNothingLeft(root, dirs, b, 'dead creator, plain delete');
    // The id is usable again.
    const b2 = env.bundle((c) => (c.process.args = ['sleep', '1000']));
    assert.is(hk(env, root, ['create', '--bundle', b2, id]).status, 0);
    assert.is(hk(env, root, ['delete', '--force', id]).status, 0);
  } finally {
    writeFileSync(gate, '');
    child.kill('SIGKILL');
  }
});

t('a half-made directory of an older hako (no record) is listed, and delete removes it with the cgroup its config names', () => {
  const root = newRoot('old');
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('old');
  // Where this config and id put the cgroup: from a real create.
  assert.is(hk(env, root, ['create', '--bundle', b, id]).status, 0);
  const dirs = cgroupDirs(root, id);
  const config = readFileSync(path.join(root, id, 'config.json'));
  assert.is(hk(env, root, ['delete', '--force', id]).status, 0);
  const leftovers: Record<string, () => void> = {
    'config.json only': () => writeFileSync(path.join(root, id, 'config.json'), config),
    'a temporary state file only': () => writeFileSync(path.join(root, id, 'state.json.12345.tmp'), '{"ociVersion":"1.'),
    'both, and the cgroup made': () => {
      writeFileSync(path.join(root, id, 'config.json'), config);
      writeFileSync(path.join(root, id, 'state.json.12345.tmp'), '');
      for (const d of dirs) mkdirSync(d, { recursive: true });
    },
    'nothing (an empty directory)': () => {},
  };
  for (const [what, make] of Object.entries(leftovers)) {
    mkdirSync(path.join(root, id), { recursive: true });
    make();
    const l = hk(env, root, ['list', '--format', 'json']);
    assert.is(l.status, 0, `${what}: list`);
    assert.equal(
      JSON.parse(l.stdout).map((s: any) => [s.id, s.status]),
      [[id, 'stopped']],
      `${what}: listed`,
    );
    assert.match(warnings(l.stderr).join('\n'), new RegExp(`container "${id}": its state cannot be read .*delete --force`), `${what}: warning`);
    assert.is(JSON.parse(hk(env, root, ['state', id]).stdout).status, 'stopped', `${what}: state`);
    if (what !== 'nothing (an empty directory)') {
      const c = hk(env, root, ['create', '--bundle', b, id]);
      assert.is(c.status, 1, `${what}: the id is taken until deleted`);
      oneLine(c.stderr, /already exists/, what);
    }
    const d = hk(env, root, ['delete', id]);
    assert.is(d.status, 0, `${what}: plain delete (${d.stderr})`);
    assertNothingLeft(root, dirs, b, what);
  }
  assert.is(hk(env, root, ['create', '--bundle', b, id]).status, 0);
  assert.is(hk(env, root, ['delete', '--force', id]).status, 0);
});

t('work directories of killed creates and deletes: invisible, swept once their owner is dead, never while it lives', () => {
  const root = newRoot('work');
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('w');
  mkdirSync(root, { recursive: true });
  // A dead owner: a process that has exited (its pid and start time name no live process).
  const dead = spawnSync('sh', ['-c', 'echo $$; cat /proc/$$/stat'], { encoding: 'utf8' }).stdout.split('\n');
  const deadStart = dead[1]!.slice(dead[1]!.lastIndexOf(')') + 2).split(' ')[19];
  const deadDir = path.join(root, `.tmp-${dead[0]}-${deadStart}-0badc0de`);
  mkdirSync(deadDir);
  writeFileSync(path.join(deadDir, 'state.json'), '{');
  writeFileSync(path.join(deadDir, 'config.json.1.tmp'), '');
  // A live owner: this test process.
  const self = readFileSync('/proc/self/stat', 'utf8');
  const liveDir = path.join(root, `.tmp-${process.pid}-${self.slice(self.lastIndexOf(')') + 2).split(' ')[19]}-0000aaaa`);
  mkdirSync(liveDir);
  assert.equal(JSON.parse(hk(env, root, ['list', '--format', 'json']).stdout), null, 'list shows no work directory');
  assert.is(hk(env, root, ['delete', '--force', id]).status, 0, 'delete --force of an id that is not there');
  assert.not.ok(existsSync(deadDir), 'swept');
  assert.ok(existsSync(liveDir), 'a live owner keeps its work directory');
  rmSync(liveDir, { recursive: true });
  assert.is(hk(env, root, ['create', '--bundle', b, id]).status, 0);
  assert.equal(readdirSync(root), [id]);
  assert.is(hk(env, root, ['delete', '--force', id]).status, 0);
  assert.equal(readdirSync(root), []);
});

t('eight concurrent creates of one id: exactly one wins, the others leave nothing; list and state meanwhile answer right', async () => {
  const root = newRoot('race');
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('race');
  const go = () =>
    new Promise<number | null>((r) => {
      const c = spawn(HAKO, ['--root', root, 'create', '--bundle', b, id], { stdio: 'ignore' });
      c.on('exit', (code) => r(code));
    });
  // list and state while they race: never a failure, never a bad entry.
  let stop = false;
  const watcher = (async () => {
    let n = 0;
    while (!stop && n++ < 500) {
      const l = hk(env, root, ['list', '--format', 'json']);
      assert.is(l.status, 0, l.stderr);
      for (const s of JSON.parse(l.stdout) ?? []) {
        assert.is(s.id, id);
        assert.ok(['creating', 'created'].includes(s.status), s.status);
      }
      assert.not.match(l.stderr, /warn|error/);
      const st = hk(env, root, ['state', id]);
      if (st.status === 0) assert.ok(['creating', 'created'].includes(JSON.parse(st.stdout).status), st.stdout);
      else assert.match(st.stderr, /does not exist/);
      await sleep(1);
    }
  })();
  const codes = await Promise.all(Array.from({ length: 8 }, go));
  stop = true;
  await watcher;
  assert.is(codes.filter((c) => c === 0).length, 1, `exit codes ${codes}`);
  assert.equal(readdirSync(root), [id], 'the losers left no work directory');
  const dirs = cgroupDirs(root, id);
  assert.is(hk(env, root, ['delete', '--force', id]).status, 0);
  assertNothingLeft(root, dirs, b, 'after the race');
});

t('a full state disk: create records its state whole or fails and undoes itself', () => {
  const mnt = path.join(env.dir, uniqueId('tmpfs'));
  mkdirSync(mnt);
  // 64 pages of 4 KiB: the config (with a 10 KB annotation) and the record
  // take several pages each, so some writes come out short.
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'hako-test-full', mnt], { encoding: 'utf8' });
  assert.is(m.status, 0, m.stderr);
  const root = path.join(mnt, 'root');
  try {
    const big = 'x'.repeat(10_000);
    const b = env.bundle((c) => {
      c.process.args = ['sleep', '1000'];
      c.annotations = { 'org.test.big': big };
    });
    const id = uniqueId('full');
    // The cgroup this config and id get, from a create on a roomy root.
    const roomy = newRoot('roomy');
    assert.is(hk(env, roomy, ['create', '--bundle', b, id]).status, 0);
    const dirs = cgroupDirs(roomy, id);
    assert.is(hk(env, roomy, ['delete', '--force', id]).status, 0);

    const filler = path.join(mnt, 'filler');
    /** Fills the file system, then frees `bytes`. */
    const leaveFree = (bytes: number) => {
      rmSync(filler, { force: true });
      const fd = openSync(filler, 'w');
      const chunk = Buffer.alloc(4096);
      try {
        for (let i = 0; i < 1000; i++) writeSync(fd, chunk);
      } catch {
        /* full */
      } finally {
        closeSync(fd);
      }
      truncateSync(filler, Math.max(0, statSync(filler).size - bytes));
    };
    mkdirSync(root);
    const failures = new Set<string>();
    let succeeded = 0;
    for (let pages = 0; pages <= 24; pages++) {
      leaveFree(pages * 4096);
      const r = hk(env, root, ['create', '--bundle', b, id]);
      const what = `${pages} pages free`;
      if (r.status === 0) {
        succeeded++;
        assert.is(JSON.parse(hk(env, root, ['state', id]).stdout).status, 'created', what);
        assert.equal(record(root, id).annotations, { 'org.test.big': big }, `${what}: the record is whole`);
        // Deleting needs no room.
        leaveFree(0);
        const d = hk(env, root, ['delete', '--force', id]);
        assert.is(d.status, 0, `${what}: ${d.stderr}`);
      } else {
        assert.is(r.status, 1, what);
        const lines = errorLines(r.stderr);
        assert.is(lines.length, 1, `${what}: ${r.stderr}`);
        const m = new RegExp(
          `^hako: container "${id}": cannot write ${root}/${id}/(config\\.json|state\\.json|state\\.json\\.bak): no space left on device \\(ENOSPC\\)$`,
        ).exec(lines[0]!);
        assert.ok(m, `${what}: ${lines[0]}`);
        failures.add(m![1]!);
      }
      assertNothingLeft(root, dirs, b, what);
    }
    assert.ok(succeeded > 0, 'some creates had room');
    assert.ok(failures.size >= 2, `failures at several writes: ${[...failures]}`);
  } finally {
    // What a failure left, before the file system goes.
    cleanupRoots(env, [root]);
    spawnSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
});

// How a state file can be damaged; `other` is a file of another container.
const DAMAGE: Record<string, (file: string, other: string) => void> = {
  empty: (f) => writeFileSync(f, ''),
  truncated: (f) => writeFileSync(f, readFileSync(f, 'utf8').slice(0, 40)),
  garbage: (f) => writeFileSync(f, Buffer.from([0xff, 0x00, 0x7b, 0x22, 0x9c])),
  'a directory': (f) => {
    unlinkSync(f);
    mkdirSync(path.join(f, 'sub'), { recursive: true });
  },
  'a symlink to another container': (f, other) => {
    unlinkSync(f);
    symlinkSync(other, f);
  },
  '{}': (f) => writeFileSync(f, '{}'),
  '[]': (f) => writeFileSync(f, '[]'),
  null: (f) => writeFileSync(f, 'null'),
  removed: (f) => unlinkSync(f),
  'another container': (f, other) => writeFileSync(f, readFileSync(other)),
};

t('a damaged state.json: its copy carries the container, which runs on and is deleted whole', () => {
  const root = newRoot('dmg1');
  const ob = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  assert.is(hk(env, root, ['create', '--bundle', ob, 'other']).status, 0);
  const other = path.join(root, 'other', 'state.json');
  for (const [what, damage] of Object.entries(DAMAGE)) {
    const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('d1');
    assert.is(hk(env, root, ['run', '-d', '--bundle', b, id]).status, 0);
    const dirs = cgroupDirs(root, id);
    const init = record(root, id).pid;
    damage(path.join(root, id, 'state.json'), other);
    const st = hk(env, root, ['state', id]);
    assert.is(st.status, 0, `${what}: state`);
    assert.is(JSON.parse(st.stdout).status, 'running', `${what}: state from the copy`);
    assert.is(JSON.parse(st.stdout).pid, init, what);
    assert.match(
      warnings(st.stderr).join('\n'),
      new RegExp(`container "${id}": ${root}/${id}/state\\.json: .*; using ${root}/${id}/state\\.json\\.bak`),
      `${what}: warning`,
    );
    const l = hk(env, root, ['list', '--format', 'json']);
    assert.is(l.status, 0, `${what}: list`);
    assert.ok(
      JSON.parse(l.stdout).some((s: any) => s.id === id && s.status === 'running'),
      what,
    );
    assert.is(hk(env, root, ['ps', '--format', 'json', id]).status, 0, `${what}: ps`);
    const d = hk(env, root, ['delete', '--force', id]);
    assert.is(d.status, 0, `${what}: delete --force: ${d.stderr}`);
    assertNothingLeft(path.join(root, id), dirs, b, what);
    assert.not.ok(existsSync(path.join(root, id)), what);
  }
  // A damaged config.json: the commands that need it say which file and why.
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('cfg');
  assert.is(hk(env, root, ['create', '--bundle', b, id]).status, 0);
  const dirs = cgroupDirs(root, id);
  writeFileSync(path.join(root, id, 'config.json'), '{"ociVersion": "1.');
  const st = hk(env, root, ['start', id]);
  assert.is(st.status, 1);
  oneLine(st.stderr, new RegExp(`^hako: container "${id}": ${root}/${id}/config\\.json: not JSON \\(`), 'start with a damaged config');
  assert.is(JSON.parse(hk(env, root, ['state', id]).stdout).status, 'created', 'not started');
  const d = hk(env, root, ['delete', '--force', id]);
  assert.is(d.status, 0, d.stderr);
  assertNothingLeft(path.join(root, id), dirs, b, 'damaged config');
  assert.is(hk(env, root, ['delete', '--force', 'other']).status, 0);
  assert.equal(readdirSync(root), []);
});

t('both copies damaged: listed with a warning, never failing the root; delete --force stops the init through the cgroup its config names', () => {
  const root = newRoot('dmg2');
  const ob = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  assert.is(hk(env, root, ['create', '--bundle', ob, 'other']).status, 0);
  const other = path.join(root, 'other', 'state.json');
  for (const [what, damage] of Object.entries(DAMAGE)) {
    const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('d2');
    assert.is(hk(env, root, ['run', '-d', '--bundle', b, id]).status, 0);
    const dirs = cgroupDirs(root, id);
    damage(path.join(root, id, 'state.json'), other);
    damage(path.join(root, id, 'state.json.bak'), other);
    const l = hk(env, root, ['list', '--format', 'json']);
    assert.is(l.status, 0, `${what}: list`);
    const shown = JSON.parse(l.stdout);
    assert.equal(
      shown.find((s: any) => s.id === id),
      { ociVersion: shown.find((s: any) => s.id === id).ociVersion, id, pid: 0, status: 'stopped', bundle: '', rootfs: '', created: '', owner: 'root' },
      what,
    );
    assert.ok(
      shown.some((s: any) => s.id === 'other' && s.status === 'created'),
      `${what}: the others are listed`,
    );
    assert.match(
      warnings(l.stderr).join('\n'),
      new RegExp(`container "${id}": its state cannot be read \\(.*\\); \`delete --force\` removes what is left of it`),
      `${what}: warning`,
    );
    assert.is(errorLines(l.stderr).length, 0, `${what}: no error`);
    assert.is(hk(env, root, ['list']).status, 0, `${what}: table`);
    assert.is(JSON.parse(hk(env, root, ['state', id]).stdout).status, 'stopped', `${what}: state`);
    const k = hk(env, root, ['kill', id, 'KILL']);
    assert.is(k.status, 1, what);
    oneLine(k.stderr, new RegExp(`container "${id}": its state cannot be read`), `${what}: kill`);
    // The init runs on in its cgroup: a plain delete says so at once.
    const p = hk(env, root, ['delete', id]);
    assert.is(p.status, 1, `${what}: plain delete`);
    oneLine(p.stderr, /processes are still in its cgroup \(use delete --force\)/, `${what}: plain delete`);
    const d = hk(env, root, ['delete', '--force', id]);
    assert.is(d.status, 0, `${what}: delete --force: ${d.stderr}`);
    assert.is(errorLines(d.stderr).length, 0, `${what}: ${d.stderr}`);
    assert.not.ok(existsSync(path.join(root, id)), what);
    for (const dir of dirs) assert.not.ok(existsSync(dir), `${what}: ${dir}`);
    assert.equal(processesUnder(b), [], `${what}: the init is gone`);
  }
  // And with the config gone too: the id alone names the default cgroup.
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('d3');
  assert.is(hk(env, root, ['run', '-d', '--bundle', b, id]).status, 0);
  const dirs = cgroupDirs(root, id);
  for (const f of ['state.json', 'state.json.bak', 'config.json']) unlinkSync(path.join(root, id, f));
  assert.is(hk(env, root, ['delete', '--force', id]).status, 0);
  assert.not.ok(existsSync(path.join(root, id)));
  for (const dir of dirs) assert.not.ok(existsSync(dir), dir);
  assert.equal(processesUnder(b), []);
  assert.is(hk(env, root, ['delete', '--force', 'other']).status, 0);
  assert.equal(readdirSync(root), []);
});

t('a recorded pid that now belongs to another process is never signalled', () => {
  const root = newRoot('reuse');
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('reuse');
  assert.is(hk(env, root, ['run', '-d', '--bundle', b, id]).status, 0);
  const dirs = cgroupDirs(root, id);
  // A bystander takes the init's place in both copies (its start time differs).
  const bystander = spawn('sleep', ['1000'], { stdio: 'ignore' });
  try {
    for (const f of ['state.json', 'state.json.bak']) {
      const rec = record(root, id);
      rec.pid = bystander.pid;
      writeFileSync(path.join(root, id, f), JSON.stringify(rec));
    }
    assert.is(JSON.parse(hk(env, root, ['state', id]).stdout).status, 'stopped');
    assert.is(hk(env, root, ['kill', id, 'KILL']).status, 1);
    const p = hk(env, root, ['delete', id]);
    assert.is(p.status, 1);
    oneLine(p.stderr, /processes are still in its cgroup \(use delete --force\)/, 'plain delete');
    assert.is(hk(env, root, ['delete', '--force', id]).status, 0);
    assert.ok(existsSync(`/proc/${bystander.pid}`) && bystander.exitCode === null && bystander.signalCode === null, 'the bystander lives');
    assertNothingLeft(root, dirs, b, 'reused pid');
  } finally {
    bystander.kill('SIGKILL');
  }
});

t('a command waiting for the lock of a directory that delete moves away acts on what the id names afterwards', async () => {
  // delete moves a container's directory aside while holding its lock; a
  // command that was waiting for that lock must not act on the moved one.
  const root = newRoot('swap');
  const b1 = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const b2 = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('swap');
  assert.is(hk(env, root, ['run', '-d', '--bundle', b1, id]).status, 0);
  const first = record(root, id).pid;
  // Hold the lock as a delete would (flock(1) on the directory).
  const holder = spawn('flock', ['-x', path.join(root, id), '-c', 'read x'], { stdio: ['pipe', 'ignore', 'ignore'] });
  const holderGone = new Promise((r) => holder.on('exit', r));
  try {
    await sleep(100);
    const killer = spawn(HAKO, ['--root', root, 'kill', id, 'KILL'], { stdio: 'ignore' });
    const killed = new Promise<number | null>((r) => killer.on('exit', (c) => r(c)));
    await sleep(300);
    // The "delete": aside, and a new container takes the id.
    renameSync(path.join(root, id), path.join(root, 'aside'));
    assert.is(hk(env, root, ['run', '-d', '--bundle', b2, id]).status, 0);
    const second = record(root, id).pid;
    holder.stdin!.end();
    await holderGone;
    assert.is(await killed, 0);
    await until(() => !existsSync(`/proc/${second}`) || / Z /.test(readFileSync(`/proc/${second}/stat`, 'utf8')), 'the new init to die');
    assert.ok(existsSync(`/proc/${first}`) && !/ Z /.test(readFileSync(`/proc/${first}/stat`, 'utf8')), 'the moved container was not signalled');
  } finally {
    holder.kill('SIGKILL');
    if (existsSync(path.join(root, 'aside'))) {
      renameSync(path.join(root, id), path.join(root, 'second'));
      renameSync(path.join(root, 'aside'), path.join(root, id));
      hk(env, root, ['delete', '--force', id]);
      renameSync(path.join(root, 'second'), path.join(root, id));
    }
    hk(env, root, ['delete', '--force', id]);
  }
  assert.equal(readdirSync(root), []);
});

t.run();
