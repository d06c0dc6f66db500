// The pure parts of runc's behaviour in test/integration/cli-fidelity:
// relative paths after a deleted working directory, the host-terminal
// check, log level names, usage errors carrying how to log them, and pid
// files that never make directories.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { leaveDeletedCwd, relativePathFlags } from '../../src/cli/cwd.js';
import { writePidFile } from '../../src/container/pid-file.js';
import { requireHostTerminal } from '../../src/container/terminal.js';
import { HakoError } from '../../src/errors.js';
import { Logger } from '../../src/log.js';

const rel = (...argv: string[]) => relativePathFlags(parseArgs(argv));

test('relativePathFlags: the paths a deleted working directory cannot resolve', () => {
  assert.equal(rel('list'), []);
  assert.equal(rel('--root', 'r', '--log', 'l', 'list'), ['--root r', '--log l']);
  assert.equal(rel('--root', '/r', '--log', '/l', 'state', 'x'), []);
  // The bundle defaults to the working directory.
  assert.equal(rel('create', 'x'), ['--bundle .']);
  assert.equal(rel('run', '-b', '/b', '--pid-file', 'p', '--console-socket', 's', 'x'), ['--pid-file p', '--console-socket s']);
  assert.equal(rel('create', '--bundle', '/b', '--pid-file', '/p', 'x'), []);
  assert.equal(rel('exec', '--process', 'p.json', '--pid-file', '/p', 'x'), ['--process p.json']);
  assert.equal(rel('exec', 'x', 'sh'), []);
  assert.equal(rel('spec'), ['--bundle .']);
  assert.equal(rel('spec', '--bundle', '/b'), []);
  // "-" is stdin.
  assert.equal(rel('update', '-r', '-', 'x'), []);
  assert.equal(rel('update', '-r', 'res.json', 'x'), ['--resources res.json']);
});

test("leaveDeletedCwd: the entry's mark, trusted only in /, leaves the environment; a deleted directory is left for /", () => {
  const before = process.cwd();
  const dir = mkdtempSync('/tmp/hako-unit-cwd-');
  try {
    process.chdir(dir);
    const env: NodeJS.ProcessEnv = { HAKO_CWD_DELETED: '1', OTHER: 'x' };
    assert.is(leaveDeletedCwd(env), false, 'a mark given elsewhere than /');
    assert.equal(env, { OTHER: 'x' });
    assert.is(process.cwd(), dir);
    process.chdir('/');
    assert.is(leaveDeletedCwd({ HAKO_CWD_DELETED: '1' }), true);
    assert.is(leaveDeletedCwd({}), false);
    process.chdir(dir);
    rmdirSync(dir);
    assert.is(leaveDeletedCwd({}), true, "the engine's own check");
    assert.is(process.cwd(), '/');
  } finally {
    process.chdir(before);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("requireHostTerminal: only a foreground process with a terminal needs one of hako's", () => {
  const none = () => 'open /dev/tty: no such device or address';
  assert.not.throws(() => requireHostTerminal(false, false, none));
  assert.not.throws(() => requireHostTerminal(true, true, none));
  assert.not.throws(() => requireHostTerminal(true, false, () => undefined));
  try {
    requireHostTerminal(true, false, none);
    assert.unreachable('no terminal');
  } catch (e) {
    assert.instance(e, HakoError);
    assert.match((e as Error).message, /^open \/dev\/tty: no such device or address: .*--console-socket$/);
  }
});

test("Logger: runc's (logrus') level names and line shapes", () => {
  const json = new Logger({ format: 'json', debug: true });
  const w = JSON.parse(json.line('warn', 'w'));
  assert.equal(Object.keys(w), ['level', 'msg', 'time']);
  assert.is(w.level, 'warning');
  assert.is(JSON.parse(json.line('error', 'e')).level, 'error');
  assert.is(JSON.parse(json.line('debug', 'd')).level, 'debug');
  const text = new Logger({ format: 'text', debug: true });
  assert.match(text.line('warn', 'a "b"'), /^time="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" level=warning msg="a \\"b\\""\n$/);
});

test('usage errors after the global flags carry them (to be logged as they say)', () => {
  for (const argv of [
    ['--log-format', 'json', 'state'],
    ['--log-format', 'json', 'list', '--bogus'],
    ['--log-format', 'json', 'nosuchcommand'],
  ]) {
    try {
      parseArgs(argv);
      assert.unreachable(argv.join(' '));
    } catch (e) {
      assert.instance(e, UsageError);
      assert.is((e as UsageError).global?.logFormat, 'json', argv.join(' '));
    }
  }
  // Before they parsed, nothing to go by: plain text.
  try {
    parseArgs(['--bogus', 'list']);
    assert.unreachable();
  } catch (e) {
    assert.is((e as UsageError).global, undefined);
  }
});

test('writePidFile: never makes the directory; fails with which file and why', () => {
  const dir = mkdtempSync('/tmp/hako-unit-pid-');
  try {
    const file = path.join(dir, 'missing', 'sub', 'p.pid');
    assert.throws(
      () => writePidFile(file, 42),
      (e: Error) => e.message === `pid file ${file}: no such file or directory`,
    );
    assert.is(existsSync(path.join(dir, 'missing')), false);
    writePidFile(path.join(dir, 'p.pid'), 42);
    assert.is(readFileSync(path.join(dir, 'p.pid'), 'utf8'), '42');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
