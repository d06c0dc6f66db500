// After `create` returns, the init belongs to the caller's subreaper (as
// with conmon and containerd-shim), which reaps it and reads its status.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Env, REPO, uniqueId } from '../helpers.js';

const t = suite('subreaper');
let env: Env;
t.before(() => {
  env = new Env();
});
t.after(() => env.cleanup());

t('the init is reparented to the subreaper, which gets its exit status', async () => {
  const { native } = await import(path.join(REPO, 'out/src/native.js'));
  native().setChildSubreaper(true);
  try {
    const b = env.bundle((c) => (c.process.args = ['sh', '-c', 'read x < /dev/null; exit 5']));
    const id = uniqueId('reap');
    assert.is(env.hako(['create', '--bundle', b, id]).status, 0);
    const pid = JSON.parse(env.hako(['state', id]).stdout).pid;
    const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    assert.is(ppid, process.pid, 'the init is our child now');
    assert.is(env.hako(['start', id]).status, 0);
    const r = await native().waitpidAsync(pid);
    assert.is(r.exitCode, 5);
    assert.is(JSON.parse(env.hako(['state', id]).stdout).status, 'stopped');
    assert.is(env.hako(['delete', id]).status, 0);
  } finally {
    native().setChildSubreaper(false);
  }
});

t.run();
