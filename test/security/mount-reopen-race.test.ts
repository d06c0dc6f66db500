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
import { Env, uniqueId, type Result } from '../helpers.js';
import { Canary } from './lib.js';
import { buildAttacks, CONTROL_ATTEMPTS, compile, control, hakoWithoutNewMountApi, mountinfo, Racer, racingDir } from './mount-lib.js';

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
const ATTEMPTS = CONTROL_ATTEMPTS;

/** V (the shared volume) with, down in it, ro/ (the mount point) and lnk -> /w, the co-tenant's other mount. */
function sharedVolume(): { v: string; dir: string; rel: string } {
  const v = path.join(env.dir, uniqueId('shared'));
  const { dir, rel } = racingDir(v);
  mkdirSync(path.join(dir, 'ro'));
  symlinkSync('/w', path.join(dir, 'lnk'));
  return { v, dir, rel };
}

interface Outcome {
  bad: string[];
  failed: string[];
  elsewhere: number;
}

/**
 * CREATES runs of a container binding the volume read-only at /v/.../ro
 * while the co-tenant exchanges that ro with a symlink to its other mount
 * /w; what was wrong in any of them, and how often the racer made the
 * target lookup itself lead to /w (the volume then goes there, read-only:
 * inside the root, where the co-tenant's symlink said).
 */
function underRace(vol: Canary, other: Canary, shared: { v: string; dir: string; rel: string }, run: (bundle: string) => Result): Outcome {
  const ino = statSync(vol.dir).ino;
  const vname = path.basename(vol.dir);
  const oname = path.basename(other.dir);
  const b = env.bundle((c) => {
    // Every mount of the volume, wherever it ended up: try to write into
    // it. The racer goes on renaming, so a name may lead elsewhere by the
    // time it is used: write only once in the volume's own directory.
    const probe = `cd "$mp" 2>/dev/null && [ "$(stat -c %i .)" = ${ino} ] && touch pwned 2>/dev/null && echo "WROTE $mp"`;
    c.process.args = ['sh', '-c', `awk '$4 ~ /${vname}$/ {print $5}' /proc/self/mountinfo | while read mp; do (${probe}); done; cat /proc/self/mountinfo`];
    c.mounts.push(
      { destination: '/v', type: 'bind', source: shared.v, options: ['rbind'] },
      { destination: '/w', type: 'bind', source: other.dir, options: ['rbind'] },
      { destination: `/v/${shared.rel}/ro`, type: 'bind', source: vol.dir, options: ['rbind', 'ro'] },
    );
    // The classic fallback has no masked or readonly paths (they need the
    // new API); the race is the same without them.
    c.linux.maskedPaths = [];
    c.linux.readonlyPaths = [];
  });
  const racer = new Racer(tools, shared.dir, 'ro', 'lnk');
  const out: Outcome = { bad: [], failed: [], elsewhere: 0 };
  try {
    for (let i = 0; i < CREATES; i++) {
      const r = run(b);
      if (r.status !== 0) {
        // A create may fail; it must never succeed with the wrong mounts.
        out.failed.push(r.stderr.trim());
        continue;
      }
      if (/WROTE/.test(r.stdout)) out.bad.push(`create ${i}: the volume was writable: ${r.stdout.match(/WROTE .*/)![0]}`);
      for (const m of mountinfo(r.stdout)) {
        const ro = /^ro\b/.test(m.opts);
        if (m.root.endsWith(`/${vname}`) && !ro) out.bad.push(`create ${i}: the volume is mounted writable at ${m.point}`);
        if (m.root.endsWith(`/${oname}`) && ro) out.bad.push(`create ${i}: the co-tenant's mount at ${m.point} became read-only`);
        // The racer won the lookup of the target: the volume went onto /w (inside the root, read-only).
        if (m.root.endsWith(`/${vname}`) && m.point === '/w') out.elsewhere++;
      }
    }
  } finally {
    racer.stop();
  }
  return out;
}

t('a read-only bind stays read-only while a co-tenant exchanges its mount point with a symlink to another mount', () => {
  const vol = new Canary(env, 'vol'); // mounted read-only at /v/ro: must never be written
  const other = new Canary(env, 'other'); // the co-tenant's writable mount at /w: must stay writable
  const shared = sharedVolume();
  const o = underRace(vol, other, shared, (b) => env.hako(['run', '--bundle', b, uniqueId('race')]));
  assert.equal(o.bad, []);
  assert.equal(o.failed, [], 'with the new API nothing is left to fail');
  assert.ok(vol.intact(), `the volume was written: ${vol.extra()}`);
  assert.ok(other.intact(), `the co-tenant's mount was written: ${other.extra()}`);

  // CONTROL: the old strategy (bind through the target's fd, find the
  // mount again by path, remount it read-only) under the same race.
  const root = path.join(env.dir, uniqueId('control-root'));
  mkdirSync(path.join(root, 'v'), { recursive: true });
  mkdirSync(path.join(root, 'w'));
  const racer = new Racer(tools, shared.dir, 'ro', 'lnk');
  let won: number;
  try {
    won = control(tools, 'reopen', [root, shared.v, other.dir, vol.dir, shared.rel], ATTEMPTS, racer);
  } finally {
    racer.stop();
  }
  assert.ok(won > 0, `the control never left the volume writable in ${ATTEMPTS} attempts`);
  console.log(`  mount-reopen-race: control won at attempt ${won}; hako: ${CREATES} creates, none writable, the racer won the target ${o.elsewhere} times`);
});

t('without the new mount API (an outer seccomp profile), the classic fallback checks the mount it finds again and fails instead', () => {
  const wrapper = compile(env, 'test/fixtures/old-mount-api.c');
  const vol = new Canary(env, 'vol2');
  const other = new Canary(env, 'other2');
  const o = underRace(vol, other, sharedVolume(), (b) => hakoWithoutNewMountApi(env, wrapper, ['run', '--bundle', b, uniqueId('race-old')]));
  assert.equal(o.bad, []);
  for (const f of o.failed) assert.match(f, /mount \S+ onto \/v\/\S+\/ro: the target changed while mounting/);
  assert.ok(o.failed.length < CREATES, 'some creates ran');
  assert.ok(vol.intact(), `the volume was written: ${vol.extra()}`);
  assert.ok(other.intact(), `the co-tenant's mount was written: ${other.extra()}`);
  console.log(`  mount-reopen-race (classic fallback): ${CREATES} creates, ${o.failed.length} refused by the check, none writable`);
});

t.run();
