// The source of a bind checked by name, then mounted by name: the check
// that only a procfs may be bound onto /proc (CVE-2019-16884's class: a
// fake /proc makes the LSM label writes land in ordinary files) looked at
// the source path, then mount(2) resolved it again. A co-tenant exchanging
// a name on the source's path in between gets another directory mounted
// as the container's /proc. hako (the old mount_one too) had that window.
// hako now opens the source once and both checks it (fstatfs) and clones
// it (open_tree) through that fd: what is checked is what is mounted.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { Env, uniqueId } from '../helpers.js';
import { Canary } from './lib.js';
import { buildAttacks, CONTROL_ATTEMPTS, control, Racer, racingDir } from './mount-lib.js';

const t = suite('mount-source-race');
let env: Env;
let tools: string;
t.before(() => {
  env = new Env();
  tools = buildAttacks(env);
});
t.after(() => env.cleanup());

const CREATES = 30;
const ATTEMPTS = CONTROL_ATTEMPTS;

t('a bind onto /proc whose source a co-tenant races is a procfs or refused, never the other directory', () => {
  const canary = new Canary(env, 'fake-proc'); // a directory posing as /proc
  // The shared volume: p -> the host's /proc (what the config means), q -> the fake.
  const { dir } = racingDir(path.join(env.dir, uniqueId('shared')));
  symlinkSync('/proc', path.join(dir, 'p'));
  symlinkSync(canary.dir, path.join(dir, 'q'));
  const b = env.bundle((c) => {
    c.process.args = ['sh', '-c', 'cat /proc/secret 2>/dev/null; stat -f -c %T /proc'];
    c.mounts = c.mounts.map((m: any) =>
      m.destination === '/proc' ? { destination: '/proc', type: 'bind', source: path.join(dir, 'p'), options: ['bind'] } : m,
    );
  });
  const racer = new Racer(tools, dir, 'p', 'q');
  const outcomes = new Map<string, number>();
  try {
    for (let i = 0; i < CREATES; i++) {
      const r = env.hako(['run', '--bundle', b, uniqueId('c')]);
      const key = r.status === 0 ? `ran: ${r.stdout.trim()}` : r.stderr.replace(/container "[^"]+"/, 'container').trim();
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
  } finally {
    racer.stop();
  }
  for (const k of outcomes.keys()) {
    assert.not.ok(k.includes(canary.content.trim()), `the fake /proc was mounted: ${k}`);
    assert.ok(k === 'ran: proc' || /"\/proc" cannot be mounted because it is not of type proc/.test(k), k);
  }
  assert.ok(outcomes.has('ran: proc'), [...outcomes.keys()].join('\n'));
  assert.ok(canary.intact());

  // CONTROL: statfs the source by name, then mount it by name, in a
  // private mount namespace, under the same race.
  const root = path.join(env.dir, uniqueId('control-root'));
  mkdirSync(path.join(root, 'proc'), { recursive: true });
  const racer2 = new Racer(tools, dir, 'p', 'q');
  let won: number;
  try {
    won = control(tools, 'source-by-path', [root, path.join(dir, 'p')], ATTEMPTS, racer2);
  } finally {
    racer2.stop();
  }
  assert.ok(won > 0, `the control never mounted the fake /proc in ${ATTEMPTS} attempts`);
  console.log(
    `  mount-source-race: control won at attempt ${won}; hako: ${CREATES} creates, ${[...outcomes].map(([k, n]) => `${n}× ${k.slice(0, 40)}`).join(', ')}`,
  );
});

t.run();
