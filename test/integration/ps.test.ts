// ps: the container's processes as host pids (containerd's `ps --format
// json`) and as ps(1) rows, checked against what /proc says.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Env, uniqueId } from '../helpers.js';

const t = suite('ps');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t('json: the init and an exec process, as host pids', () => {
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('ps');
  assert.is(env.hako(['run', '-d', '--bundle', b, id], { stdio: 'ignore' }).status, 0);
  try {
    const init = JSON.parse(env.hako(['state', id]).stdout).pid;
    const pidFile = path.join(env.dir, `${id}.exec.pid`);
    assert.is(env.hako(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '999'], { stdio: 'ignore' }).status, 0);
    const execPid = Number(readFileSync(pidFile, 'utf8'));
    const r = env.hako(['ps', '--format', 'json', id]);
    assert.is(r.status, 0);
    assert.is(r.stderr, '', 'containerd reads stdout and stderr through one pipe');
    assert.match(r.stdout, /^\[\d+(,\d+)*\]\n$/);
    assert.equal(
      [...JSON.parse(r.stdout)].sort((x: number, y: number) => x - y),
      [init, execPid].sort((x, y) => x - y),
    );
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t('table: the header and the rows of the container processes only; ps arguments pass through', () => {
  const b = env.bundle((c) => (c.process.args = ['sleep', '1000']));
  const id = uniqueId('ps');
  assert.is(env.hako(['run', '-d', '--bundle', b, id], { stdio: 'ignore' }).status, 0);
  try {
    const init = JSON.parse(env.hako(['state', id]).stdout).pid;
    const r = env.hako(['ps', id]);
    assert.is(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/, 'ps -ef by default');
    assert.is(lines.length, 2);
    assert.match(lines[1]!, new RegExp(`^\\S+\\s+${init}\\s+.*sleep 1000$`));
    const custom = env.hako(['ps', id, '-o', 'pid,comm']);
    assert.is(custom.status, 0, custom.stderr);
    assert.equal(
      custom.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.trim().split(/\s+/)),
      [
        ['PID', 'COMMAND'],
        [String(init), 'sleep'],
      ],
    );
    const noPid = env.hako(['ps', id, '-o', 'comm']);
    assert.is(noPid.status, 1);
    assert.match(noPid.stderr, /couldn't find PID field in ps output/);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t('a stopped container has no processes (null); bad format and missing containers fail', async () => {
  const b = env.bundle((c) => (c.process.args = ['true']));
  const id = uniqueId('ps');
  assert.is(env.hako(['run', '-d', '--bundle', b, id], { stdio: 'ignore' }).status, 0);
  try {
    for (let i = 0; i < 200 && JSON.parse(env.hako(['state', id]).stdout).status !== 'stopped'; i++) await sleep(10);
    assert.is(env.hako(['ps', '--format', 'json', id]).stdout, 'null\n');
    const bad = env.hako(['ps', '--format', 'yaml', id]);
    assert.is(bad.status, 1);
    assert.match(bad.stderr, /invalid format option/);
    const gone = env.hako(['ps', 'no-such-container']);
    assert.is(gone.status, 1);
    assert.match(gone.stderr, /does not exist/);
  } finally {
    env.hako(['delete', '--force', id]);
  }
});

t.run();
