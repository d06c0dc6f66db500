// runc 1.1.5's behaviour where callers (or people) depend on it, checked
// side by side with runc: pid files in missing directories, a terminal
// with nobody to talk to, a deleted working directory, the log format of
// every line, and the shape of a few outputs and errors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Env, HAKO, uniqueId, type Result } from '../helpers.js';
import { cgroupsNamed, processesOf, runCaptured } from '../leftovers.js';

const t = suite('cli-fidelity');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

/** A running container (sleep), deleted by the caller. */
function running(): { id: string; bundle: string } {
  const bundle = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('fid');
  const r = env.hako(['run', '-d', '--bundle', bundle, id]);
  assert.is(r.status, 0, r.stderr);
  return { id, bundle };
}

function assertNothingLeft(id: string, bundle: string): void {
  assert.is(existsSync(path.join(env.root, id)), false, 'no state directory');
  assert.equal(cgroupsNamed(id), [], 'no cgroup');
  assert.equal(processesOf(bundle), [], 'no process');
}

/** Lines of `text`, each parsed as JSON (fails on a line that is not). */
function jsonLines(text: string): { level: string; msg: string; time: string }[] {
  return text
    .trim()
    .split('\n')
    .map((l) => {
      const o = JSON.parse(l);
      assert.equal(Object.keys(o), ['level', 'msg', 'time'], `runc's line shape: ${l}`);
      return o;
    });
}

t('create and run --pid-file in a missing directory: fail as runc does, making no directory and leaving nothing', () => {
  for (const cmd of [['create'], ['run', '-d']]) {
    const bundle = env.bundle((c) => (c.process.args = ['sleep', '1000']));
    const id = uniqueId('pidf');
    const dir = path.join(env.dir, uniqueId('missing'));
    const r = env.hako([...cmd, '--bundle', bundle, '--pid-file', path.join(dir, 'sub', 'p.pid'), id]);
    assert.is(r.status, 1, r.stderr);
    assert.is(r.stderr, `hako: container "${id}": pid file ${dir}/sub/p.pid: no such file or directory\n`);
    assert.is(existsSync(dir), false, 'no directory made for the pid file');
    assertNothingLeft(id, bundle);
  }
});

t('exec --pid-file in a missing directory: exit 255, no directory, the process does not outlive it', () => {
  const { id, bundle } = running();
  try {
    for (const detach of [[], ['-d']]) {
      const dir = path.join(env.dir, uniqueId('missing'));
      const r = env.hako(['exec', ...detach, '--pid-file', path.join(dir, 'p.pid'), id, 'sleep', '999']);
      assert.is(r.status, 255, r.stderr);
      assert.is(r.stderr, `hako: exec failed: container "${id}": pid file ${dir}/p.pid: no such file or directory\n`);
      assert.is(existsSync(dir), false, 'no directory made for the pid file');
      const ps = env.hako(['ps', '--format', 'json', id]);
      assert.is(JSON.parse(ps.stdout).length, 1, `only the init is left: ${ps.stdout}`);
    }
  } finally {
    env.hako(['delete', '--force', id]);
  }
  assertNothingLeft(id, bundle);
});

/** hako with no terminal at all: stdio are files, and a new session (no controlling terminal). */
function withoutTerminal(args: string[]): Result {
  const r = runCaptured(['setsid', '-w', HAKO, '--root', env.root, ...args], env.dir, 60_000);
  assert.is(r.timedOut, false, `hako still ran after 60 s (stderr: ${r.stderr})`);
  return r;
}

