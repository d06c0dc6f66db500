// runc GHSA-g54h-m393-cpwq ("devices resource list treated as a blacklist
// by default"): a linux.resources.devices list without a leading deny-all
// left every other device allowed, so a container with CAP_MKNOD could make
// a node for a host disk and write it.
// hako: the device cgroup always starts from deny-all, then allows the
// default devices and the config's rules in order (src/cgroups/devices.ts;
// v1 files or the v2 eBPF program).
// Canary: a loop device backed by a canary file; the container makes a node
// for it and writes through it.
// Control: a config that does allow every device (as --privileged asks):
// the same write lands in the canary.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { Env } from '../helpers.js';
import { Canary } from './lib.js';

const t = suite('devices list treated as a deny list');
let env: Env;
const loops: string[] = [];
t.before(() => {
  env = new Env();
});
t.after(() => {
  for (const l of loops) spawnSync('losetup', ['-d', l]);
  env.cleanup();
});

/** A canary file of 4 KiB behind a loop device; the device's major and minor. */
function diskCanary(name: string): { canary: Canary; major: number; minor: number } {
  const canary = new Canary(env, name, { file: 'disk', bytes: Buffer.alloc(4096, 'c') });
  const r = spawnSync('losetup', ['--find', '--show', canary.file], { encoding: 'utf8' });
  assert.is(r.status, 0, `losetup: ${r.stderr}`);
  const dev = r.stdout.trim();
  loops.push(dev);
  const rdev = statSync(dev).rdev;
  return { canary, major: Math.floor(rdev / 256) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}

function attack(major: number, minor: number, devices: unknown[] | undefined) {
  return env.sh(`mknod /dev/evil b ${major} ${minor} && printf pwned | dd of=/dev/evil conv=notrunc,fsync`, (c) => {
    for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_MKNOD');
    if (devices === undefined) delete c.linux.resources.devices;
    else c.linux.resources.devices = devices;
  });
}

t('control: a config that allows every device lets the write through to the canary', () => {
  const { canary, major, minor } = diskCanary('blk-ctl');
  const r = attack(major, minor, [{ allow: true, access: 'rwm' }]);
  assert.is(r.status, 0, r.stderr);
  assert.not.ok(canary.intact(), 'written through the node');
});

const LISTS: Array<[string, unknown[] | undefined]> = [
  ['no devices list', undefined],
  ['an empty list', []],
  ['only an allow rule for another device', [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]],
  ['only a deny rule for another device', [{ allow: false, type: 'b', major: 8, access: 'rwm' }]],
];

for (const [what, list] of LISTS) {
  t(`${what}: the node is made but cannot be opened; the canary is untouched`, () => {
    const { canary, major, minor } = diskCanary(`blk-${loops.length}`);
    const r = attack(major, minor, list);
    assert.is.not(r.status, 0, r.stdout);
    assert.match(r.stderr, /Operation not permitted/, r.stderr);
    assert.ok(canary.intact(), 'the canary is untouched');
  });
}

t.run();
