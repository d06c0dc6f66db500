// Values the fuzz test pushed past what hako can carry: refused with the
// JSON path, or shortened for display, never an internal error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildPlan, PlanError } from '../../src/launch/plan.js';
import { clip, MAX_LINE } from '../../src/log.js';

function spec(devices: unknown[]): any {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { args: ['sh'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }], devices },
  };
}
const opts = { id: 'x', bundle: '/b', fifoPath: '/run/hako/x/exec.fifo' };

test('linux.devices: major and minor beyond the kernel device numbers are refused at their path', () => {
  const refused = (d: any, at: string) =>
    assert.throws(
      () => buildPlan(spec([{ path: '/dev/x', type: 'c', ...d }]), opts),
      (e: Error) => e instanceof PlanError && e.message.startsWith(`config.json: ${at}: must be between 0 and`),
    );
  refused({ major: -2147483649, minor: 1 }, '/linux/devices/0/major');
  refused({ major: 4096, minor: 1 }, '/linux/devices/0/major');
  refused({ major: 1, minor: 2 ** 63 }, '/linux/devices/0/minor');
  refused({ major: 1, minor: -1 }, '/linux/devices/0/minor');
  buildPlan(spec([{ path: '/dev/x', type: 'c', major: 4095, minor: 0xfffff }]), opts);
});

test('clip: long messages keep their start and their end', () => {
  assert.is(clip('short'), 'short');
  const long = 'container "x": /mounts/0/destination: ' + 'x'.repeat(20_000) + ': no such file or directory';
  const c = clip(long);
  assert.ok(c.length <= MAX_LINE);
  assert.ok(c.startsWith('container "x": /mounts/0/destination: xxx'));
  assert.ok(c.endsWith('xxx: no such file or directory'));
  assert.match(c, /…\(\d+ characters left out\)…/);
});

test.run();
