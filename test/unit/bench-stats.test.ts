// The benchmark's pure helpers: statistics, the memory-limit bisection and
// the parsing of /proc and /usr/bin/time output.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bisectSmallest, cgroupPathOf, fmt, fmtBytes, median, parseStatusKb, parseTimeMaxRss, percentile, ratio, summarize, table } from '../../bench/stats.js';

test('median of odd and even counts, unsorted input left alone', () => {
  const xs = [5, 1, 3];
  assert.is(median(xs), 3);
  assert.equal(xs, [5, 1, 3]);
  assert.is(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('percentile is nearest-rank', () => {
  const xs = Array.from({ length: 10 }, (_, i) => i + 1);
  assert.is(percentile(xs, 90), 9);
  assert.is(percentile(xs, 100), 10);
  assert.is(percentile(xs, 0), 1);
  assert.is(percentile([7], 50), 7);
});

test('summarize', () => {
  assert.equal(summarize([3, 1, 2]), { n: 3, median: 2, min: 1, p90: 3, max: 3 });
});

test('ratio refuses missing or non-positive baselines', () => {
  assert.is(ratio(10, 5), 2);
  assert.is(ratio(null, 5), null);
  assert.is(ratio(5, 0), null);
  assert.is(ratio(5, Number.NaN), null);
});

test('fmt keeps 3 significant digits without exponents', () => {
  assert.is(fmt(1234.5), '1235');
  assert.is(fmt(123.45), '123');
  assert.is(fmt(12.345), '12.3');
  assert.is(fmt(0.012345), '0.0123');
  assert.is(fmt(null), '-');
  assert.is(fmt(0), '0');
  assert.is(fmtBytes(2.5 * 1024 * 1024), '2.50 MiB');
  assert.is(fmtBytes(512 * 1024), '512 KiB');
});

test('table aligns columns', () => {
  const t = table(
    ['a', 'bb'],
    [
      ['xxx', '1'],
      ['y', '22'],
    ],
  ).split('\n');
  assert.equal(t, ['a    bb', '---  --', 'xxx   1', 'y    22']);
});

test('bisectSmallest finds the threshold at step granularity', async () => {
  for (const threshold of [1, 64, 65, 1000, 1023, 1024]) {
    const seen: number[] = [];
    const r = await bisectSmallest(0, 1024, 1, async (x) => {
      seen.push(x);
      return x >= threshold;
    });
    assert.is(r.value, threshold, `threshold ${threshold}`);
    assert.ok(seen.length <= 11);
  }
  // 64 KiB steps: the answer is the first multiple at or above the threshold
  const K = 1024;
  const r = await bisectSmallest(0, 64 * K * K, 64 * K, async (x) => x >= 2_400_000);
  assert.is(r.value % (64 * K), 0);
  assert.ok(r.value >= 2_400_000 && r.value - 64 * K < 2_400_000);
  // nothing below hi passes
  assert.is((await bisectSmallest(0, 100, 10, async (x) => x >= 100)).value, 100);
});

test('parseStatusKb reads /proc/PID/status and smaps_rollup fields', () => {
  const status = 'Name:\tsleep\nVmHWM:\t    1000 kB\nVmRSS:\t     612 kB\n';
  assert.is(parseStatusKb(status, 'VmRSS'), 612);
  assert.is(parseStatusKb(status, 'VmHWM'), 1000);
  assert.is(parseStatusKb(status, 'VmSwap'), null);
  assert.is(parseStatusKb('Rss:                 900 kB\nPss:                 450 kB\nPss_Anon: 1 kB\n', 'Pss'), 450);
});

test('cgroupPathOf: v1 controller lines first, else the v2 line', () => {
  const hybrid = '9:name=systemd:/x\n4:memory:/mem/path\n2:cpu,cpuacct:/c\n0::/unified\n';
  assert.equal(cgroupPathOf(hybrid, 'memory'), { version: 1, path: '/mem/path' });
  assert.equal(cgroupPathOf(hybrid, 'cpuacct'), { version: 1, path: '/c' });
  assert.equal(cgroupPathOf(hybrid, 'pids'), { version: 2, path: '/unified' });
  assert.equal(cgroupPathOf('0::/system.slice/x\n', 'memory'), { version: 2, path: '/system.slice/x' });
  assert.is(cgroupPathOf('', 'memory'), null);
});

test('parseTimeMaxRss takes the last number line of GNU time output', () => {
  assert.is(parseTimeMaxRss('9876\n'), 9876);
  assert.is(parseTimeMaxRss('Command exited with non-zero status 1\n9024\n'), 9024);
  assert.is(parseTimeMaxRss('Command terminated by signal 9\n'), null);
});

test.run();
