// process.scheduler, process.ioPriority, linux.memoryPolicy to plan records.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ioPriorityRecs, memoryPolicyRecs, parseNodeList, schedulerRecs } from '../../src/launch/sched.js';
import { PlanError } from '../../src/launch/plan.js';
import { T } from '../../src/launch/plan-tags.js';
import type { Rec } from '../../src/launch/tlv.js';

const fields = (rs: Rec[]) => Object.fromEntries((rs[0]!.value as Rec[]).map((r) => [r.tag, r.value]));
const fails = (f: () => unknown, pointer: string, re: RegExp) => {
  try {
    f();
  } catch (e) {
    assert.instance(e, PlanError);
    assert.is((e as PlanError).pointer, pointer);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`no error for ${pointer}`);
};

test('scheduler: policy, nice, flags; real-time priorities; deadline parameters', () => {
  const b = fields(schedulerRecs({ policy: 'SCHED_BATCH', nice: 5, flags: ['SCHED_FLAG_RESET_ON_FORK'] }));
  assert.equal([b[T.SCH_POLICY], b[T.SCH_NICE], b[T.SCH_PRIORITY], b[T.SCH_FLAGS]], [3, 5, 0, 1n]);
  assert.is(fields(schedulerRecs({ policy: 'SCHED_FIFO', priority: 10 }))[T.SCH_PRIORITY], 10);
  const d = fields(schedulerRecs({ policy: 'SCHED_DEADLINE', runtime: 1e6, deadline: 2e6 }));
  assert.equal([d[T.SCH_RUNTIME], d[T.SCH_DEADLINE], d[T.SCH_PERIOD]], [1000000n, 2000000n, 2000000n], 'period defaults to the deadline');
  assert.equal(schedulerRecs(undefined), []);
  fails(() => schedulerRecs({ policy: 'SCHED_FIFO' }), '/process/scheduler/priority', /needs a priority from 1 to 99/);
  fails(() => schedulerRecs({ policy: 'SCHED_OTHER', priority: 3 }), '/process/scheduler/priority', /only SCHED_FIFO and SCHED_RR/);
  fails(() => schedulerRecs({ policy: 'SCHED_OTHER', nice: 20 }), '/process/scheduler/nice', /-20 to 19/);
  fails(() => schedulerRecs({ policy: 'SCHED_BATCH', runtime: 5 }), '/process/scheduler/runtime', /only SCHED_DEADLINE/);
  fails(() => schedulerRecs({ policy: 'SCHED_DEADLINE', runtime: 3e6, deadline: 2e6 }), '/process/scheduler', /runtime <= deadline <= period/);
  fails(() => schedulerRecs({ policy: 'SCHED_NOPE' as never }), '/process/scheduler/policy', /unknown policy/);
});

test('ioPriority: class << 13 | level; idle has no level; range checked', () => {
  assert.equal(ioPriorityRecs({ class: 'IOPRIO_CLASS_BE', priority: 6 }), [{ tag: T.IOPRIO, value: (2 << 13) | 6 }]);
  assert.equal(ioPriorityRecs({ class: 'IOPRIO_CLASS_IDLE', priority: 7 }), [{ tag: T.IOPRIO, value: 3 << 13 }]);
  fails(() => ioPriorityRecs({ class: 'IOPRIO_CLASS_RT', priority: 8 }), '/process/ioPriority/priority', /0 to 7/);
});

test('memoryPolicy: node lists to a mask, mode | flags, the modes that take no nodes', () => {
  assert.equal(parseNodeList('0-3,7, 5', '/x'), [0, 1, 2, 3, 5, 7]);
  assert.equal(parseNodeList('', '/x'), []);
  fails(() => parseNodeList('3-1', '/x'), '/x', /ranges going up/);
  fails(() => parseNodeList('2000', '/x'), '/x', /beyond the kernel's 1024 nodes/);
  fails(() => parseNodeList('a', '/x'), '/x', /not a node list/);
  const m = fields(memoryPolicyRecs({ mode: 'MPOL_INTERLEAVE', nodes: '0,65', flags: ['MPOL_F_STATIC_NODES'] }));
  assert.is(m[T.MP_MODE], 3 | (1 << 15));
  const mask = m[T.MP_NODES] as Buffer;
  assert.is(mask.length, 16, 'two unsigned longs for node 65');
  assert.is(mask.readBigUInt64LE(0), 1n);
  assert.is(mask.readBigUInt64LE(8), 2n);
  assert.is((fields(memoryPolicyRecs({ mode: 'MPOL_LOCAL' }))[T.MP_NODES] as Buffer).length, 0);
  fails(() => memoryPolicyRecs({ mode: 'MPOL_DEFAULT', nodes: '0' }), '/linux/memoryPolicy/nodes', /takes no nodes/);
  fails(() => memoryPolicyRecs({ mode: 'MPOL_BIND' }), '/linux/memoryPolicy/nodes', /at least one node/);
});

test.run();
