// Signal parsing for `hako kill`: runc's accepted forms plus aliases and
// real-time names; runc's "unknown signal" wording.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../src/cli/args.js';
import { MAX_SIGNAL, SIGRTMAX, SIGRTMIN, parseSignal, signalName, signalNames } from '../../src/cli/signals.js';

function rejects(s: string): void {
  assert.throws(
    () => parseSignal(s),
    (e: unknown) => e instanceof UsageError && e.message === `unknown signal ${JSON.stringify(s)}`,
    s,
  );
}

test('numbers, as podman and containerd send them', () => {
  assert.is(parseSignal('15'), 15);
  assert.is(parseSignal('9'), 9);
  assert.is(parseSignal('10'), 10);
  assert.is(parseSignal('1'), 1);
  assert.is(parseSignal('64'), 64);
  // runc uses strconv.Atoi: decimal even with leading zeros, optional sign
  assert.is(parseSignal('010'), 10);
  assert.is(parseSignal('+10'), 10);
  // 0 is the liveness probe runc lets through
  assert.is(parseSignal('0'), 0);
});

test('numbers out of range are rejected', () => {
  for (const s of ['65', '99', '-1', '-9', '4294967311', '99999999999999999999999']) rejects(s);
});

test('non-decimal number spellings are names, hence unknown', () => {
  for (const s of ['0x11', ' 1', '1 ', '1.0', '1_0', '']) rejects(s);
});

test('names: with/without SIG, any case', () => {
  for (const s of ['TERM', 'SIGTERM', 'sigterm', 'term', 'SigTerm', 'sigTERM']) assert.is(parseSignal(s), 15, s);
  assert.is(parseSignal('KILL'), 9);
  assert.is(parseSignal('SIGKILL'), 9);
  assert.is(parseSignal('cont'), 18);
  assert.is(parseSignal('sigchld'), 17);
  assert.is(parseSignal('STKFLT'), 16);
  assert.is(parseSignal('PWR'), 30);
  assert.is(parseSignal('SYS'), 31);
  assert.is(parseSignal('WINCH'), 28);
  assert.is(parseSignal('IO'), 29);
});

test('aliases', () => {
  assert.is(parseSignal('SIGIOT'), 6);
  assert.is(parseSignal('IOT'), 6);
  assert.is(parseSignal('ABRT'), 6);
  assert.is(parseSignal('SIGPOLL'), 29);
  assert.is(parseSignal('CLD'), 17);
  assert.is(parseSignal('UNUSED'), 31);
});

test('the full x86_64 table', () => {
  const want: Record<string, number> = {
    HUP: 1,
    INT: 2,
    QUIT: 3,
    ILL: 4,
    TRAP: 5,
    ABRT: 6,
    BUS: 7,
    FPE: 8,
    KILL: 9,
    USR1: 10,
    SEGV: 11,
    USR2: 12,
    PIPE: 13,
    ALRM: 14,
    TERM: 15,
    STKFLT: 16,
    CHLD: 17,
    CONT: 18,
    STOP: 19,
    TSTP: 20,
    TTIN: 21,
    TTOU: 22,
    URG: 23,
    XCPU: 24,
    XFSZ: 25,
    VTALRM: 26,
    PROF: 27,
    WINCH: 28,
    IO: 29,
    PWR: 30,
    SYS: 31,
  };
  for (const [n, v] of Object.entries(want)) {
    assert.is(parseSignal(n), v, n);
    assert.is(parseSignal(`SIG${n}`), v, n);
    assert.is(signalName(v), `SIG${n}`, `name of ${v}`);
  }
  for (const [n, v] of signalNames()) assert.is(parseSignal(n), v);
});

test('real-time signals', () => {
  assert.is(SIGRTMIN, 34);
  assert.is(SIGRTMAX, 64);
  assert.is(MAX_SIGNAL, 64);
  assert.is(parseSignal('RTMIN'), 34);
  assert.is(parseSignal('SIGRTMIN'), 34);
  assert.is(parseSignal('rtmin+3'), 37);
  assert.is(parseSignal('SIGRTMIN+3'), 37);
  assert.is(parseSignal('RTMIN+0'), 34);
  assert.is(parseSignal('RTMIN+30'), 64);
  assert.is(parseSignal('RTMAX'), 64);
  assert.is(parseSignal('SIGRTMAX-2'), 62);
  assert.is(parseSignal('sigrtmax-30'), 34);
  for (const s of ['RTMIN+31', 'RTMAX-31', 'RTMIN-1', 'RTMAX+1', 'RTMIN+', 'RTMIN3', 'RTMID', 'RTMIN+x', 'RT']) rejects(s);
});

test('unknown names: runc wording, quoting the input as given', () => {
  rejects('FOO');
  rejects('sigfoo');
  rejects('SIG');
  rejects('SIGSIGTERM');
  rejects('TERM ');
  assert.throws(
    () => parseSignal('a"b'),
    (e: unknown) => (e as Error).message === 'unknown signal "a\\"b"',
  );
});

test('signalName', () => {
  assert.is(signalName(15), 'SIGTERM');
  assert.is(signalName(6), 'SIGABRT');
  assert.is(signalName(17), 'SIGCHLD');
  assert.is(signalName(29), 'SIGIO');
  assert.is(signalName(31), 'SIGSYS');
  assert.is(signalName(34), 'SIGRTMIN');
  assert.is(signalName(35), 'SIGRTMIN+1');
  assert.is(signalName(49), 'SIGRTMIN+15');
  assert.is(signalName(50), 'SIGRTMAX-14');
  assert.is(signalName(63), 'SIGRTMAX-1');
  assert.is(signalName(64), 'SIGRTMAX');
  for (const n of [0, 32, 33, 65, -1, 1.5, NaN]) assert.is(signalName(n), undefined, String(n));
});

test('signalName and parseSignal round-trip for 1..64', () => {
  for (let n = 1; n <= 64; n++) {
    const name = signalName(n);
    if (name === undefined) continue;
    assert.is(parseSignal(name), n, name);
    assert.is(parseSignal(name.slice(3).toLowerCase()), n, name);
  }
});

test.run();