t("process.terminal without a terminal: run and exec -t fail at once with runc's reason, create asks for a console socket", () => {
  const bundle = env.bundle((c) => (c.process.terminal = true));
  const id = uniqueId('tty');
  const r = withoutTerminal(['run', '--bundle', bundle, id]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^hako: container "${id}": open /dev/tty: no such device or address: .*--console-socket\\n$`));
  assertNothingLeft(id, bundle);

  const c = withoutTerminal(['create', '--bundle', bundle, id]);
  assert.is(c.status, 1, c.stderr);
  assert.is(c.stderr, `hako: container "${id}": cannot allocate tty if hako will detach without setting console socket\n`);
  assertNothingLeft(id, bundle);

  const box = running();
  try {
    const e = withoutTerminal(['exec', '-t', box.id, 'sleep', '999']);
    assert.is(e.status, 255, e.stderr);
    assert.match(e.stderr, /^hako: exec failed: open \/dev\/tty: no such device or address: [^\n]*\n$/);
    const ps = env.hako(['ps', '--format', 'json', box.id]);
    assert.is(JSON.parse(ps.stdout).length, 1, `only the init: ${ps.stdout}`);
  } finally {
    env.hako(['delete', '--force', box.id]);
  }
});

/** The environments execve gave the entry and the engine (strace), in order. */
function execEnvs(args: string[], extraEnv: string[]): string[][] {
  const log = path.join(env.dir, `${uniqueId('execve')}.strace`);
  const r = runCaptured(
    ['env', ...extraEnv, 'strace', '-f', '-qq', '-e', 'trace=execve', '-v', '-s', '256', '-o', log, HAKO, '--root', env.root, ...args],
    env.dir,
    60_000,
  );
  assert.is(r.status, 0, r.stderr);
  const lines = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => / execve\("/.test(l) && !/ENOENT/.test(l));
  rmSync(log, { force: true });
  return lines.map((l) =>
    [...(/\[([^\]]*)\]\) = 0$/.exec(l.replace(/ \/\* \d+ vars \*\//, ''))?.[1] ?? '').matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!),
  );
}

t('the entry starts the engine without the JIT unless the caller says otherwise; nothing hako runs inherits the setting', () => {
  const [entry, engine] = execEnvs(['--version'], []);
  assert.ok(entry && engine, 'the entry execs the engine');
  assert.is(entry!.filter((e) => e.startsWith('BUN_JSC_useJIT=')).length, 0);
  assert.equal(
    engine!.filter((e) => e.startsWith('BUN_JSC_useJIT=')),
    ['BUN_JSC_useJIT=0'],
  );
  const [, engine1] = execEnvs(['--version'], ['BUN_JSC_useJIT=1']);
  assert.equal(
    engine1!.filter((e) => e.startsWith('BUN_JSC_useJIT=')),
    ['BUN_JSC_useJIT=1'],
    "the caller's own setting, once",
  );

  // `ps` is run with hako's own environment: a stand-in on PATH records it.
  const { id } = running();
  try {
    const bin = mkdtempSync(path.join(env.dir, 'psbin-'));
    const seen = path.join(bin, 'env.txt');
    writeFileSync(path.join(bin, 'ps'), `#!/bin/sh\nenv > '${seen}'\necho 'UID PID PPID C STIME TTY TIME CMD'\n`, { mode: 0o755 });
    const r = runCaptured(['env', `PATH=${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, HAKO, '--root', env.root, 'ps', id], env.dir, 60_000);
    assert.is(r.status, 0, r.stderr);
    const got = readFileSync(seen, 'utf8');
    assert.ok(/^PATH=/m.test(got), 'the stand-in ran with an environment');
    assert.not.match(got, /^BUN_JSC_useJIT=/m);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t("the engine's own BUN_* options from the caller's environment do not reach it (BUN_OPTIONS=--preload would run any code as root)", () => {
  const dir = mkdtempSync(path.join(env.dir, 'preload-'));
  const canary = path.join(dir, 'canary');
  const preload = path.join(dir, 'preload.js');
  writeFileSync(preload, `require('node:fs').writeFileSync(${JSON.stringify(canary)}, 'ran');\n`);
  const [, engine] = execEnvs(['--version'], [`BUN_OPTIONS=--preload ${preload}`, 'BUN_INSPECT=ws://127.0.0.1:1/x']);
  assert.equal(
    engine!.filter((e) => e.startsWith('BUN_')),
    ['BUN_JSC_useJIT=0'],
  );
  const r = runCaptured(['env', `BUN_OPTIONS=--preload ${preload}`, HAKO, '--version'], env.dir, 60_000);
  assert.is(r.status, 0, r.stderr);
  assert.is(existsSync(canary), false, 'the preload ran');
  // The control: the engine run directly honours it.
  const c = runCaptured(['env', `BUN_OPTIONS=--preload ${preload}`, `${HAKO}-engine`, '--version'], env.dir, 60_000);
  assert.is(c.status, 0, c.stderr);
  assert.is(existsSync(canary), true, 'the control: the engine itself takes BUN_OPTIONS');
});

/** hako started in a directory deleted just before (sh can rmdir its own cwd). */
function fromDeletedDir(args: string[]): Result {
  const d = mkdtempSync(path.join(env.dir, 'gone-'));
  return runCaptured(['sh', '-c', 'cd "$1" && rmdir "$1" && shift && exec "$@"', 'sh', d, HAKO, '--root', env.root, ...args], env.dir, 60_000);
}

t('a deleted working directory: commands work, relative paths are refused (never resolved against /)', () => {
  const list = fromDeletedDir(['list', '-q']);
  assert.is(list.status, 0, list.stderr);
  assert.is(list.stderr, '');
  const v = fromDeletedDir(['--version']);
  assert.is(v.status, 0, v.stderr);

  const bundle = env.bundle();
  const id = uniqueId('cwd');
  const rel = `${uniqueId('hako-rel')}.pid`;
  const r = fromDeletedDir(['create', '--bundle', bundle, '--pid-file', rel, id]);
  assert.is(r.status, 1, r.stderr);
  assert.is(r.stderr, `hako: the working directory was deleted, so relative paths cannot be resolved: --pid-file ${rel} (give absolute paths)\n`);
  assert.is(existsSync(path.join('/', rel)), false, 'nothing written in /');
  assertNothingLeft(id, bundle);

  const spec = fromDeletedDir(['spec']);
  assert.is(spec.status, 1);
  assert.match(spec.stderr, /^hako: the working directory was deleted, so relative paths cannot be resolved: --bundle \. /);

  // With absolute paths all is as from anywhere else.
  const ok = fromDeletedDir(['run', '--bundle', bundle, id]);
  assert.is(ok.status, 0, ok.stderr);
  assertNothingLeft(id, bundle);
});

t("relative --bundle and --pid-file are the caller's working directory's, as runc's", () => {
  const bundle = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('rel');
  const pidName = `${id}.pid`;
  const r = runCaptured(
    [HAKO, '--root', env.root, 'create', '--bundle', path.basename(bundle), '--pid-file', pidName, id],
    env.dir,
    60_000,
    undefined,
    env.dir,
  );
  try {
    assert.is(r.status, 0, r.stderr);
    assert.match(readFileSync(path.join(env.dir, pidName), 'utf8'), /^\d+$/);
    assert.is(JSON.parse(env.hako(['state', id]).stdout).bundle, bundle);
  } finally {
    env.hako(['delete', '--force', id]);
    rmSync(path.join(env.dir, pidName), { force: true });
  }
});

t("--log-format json: every line on stderr is a JSON line with runc's level names", () => {
  // A warning (an ignored flag) and then the error.
  const r = env.hako(['--log-format', 'json', 'update', '--kernel-memory', '1M', uniqueId('nope')]);
  assert.is(r.status, 1);
  assert.equal(
    jsonLines(r.stderr).map((l) => l.level),
    ['warning', 'error'],
  );
  const lines = jsonLines(r.stderr);
  assert.match(lines[1]!.msg, /does not exist$/);
  assert.match(lines[1]!.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  // A usage error after the global flags: logged the same way (its help on stdout).
  const u = env.hako(['--log-format', 'json', 'state']);
  assert.is(u.status, 1);
  assert.equal(jsonLines(u.stderr), [{ level: 'error', msg: 'hako: "state" requires exactly 1 argument(s)', time: jsonLines(u.stderr)[0]!.time }]);
  assert.match(u.stdout, /^Incorrect Usage\./);
});

t("--log FILE: every line there in the chosen format, runc's level names; the bare message on stderr", () => {
  for (const format of ['json', 'text']) {
    const log = path.join(env.dir, uniqueId('log'));
    const id = uniqueId('nope');
    const r = env.hako(['--log', log, '--log-format', format, 'update', '--kernel-memory', '1M', id]);
    assert.is(r.status, 1);
    // podman shows this after "hako: " of its own.
    assert.is(r.stderr, `container "${id}" does not exist\n`);
    const text = readFileSync(log, 'utf8');
    if (format === 'json') {
      assert.equal(
        jsonLines(text).map((l) => l.level),
        ['warning', 'error'],
      );
    } else {
      const lines = text.trim().split('\n');
      assert.is(lines.length, 2, text);
      assert.match(lines[0]!, /^time="[^"]+" level=warning msg="Setting --kernel-memory is ignored and will be removed"$/);
      assert.match(lines[1]!, /^time="[^"]+" level=error msg="container \\"[^"\\]+\\" does not exist"$/);
    }
  }
});

t('usage errors have one "hako: " prefix', () => {
  const r = env.hako(['state']);
  assert.is(r.stderr, 'hako: "state" requires exactly 1 argument(s)\n');
  const f = env.hako(['list', '--bogus']);
  assert.is(f.stderr, 'hako: flag provided but not defined: -bogus\n');
  const withLog = env.hako(['--log', path.join(env.dir, uniqueId('log')), 'kill']);
  assert.is(withLog.stderr, 'hako: "kill" requires a minimum of 1 argument(s)\n');
});

t("state ends with the closing brace, no newline (runc's output)", () => {
  const { id } = running();
  try {
    const r = env.hako(['state', id]);
    assert.is(r.status, 0, r.stderr);
    assert.ok(r.stdout.endsWith('\n}'), JSON.stringify(r.stdout.slice(-5)));
    assert.is(JSON.parse(r.stdout).id, id);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t('spec --bundle naming no directory: one clear line, exit 1', () => {
  const missing = path.join(env.dir, uniqueId('missing'));
  const r = env.hako(['spec', '--bundle', missing]);
  assert.is(r.status, 1);
  assert.is(r.stderr, `hako: bundle directory ${missing}: no such file or directory\n`);
  const file = path.join(env.dir, uniqueId('file'));
  writeFileSync(file, '');
  const f = env.hako(['spec', '--bundle', file]);
  assert.is(f.status, 1);
  assert.is(f.stderr, `hako: bundle directory ${file}: not a directory\n`);
});

t.run();
