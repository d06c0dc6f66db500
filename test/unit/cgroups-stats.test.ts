// The stats parsers and runc's JSON encoding (Go's omitempty, sorted map
// keys, 64-bit numbers printed exactly).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  emptyStats,
  hugePageSizesFrom,
  parseBlkio,
  parseKeyValues,
  parseList,
  parsePsi,
  parseUint,
  statsData,
  statsEventJson,
  toJson,
  v1Stats,
  v2Stats,
} from '../../src/cgroups/stats.js';

const files = (m: Record<string, string>) => (f: string) => m[f];

test('numbers: "max" is uint64 max, negatives read as 0, garbage throws', () => {
  assert.is(parseUint('max\n'), 18446744073709551615n);
  assert.is(parseUint(' 42 '), 42n);
  assert.is(parseUint('-1'), 0n);
  assert.is(parseUint('9223372036854771712'), 9223372036854771712n);
  assert.throws(() => parseUint('1.5'), /not a number/);
});

test('key/value files, CPU lists, PSI, blkio lines, huge page names', () => {
  assert.equal(
    [...parseKeyValues('a 1\nb max\nbad\nc 1 2\n\nd -3\n')],
    [
      ['a', 1n],
      ['b', 18446744073709551615n],
      ['d', 0n],
    ],
  );
  assert.equal(parseList('0-3,7\n'), [0, 1, 2, 3, 7]);
  assert.equal(parseList('\n'), []);
  assert.throws(() => parseList('3-1'), /not a CPU list/);
  assert.equal(parsePsi('some avg10=1.50 avg60=0.00 avg300=0.25 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n'), {
    some: { avg10: 1.5, avg60: 0, avg300: 0.25, total: 12345n },
    full: { avg10: 0, avg60: 0, avg300: 0, total: 7n },
  });
  assert.equal(parseBlkio('8:0 Read 10\n8:0 4096\nTotal 10\n'), [
    { major: 8n, minor: 0n, op: 'Read', value: 10n },
    { major: 8n, minor: 0n, op: '', value: 4096n },
  ]);
  assert.equal(hugePageSizesFrom(['hugepages-2048kB', 'hugepages-1048576kB', 'hugepages-64kB', 'other']), ['2MB', '1GB', '64KB']);
});

test('v1 blkio: the first group with entries wins (BFQ before CFQ before throttle)', () => {
  const s = v1Stats(
    {
      blkio: files({
        'blkio.bfq.sectors_recursive': '',
        'blkio.bfq.io_serviced_recursive': '8:0 Read 2\n',
        'blkio.bfq.io_service_bytes_recursive': '8:0 Read 8192\n',
        'blkio.throttle.io_serviced_recursive': '8:0 Read 99\n',
      }),
    },
    [],
  );
  assert.equal(s.blkio.ioServicedRecursive, [{ major: 8n, minor: 0n, op: 'Read', value: 2n }]);
  assert.equal(s.blkio.ioServiceBytesRecursive, [{ major: 8n, minor: 0n, op: 'Read', value: 8192n }]);
});

test('v1 hugetlb: reservation counters when the kernel has them', () => {
  const s = v1Stats(
    {
      hugetlb: files({
        'hugetlb.2MB.rsvd.usage_in_bytes': '4194304',
        'hugetlb.2MB.rsvd.max_usage_in_bytes': '6291456',
        'hugetlb.2MB.rsvd.failcnt': '1',
        'hugetlb.1GB.usage_in_bytes': '0',
        'hugetlb.1GB.max_usage_in_bytes': '0',
        'hugetlb.1GB.failcnt': '0',
      }),
    },
    ['2MB', '1GB'],
  );
  assert.equal(s.hugetlb, { '2MB': { usage: 4194304n, max: 6291456n, failcnt: 1n }, '1GB': { usage: 0n, max: 0n, failcnt: 0n } });
});

test('v2: pids without the controller are counted from cgroup.procs; swap is reported as memory+swap', () => {
  const s = v2Stats(
    files({
      'cgroup.procs': '1\n2\n3\n',
      'memory.stat': 'file 10\nanon 20\n',
      'memory.current': '100',
      'memory.max': '1000',
      'memory.swap.current': '5',
      'memory.swap.max': '50',
      'memory.pressure': 'some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
    }),
    [],
  );
  assert.equal(s.pids, { current: 3n, limit: 0n });
  assert.equal(s.memory.usage, { usage: 100n, limit: 1000n, max: 0n, failcnt: 0n });
  assert.equal(s.memory.swap, { usage: 105n, limit: 1050n, max: 0n, failcnt: 0n });
  assert.is(s.memory.cache, 10n);
  assert.ok(s.memory.psi);
  const json = JSON.parse(statsEventJson('x', s).replace(/:(\d{16,})/g, ':"$1"'));
  assert.equal(json.data.memory.psi, { some: { avg10: 0, avg60: 0, avg300: 0, total: 1 }, full: { avg10: 0, avg60: 0, avg300: 0, total: 0 } });
  assert.equal(Object.keys(json.data.memory.raw), ['anon', 'file'], 'map keys sorted like Go');
});

test('JSON: empty stats in runc 1.1 layout; bigints verbatim', () => {
  assert.is(
    toJson(statsData(emptyStats())),
    '{"cpu":{"usage":{"kernel":0,"user":0},"throttling":{}},"cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"sched_relax_domain_level":0},' +
      '"memory":{"usage":{"limit":0,"failcnt":0},"swap":{"limit":0,"failcnt":0},"kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0}},"pids":{},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null}',
  );
  assert.is(toJson({ a: 18446744073709551615n, b: [1n, 'x'], c: undefined }), '{"a":18446744073709551615,"b":[1,"x"]}');
});

test.run();
