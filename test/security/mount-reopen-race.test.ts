// A read-only bind made writable by a race (hako issue 10, item 2): the old
// mount_one bound the volume through the target's fd, then found the mount
// again by path to remount it read-only. A co-tenant exchanging the target
// directory with a symlink to another mount in between made the read-only
// remount land on that other mount, and the volume stayed writable.
// hako now makes the bind a detached mount (open_tree), makes it read-only
// there (mount_setattr) and attaches that very mount onto the target's fd
// (move_mount): there is nothing left to find again.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { Env, uniqueId } from '../helpers.js';
import { Canary } from './lib.js';
import { buildAttacks, control, mountinfo, Racer } from './mount-lib.js';

const t = suite('mount-reopen-race');
let env: Env;
let tools: string;
t.before(() => {
  env = new Env();
  tools = buildAttacks(env);
});
t.after(() => env.cleanup());

// Creates under the race; the issue saw the old code lose within 4-25.
const CREATES = 40;
// Attempts of the control; it wins within a few.
const ATTEMPTS = 200;

/** V (the shared volume) with ro/ (the mount point) and lnk -> /w, the co-tenant's other mount. */
function sharedVolume(): string {
  const v = path.join(env.dir, uniqueId('shared'));
  mkdirSync(path.join(v, 'ro'), { recursive: true });
  symlinkSync('/w', path.join(v, 'lnk'));
  return v;
}

t('a read-only bind stays read-only while a co-tenant exchanges its mount point with a symlink to another mount', () => {
  const vol = new Canary(env, 'vol'); // mounted read-only at /v/ro: must never be written
  const other = new Canary(env, 'other'); // the co-tenant's writable mount at /w: must stay writable
  const v = sharedVolume();
  const ino = statSync(vol.dir).ino;
  const b = env.bundle((c) => {
    // Every mount of the volume, wherever it ended up: try to write into
    // it. The racer goes on renaming, so a name may lead elsewhere by the
    // time it is used: write only once in the volume's own directory.
    const probe = `cd "$mp" 2>/dev/null && [ "$(stat -c %i .)" = ${ino} ] && touch pwned 2>/dev/null && echo "WROTE $mp"`;
    c.process.args = ['sh', '-c', `awk '$4 ~ /canary-vol$/ {print $5}' /proc/self/mountinfo | while read mp; do (${probe}); done; cat /proc/self/mountinfo`];
    c.mounts.push(
      { destination: '/v', type: 'bind', source: v, options: ['rbind'] },
      { destination: '/w', type: 'bind', source: other.dir, options: ['rbind'] },
      { destination: '/v/ro', type: 'bind', source: vol.dir, options: ['rbind', 'ro'] },
    );
  });
  const racer = new Racer(tools, v, 'ro', 'lnk');
  const bad: string[] = [];
  let failed = 0;
  try {
    for (let i = 0; i < CREATES; i++) {
      const r = env.hako(['run', '--bundle', b, uniqueId('race')]);
      if (r.status !== 0) {
        // A create may fail; it must never succeed with the wrong mounts.
        failed++;
        continue;
      }
      if (/WROTE/.test(r.stdout)) bad.push(`create ${i}: the volume was writable: ${r.stdout.match(/WROTE .*/)![0]}`);
      for (const m of mountinfo(r.stdout)) {
        const ro = /^ro\b/.test(m.opts);
        if (m.root.endsWith('/canary-vol') && !ro) bad.push(`create ${i}: the volume is mounted writable at ${m.point}`);
        if (m.root.endsWith('/canary-other') && ro) bad.push(`create ${i}: the co-tenant's mount at ${m.point} became read-only`);
      }
    }
  } finally {
    racer.stop();
  }
  assert.equal(bad, []);
  assert.ok(failed < CREATES, 'some creates ran');
  assert.ok(vol.intact(), `the volume was written: ${vol.extra()}`);
  assert.ok(other.intact(), `the co-tenant's mount was written: ${other.extra()}`);

  // CONTROL: the old strategy (bind through the target's fd, find the
  // mount again by path, remount it read-only) under the same race.
  const root = path.join(env.dir, uniqueId('control-root'));
  mkdirSync(path.join(root, 'v'), { recursive: true });
  mkdirSync(path.join(root, 'w'));
  const racer2 = new Racer(tools, v, 'ro', 'lnk');
  let won: number;
  try {
    won = control(tools, 'reopen', [root, v, other.dir, vol.dir], ATTEMPTS);
  } finally {
    racer2.stop();
  }
  assert.ok(won > 0, `the control never left the volume writable in ${ATTEMPTS} attempts`);
  console.log(`  mount-reopen-race: control won at attempt ${won}; hako: ${CREATES} creates, ${failed} failed, none writable`);
});

t.run();
