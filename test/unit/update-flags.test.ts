// `update`'s flags → LinuxResources (runc's update.go), and go-units'
// RAMInBytes, whose table of cases comes from go-units' own tests.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseArgs, type UpdateOptions } from '../../src/cli/args.js';
import { ramInBytes, updateRequest, UpdateFlagError } from '../../src/cli/update-flags.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Parses a real `update` command line, as main.ts gets it. */
function req(...flags: string[]) {
  const p = parseArgs(['update', ...flags, 'ctr']);
  assert.is(p.command, 'update');
  return updateRequest(p.options as UpdateOptions, p.explicit.options);
}

test('RAMInBytes: binary units, any case, optional b/ib, one space', () => {
  const ok: Array<[string, number]> = [
    ['32', 32],
    ['32b', 32],
    ['32B', 32],
    ['32k', 32 * KiB],
    ['32K', 32 * KiB],
    ['32kb', 32 * KiB],
    ['32Kb', 32 * KiB],
    ['32KiB', 32 * KiB],
    ['32Mb', 32 * MiB],
    ['32Gb', 32 * GiB],
    ['32Tb', 32 * 1024 * GiB],
    ['32Pb', 32 * 1024 * 1024 * GiB],
    ['32PB', 32 * 1024 * 1024 * GiB],
    ['32P', 32 * 1024 * 1024 * GiB],
    ['512m', 512 * MiB],
    ['1g', GiB],
    ['1.5GiB', 1.5 * GiB],
    ['32.3', 32],
    ['32.3 mb', Math.trunc(32.3 * MiB)],
    ['0.3MB', Math.trunc(0.3 * MiB)],
    ['100 k', 100 * KiB],
    ['0', 0],
    ['1e3', 1000],
  ];
  for (const [s, n] of ok) assert.is(ramInBytes(s), n, s);
});

test('RAMInBytes: go-units errors', () => {
  const bad: Array<[string, RegExp]> = [
    ['', /^invalid size: ''$/],
    ['hello', /^invalid size: 'hello'$/],
    ['-32', /^invalid size: '-32'$/],
    [' 32 ', /strconv.ParseFloat: parsing " 32": invalid syntax/],
    ['32m b', /strconv.ParseFloat: parsing "32m": invalid syntax/],
    ['32bm', /^invalid suffix: 'bm'$/],
    ['12x', /^invalid suffix: 'x'$/],
    ['1mbb', /^invalid suffix: 'mbb'$/],
    ['1kib2', /strconv.ParseFloat/],
    ['1gigabyte', /^invalid suffix: 'gigabyte'$/],
    ['1mx', /^invalid suffix: 'mx'$/],
    ['1.2.3', /strconv.ParseFloat: parsing "1.2.3": invalid syntax/],
    ['9000000p', /more than 2\^63-1 bytes/],
  ];
  for (const [s, re] of bad) {
    assert.throws(
      () => ramInBytes(s),
      (e: unknown) => e instanceof UpdateFlagError && re.test(e.message),
      s,
    );
  }
});

test('flags → resources: only what is given, with runc value parsing', () => {
  const r = req(
    '--memory',
    '512m',
    '--memory-swap',
    '1g',
    '--memory-reservation',
    '256M',
    '--cpu-quota',
    '-1',
    '--cpu-period',
    '50000',
    '--cpu-share',
    '512',
    '--cpu-rt-period',
    '1000000',
    '--cpu-rt-runtime',
    '950000',
    '--cpuset-cpus',
    '0-1',
    '--cpuset-mems',
    '0',
    '--pids-limit',
    '100',
    '--blkio-weight',
    '300',
  );
  assert.is(r.file, undefined);
  assert.equal(r.warnings, []);
  assert.equal(r.resources, {
    memory: { limit: 512 * MiB, swap: GiB, reservation: 256 * MiB },
    cpu: { quota: -1, period: 50000, shares: 512, realtimePeriod: 1000000, realtimeRuntime: 950000, cpus: '0-1', mems: '0' },
    pids: { limit: 100 },
    blockIO: { weight: 300 },
  });
  assert.equal(req('--memory', '1g').resources, { memory: { limit: GiB } });
  assert.equal(req('--pids-limit', '-1').resources, { pids: { limit: -1 } });
  assert.equal(req().resources, {});
});

test('"-1" is unlimited for memory values; 0 and empty leave settings alone', () => {
  assert.equal(req('--memory', '-1', '--memory-swap', '-1').resources, { memory: { limit: -1, swap: -1 } });
  // runc: 0 means "do not change" (its drivers skip zeros).
  assert.equal(req('--memory', '0', '--cpu-quota', '0', '--pids-limit', '0', '--blkio-weight', '0', '--cpuset-cpus', '').resources, {});
  // Only "-1" itself: other negatives are sizes, and sizes are not negative.
  assert.throws(() => req('--memory', '-2'), /invalid value for memory: invalid size: '-2'/);
});

test("bad values: runc's messages", () => {
  assert.throws(() => req('--memory', '12x'), /^invalid value for memory: invalid suffix: 'x'$/);
  assert.throws(() => req('--memory-swap', 'lots'), /^invalid value for memory-swap: invalid size: 'lots'$/);
  assert.throws(() => req('--cpu-quota', 'abc'), /^invalid value for cpu-quota: strconv.ParseInt: parsing "abc": invalid syntax$/);
  assert.throws(() => req('--cpu-period', '-5'), /^invalid value for cpu-period: strconv.ParseUint: parsing "-5": invalid syntax$/);
  assert.throws(() => req('--cpu-share', '18446744073709551616'), /strconv.ParseUint: parsing "18446744073709551616": value out of range$/);
  assert.throws(() => req('--cpu-rt-runtime', '9223372036854775808'), /strconv.ParseInt: parsing "9223372036854775808": value out of range$/);
  assert.throws(() => req('--blkio-weight', '70000'), /^invalid value for blkio-weight:/);
  assert.throws(() => req('--l3-cache-schema', 'L3:0=f'), /^Intel RDT\/CAT: l3 cache schema is not enabled$/);
  assert.throws(() => req('--mem-bw-schema', 'MB:0=50'), /^Intel RDT\/MBA: memory bandwidth schema is not enabled$/);
});

test("kernel memory flags are accepted and ignored with runc's warning", () => {
  const r = req('--kernel-memory', '100m', '--kernel-memory-tcp', 'junk', '--memory', '1g');
  assert.equal(r.resources, { memory: { limit: GiB } });
  assert.equal(r.warnings, ['Setting --kernel-memory is ignored and will be removed', 'Setting --kernel-memory-tcp is ignored and will be removed']);
});

test('--resources wins over every other flag (which are then named in a warning)', () => {
  const r = req('-r', 'res.json', '--memory', 'not-even-parsed', '--pids-limit', '5');
  assert.is(r.file, 'res.json');
  assert.equal(r.resources, {});
  assert.equal(r.warnings, ['--resources is given, so --memory, --pids-limit are ignored']);
  const s = req('--resources=-');
  assert.is(s.file, '-');
  assert.equal(s.warnings, []);
});

test.run();
