// process.execCPUAffinity (src/launch/cpu-affinity.ts): the CPU lists, their
// errors with the JSON path, and which process gets which records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpuAffinityRecs, cpuCountOfList, MAX_CPUS, parseAffinity, parseCpuList } from '../../src/launch/cpu-affinity.js';
import { PlanError } from '../../src/launch/plan-error.js';
import { T } from '../../src/launch/plan-tags.js';
import { hostBitmask } from '../../src/launch/sched.js';
import type { Process } from '../../src/spec/types.js';

const W = '/process/execCPUAffinity/initial';

function fails(list: string, possible: number | undefined, message: string): void {
  assert.throws(
    () => parseCpuList(list, W, possible),
    (e: unknown) => e instanceof PlanError && e.pointer === W && e.reason === message,
    list,
  );
}

test("CPU lists: the kernel's format, as runc reads it", () => {
  assert.equal(parseCpuList('0-3,7', W, 8), [0, 1, 2, 3, 7]);
  assert.equal(parseCpuList('7,0-1,1', W, 8), [0, 1, 7], 'sorted, each once');
  assert.equal(parseCpuList(' 1 , 0 ', W, 2), [0, 1], 'spaces around an element');
  assert.equal(parseCpuList('0,,1,', W, 2), [0, 1], 'empty elements');
  assert.equal(parseCpuList('2-2', W, 3), [2]);
  assert.equal(parseCpuList('', W, 2), undefined, 'empty is omitted (config.md)');
});

test('CPU lists: what is not one, with the JSON path', () => {
  fails('1-0', 2, '"1-0": the range 1-0 goes down');
  fails('0-', 2, '"0-": "0-" is neither a CPU nor a range such as 0-3');
  fails('-1', 2, '"-1": "-1" is neither a CPU nor a range such as 0-3');
  fails('0-1-2', 4, '"0-1-2": "0-1-2" is neither a CPU nor a range such as 0-3');
  fails('0 - 1', 4, '"0 - 1": "0 - 1" is neither a CPU nor a range such as 0-3');
  fails('1 0', 4, '"1 0": "1 0" is neither a CPU nor a range such as 0-3');
  fails(',', 2, '"," names no CPU');
  fails(' ', 2, '" " names no CPU');
  fails('0,2', 2, '"0,2": CPU 2 is beyond this host\'s possible CPUs (0-1)');
  fails('1-5', 2, '"1-5": CPU 5 is beyond this host\'s possible CPUs (0-1)');
  fails(String(MAX_CPUS), undefined, `"${MAX_CPUS}": CPU ${MAX_CPUS} is beyond the ${MAX_CPUS} CPUs a kernel can have`);
  fails('99999999999999999999', undefined, `"99999999999999999999": CPU 100000000000000000000 is beyond the ${MAX_CPUS} CPUs a kernel can have`);
});

test('both lists: each checked under its own path; nothing named is no affinity', () => {
  assert.equal(parseAffinity({ initial: '0', final: '0-1' }, 2), { initial: [0], final: [0, 1] });
  assert.equal(parseAffinity({ final: '1' }, 2), { initial: undefined, final: [1] });
  assert.equal(parseAffinity({ initial: '', final: '' }, 2), undefined);
  assert.equal(parseAffinity({}, 2), undefined);
  assert.equal(parseAffinity(undefined, 2), undefined);
  assert.throws(
    () => parseAffinity({ initial: '0', final: '9' }, 2),
    (e: unknown) => e instanceof PlanError && e.pointer === '/process/execCPUAffinity/final',
  );
});

test('the masks: cpu_set_t bytes, unsigned longs in host order, as many as the highest CPU needs', () => {
  assert.is(hostBitmask([0]).toString('hex'), '0100000000000000');
  assert.is(hostBitmask([1]).toString('hex'), '0200000000000000');
  assert.is(hostBitmask([0, 1, 2, 3, 7]).toString('hex'), '8f00000000000000');
  assert.is(hostBitmask([64]).toString('hex'), '00000000000000000100000000000000');
  assert.is(hostBitmask([]).length, 0);
});

const proc = (aff?: Process['execCPUAffinity']): Process => ({ args: ['true'], cwd: '/', ...(aff ? { execCPUAffinity: aff } : {}) });
const tags = (p: Process, container?: Process, role: 'init' | 'exec' = 'exec') =>
  cpuAffinityRecs(p, role, container, 4).map((r) => [r.tag, Buffer.from(r.value as Uint8Array).readBigUInt64LE()]);

test("records: the exec'd process's lists, else the container's, never the init's", () => {
  const container = proc({ initial: '3', final: '0-1' });
  assert.equal(tags(proc({ initial: '0', final: '1' }), container), [
    [T.CPU_AFFINITY_INITIAL, 1n],
    [T.CPU_AFFINITY_FINAL, 2n],
  ]);
  // A process.json naming none takes config.json's (runc 1.3).
  assert.equal(tags(proc(), container), [
    [T.CPU_AFFINITY_INITIAL, 8n],
    [T.CPU_AFFINITY_FINAL, 3n],
  ]);
  assert.equal(tags(proc({ initial: '', final: '' }), container), [
    [T.CPU_AFFINITY_INITIAL, 8n],
    [T.CPU_AFFINITY_FINAL, 3n],
  ]);
  // One naming some replaces the object whole: no final from config.json.
  assert.equal(tags(proc({ initial: '2' }), container), [[T.CPU_AFFINITY_INITIAL, 4n]]);
  assert.equal(tags(proc({ final: '2' }), container), [[T.CPU_AFFINITY_FINAL, 4n]]);
  assert.equal(tags(proc(), proc()), []);
  assert.equal(tags(proc(), undefined), []);
  // The init: checked, but no records (config.md: not applicable to it).
  assert.equal(tags(container, container, 'init'), []);
  const debug: string[] = [];
  cpuAffinityRecs(container, 'init', container, 4, debug);
  assert.match(debug.join('\n'), /execCPUAffinity: not applied to the init/);
  assert.throws(
    () => cpuAffinityRecs(proc({ initial: '4' }), 'init', undefined, 4),
    (e: unknown) => e instanceof PlanError && e.pointer === W,
  );
});

test("the host's possible CPUs: /sys/devices/system/cpu/possible's highest plus one", () => {
  assert.is(cpuCountOfList('0-1\n'), 2);
  assert.is(cpuCountOfList('0\n'), 1);
  assert.is(cpuCountOfList('0-3,8-11\n'), 12);
  assert.is(cpuCountOfList(''), undefined);
  assert.is(cpuCountOfList('garbage'), undefined);
});

test.run();
