// The pure parts of conformance/: mountinfo and capability parsing, the
// state schema rules, runtime-tools TAP parsing and the known-broken list.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonical, capNames, mountAt, parseMountinfo } from '../../conformance/harness.js';
import { stateErrors } from '../../conformance/checks/lifecycle.js';
import { classify, parseTap, tapError } from '../../conformance/runtime-tools.js';
import { ALL_CHECKS, summaryLine } from '../../conformance/main.js';

test('parseMountinfo: fields, optional propagation fields, escapes', () => {
  const text = [
    '27 1 0:30 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
    '40 27 0:41 / /mnt/a\\040b ro,nosuid master:3 - tmpfs tmp\\040fs rw,size=1024k,mode=700',
    '41 27 0:42 / /mnt/c rw unbindable - tmpfs x rw',
  ].join('\n');
  const ms = parseMountinfo(text);
  assert.is(ms.length, 3);
  assert.equal(ms[0]!.optional, ['shared:1']);
  assert.is(ms[1]!.mountPoint, '/mnt/a b');
  assert.is(ms[1]!.source, 'tmp fs');
  assert.equal(ms[1]!.options, ['ro', 'nosuid']);
  assert.equal(ms[1]!.superOptions, ['rw', 'size=1024k', 'mode=700']);
  assert.equal(ms[2]!.optional, ['unbindable']);
  assert.is(mountAt(ms, '/mnt/c')!.id, 41);
});

test('mountAt takes the last mount at a point (the visible one)', () => {
  const ms = parseMountinfo('1 0 0:1 / /m rw - tmpfs first rw\n2 1 0:2 / /m rw - tmpfs second rw\n');
  assert.is(mountAt(ms, '/m')!.source, 'second');
  assert.is(mountAt(ms, '/x'), undefined);
});

test('capNames decodes /proc status masks', () => {
  assert.equal(capNames('0000000000000000'), []);
  assert.equal(capNames('00000000a80425fb').length, 14);
  assert.equal(capNames('0000000000000401'), ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE']);
});

test('canonical ignores key order, not array order', () => {
  assert.is(canonical({ b: 1, a: { d: 2, c: 3 } }), canonical({ a: { c: 3, d: 2 }, b: 1 }));
  assert.is.not(canonical([1, 2]), canonical([2, 1]));
});

test('stateErrors follows schema/state-schema.json', () => {
  assert.equal(stateErrors({ ociVersion: '1.3.0', id: 'x', status: 'created', pid: 5, bundle: '/b' }), []);
  assert.equal(stateErrors({ ociVersion: '1.3.0', id: 'x', status: 'stopped', bundle: '/b', annotations: { a: 'b' } }), []);
  assert.ok(stateErrors({ id: 'x', status: 'created', bundle: '/b' }).includes('ociVersion missing'));
  assert.ok(stateErrors({ ociVersion: '1', id: 'x', status: 'paused?', bundle: '/b' })[0]!.startsWith('status'));
  assert.ok(stateErrors({ ociVersion: '1', id: 'x', status: 'running', bundle: '/b', pid: -1 }).length === 1);
  assert.ok(stateErrors({ ociVersion: '1', id: 'x', status: 'running', bundle: '/b', annotations: { a: 1 } }).length === 1);
  assert.equal(stateErrors([]), ['not a JSON object']);
});

test('parseTap counts ok / not ok lines, ignoring YAML blocks', () => {
  const out = 'TAP version 13\nok 1 - a\n  ---\n  {\n    "error": "x"\n  }\n  ...\nnot ok 2 - b thing\nok 3 # SKIP no\n1..3\n';
  assert.equal(parseTap(out), [
    { n: 1, ok: true, text: 'a' },
    { n: 2, ok: false, text: 'b thing' },
    { n: 3, ok: true, text: '# SKIP no' },
  ]);
});

test('tapError reads the first error of a 1..0 program', () => {
  assert.is(tapError('TAP version 13\n  ---\n  {\n    "error": "hooks MUST \\"run\\"\\nRefer to: x"\n  }\n  ...\n1..0\n'), 'hooks MUST "run"');
  assert.is(tapError('TAP version 13\n1..0\n'), null);
});

test("classify: per-assertion and whole-program entries; others are the runtime's own", () => {
  assert.is(classify('start', 7)!.why, 'suite');
  assert.is(classify('start', 6), null);
  assert.is(classify('hooks', 1)!.why, 'suite');
  assert.is(classify('linux_cgroups_blkio', 4)!.why, 'host');
  assert.is(classify('poststart_fail', 1)!.why, 'stale');
  assert.is(classify('delete', 2), null);
});

test('every check has a unique id, a section of the spec and a level', () => {
  const ids = new Set<string>();
  for (const c of ALL_CHECKS) {
    assert.not.ok(ids.has(c.id), `duplicate ${c.id}`);
    ids.add(c.id);
    assert.ok(/^(runtime|config|config-linux|features|features-linux)\.md(#[a-z0-9-]+)?$/.test(c.section), `${c.id}: section ${c.section}`);
    assert.ok(c.level === 'MUST' || c.level === 'SHOULD');
    assert.ok(c.title.length > 0);
  }
  assert.ok(ALL_CHECKS.length >= 100);
});

test('summaryLine is the closing line CI reads', () => {
  const o = (status: 'pass' | 'fail' | 'skip') => ({ id: '', section: '', level: 'MUST', title: '', status, message: '', notes: [], ms: 0 });
  assert.is(summaryLine([o('pass'), o('pass'), o('fail')]), '2 passed, 1 failed');
  assert.is(summaryLine([o('pass'), o('skip')]), '1 passed, 0 failed, 1 skipped');
});

test.run();
