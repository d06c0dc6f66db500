import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closingLines, summarise } from '../summary.js';
import { skipLine } from '../skip.js';

const block = (total: number, passed: number, skipped: number) =>
  `\n  Total:     ${total}\x1b[32m\n  Passed:    ${passed}\x1b[39m\n  Skipped:   ${skipped}\n  Duration:  12.5ms\n`;

test('sums the lanes, and a run-time skip is a skip, not a pass', () => {
  const out = [block(10, 10, 0), '\x1b[90m• \x1b[39m' + skipLine('lsm', 'apparmorProfile', 'AppArmor is not enabled'), block(5, 4, 0), block(3, 2, 1)].join(
    '\n',
  );
  assert.equal(summarise(out), { passed: 15, failed: 1, skipped: 2, lanes: [] });
});

test('the closing line is the plain "N passed, N failed, N skipped" one; a lane skipped whole is named', () => {
  const t = summarise(`${block(2, 2, 0)}\ntest-v2: SKIPPED: the cgroup v2 VM lane cannot run on this machine\n`);
  assert.equal(closingLines(t), ['tests: lane test-v2 skipped as a whole (its reason is above)', '2 passed, 0 failed, 1 skipped']);
  assert.match(closingLines(t).at(-1)!, /^\d+ passed, \d+ failed, \d+ skipped$/);
});

test('a test title holding parentheses or the arrow still counts once', () => {
  const out = block(1, 1, 0) + '\n' + skipLine('x', 'a (b) › c', 'why (really)');
  assert.equal(summarise(out).skipped, 1);
});

test.run();
