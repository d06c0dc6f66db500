// The library's signals: names as `hako kill` takes them, or numbers; a
// HakoError of kind 'usage' for anything else, never the addon's TypeError.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HakoError } from '../../src/errors.js';
import { nameOfSignal, signalNumber } from '../../src/lib/signals.js';

test('names, with or without SIG, any case, and numbers', () => {
  for (const s of ['KILL', 'SIGKILL', 'sigkill', 'Kill', 9, '9']) assert.is(signalNumber(s), 9, String(s));
  assert.is(signalNumber('TERM'), 15);
  assert.is(signalNumber('RTMIN+3'), 37);
  assert.is(signalNumber(0), 0);
  assert.is(signalNumber(64), 64);
});

test('anything else is a usage error naming it', () => {
  for (const [s, text] of [
    ['BOGUS', 'unknown signal "BOGUS"'],
    [65, 'unknown signal 65'],
    [-1, 'unknown signal -1'],
    [1.5, 'unknown signal 1.5'],
    [Number.NaN, 'unknown signal NaN'],
    ['', 'unknown signal ""'],
  ] as const) {
    try {
      signalNumber(s);
      assert.unreachable(String(s));
    } catch (e) {
      assert.instance(e, HakoError);
      assert.is((e as HakoError).kind, 'usage');
      assert.is((e as HakoError).message, text);
    }
  }
  assert.throws(
    () => signalNumber(null as unknown as string),
    (e: unknown) => e instanceof HakoError && e.kind === 'usage',
  );
});

test('names of numbers for exit statuses', () => {
  assert.is(nameOfSignal(9), 'SIGKILL');
  assert.is(nameOfSignal(15), 'SIGTERM');
  assert.is(nameOfSignal(36), 'SIGRTMIN+2');
  assert.is(nameOfSignal(32), 'SIG32');
});

test.run();
