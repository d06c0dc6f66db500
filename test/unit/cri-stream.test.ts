// The CRI test's WebSocket frame reader and v4.channel.k8s.io status
// (test/clients/cri-stream.ts), on frames laid out by RFC 6455.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { exitCodeOf, frames } from '../clients/cri-stream.js';

const frame = (opcode: number, payload: Buffer) => {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, payload]);
};

test('frames: short and 16-bit lengths, a partial frame is kept for later', () => {
  const big = Buffer.alloc(300, 0x61);
  const all = Buffer.concat([frame(2, Buffer.from([1, 0x68, 0x69])), frame(2, big), frame(8, Buffer.alloc(0))]);
  const got = frames(all);
  assert.equal(
    got.frames.map((f) => [f.opcode, f.payload.length]),
    [
      [2, 3],
      [2, 300],
      [8, 0],
    ],
  );
  assert.is(got.rest.length, 0);
  const part = frames(all.subarray(0, 10));
  assert.is(part.frames.length, 1);
  assert.is(part.rest.length, 5, 'the second frame waits for its bytes');
});

test('exitCodeOf: Success is 0, a failure carries its ExitCode cause, anything else is -1', () => {
  assert.is(exitCodeOf({ status: 'Success' }), 0);
  assert.is(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } }), 3);
  assert.is(exitCodeOf({ status: 'Failure', message: 'exec failed' }), -1);
  assert.is(exitCodeOf(undefined), -1);
});

test.run();
