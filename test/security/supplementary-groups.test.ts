// Supplementary groups (Moby CVE-2022-36109, containerd CVE-2023-25173):
// a container process that kept groups it was not given could read files
// that those groups may read (or that deny them, negative permissions, it
// could no longer be denied); the engines computed the list, the runtime
// must apply exactly it and drop its own.
// hako: setgroups() with exactly user.additionalGids (none if absent)
// before the uid switch, for the init and for exec'd processes, whatever
// groups hako itself runs with.
// Canary: a file readable by one group only (mode 0640).
// Control: a uid-1000 host process that kept that group reads the canary.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync } from 'node:fs';
import { Env, HAKO, uniqueId } from '../helpers.js';
import { Canary } from './lib.js';

const t = suite('supplementary groups of the runtime');
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? 'setpriv';
const GROUP = 4242; // the canary's group, held by hako's caller
let env: Env;
let canary: Canary;
t.before(() => {
  env = new Env();
  canary = new Canary(env, 'groups');
  chownSync(canary.file, 0, GROUP);
  chmodSync(canary.file, 0o640);
});
t.after(() => env.cleanup());

const PROBE = 'grep ^Groups: /proc/self/status; cat /canary/secret; true';

t('control: a uid-1000 process that kept the group reads the canary', () => {
  const r = spawnSync(SETPRIV, ['--reuid', '1000', '--regid', '1000', '--groups', String(GROUP), 'cat', canary.file], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, canary.content);
});

t('run and exec by a hako holding the group: the process has exactly additionalGids', () => {
  const b = env.bundle((c) => {
    c.process.user = { uid: 1000, gid: 1000 };
    c.process.args = ['sh', '-c', `${PROBE}; sleep 1000`];
    c.mounts.push({ destination: '/canary', type: 'bind', source: canary.dir, options: ['rbind', 'ro'] });
  });
  const id = uniqueId('groups');
  const asCaller = (args: string[], stdio: 'pipe' | 'ignore' = 'pipe') =>
    spawnSync(SETPRIV, ['--groups', `${GROUP},4343`, HAKO, '--root', env.root, ...args], { encoding: 'utf8', timeout: 60_000, stdio });
  // Detached: the container keeps hako's stdio, so none that we wait on.
  assert.is(asCaller(['run', '-d', '--bundle', b, id], 'ignore').status, 0);
  try {
    for (const [what, args, groups] of [
      ['exec', ['exec', id, 'sh', '-c', PROBE], ''],
      ['exec --additional-gids 5', ['exec', '--additional-gids', '5', id, 'sh', '-c', PROBE], '5'],
      ['exec --user 1000:1000', ['exec', '--user', '1000:1000', id, 'sh', '-c', PROBE], ''],
    ] as const) {
      const x = asCaller([...args]);
      assert.is(x.status, 0, `${what}: ${x.stderr}`);
      assert.match(x.stdout, new RegExp(`^Groups:\\s*${groups}\\s*$`, 'm'), `${what}: ${x.stdout}`);
      assert.not.ok(x.stdout.includes(canary.content.trim()), `${what}: the canary stays unread`);
    }
    // The init's own groups, through the host's /proc.
    const pid = JSON.parse(env.hako(['state', id]).stdout).pid;
    const status = spawnSync('grep', ['^Groups:', `/proc/${pid}/status`], { encoding: 'utf8' }).stdout;
    assert.match(status, /^Groups:\s*$/m, `the init: ${status}`);
  } finally {
    env.hako(['delete', '--force', id]);
  }
  assert.ok(canary.intact());
});

t.run();
