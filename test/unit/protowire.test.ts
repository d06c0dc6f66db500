// The protobuf wire encoder and decoder (src/protowire.ts), used by the CRI
// test and criu's RPC (src/checkpoint/rpc.ts), checked against byte
// sequences worked out from the encoding's documentation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Reader, Writer } from '../../src/protowire.js';

const hex = (w: Writer) => w.bytes().toString('hex');

test('varints: 150 is 96 01; zero values are left out; negatives take ten bytes', () => {
  assert.is(hex(new Writer().int(1, 150)), '089601');
  assert.is(hex(new Writer().int(1, 0).str(2, '').bool(3, false)), '');
  assert.is(hex(new Writer().int(2, -1)), '10ffffffffffffffffff01');
  assert.is(new Reader(new Writer().int(2, -1).bytes()).int(2), -1);
  assert.is(new Reader(new Writer().int(4, 256 << 20).bytes()).int(4), 256 << 20);
});

test('strings, repeated strings, sub-messages (written even when empty), maps', () => {
  assert.is(hex(new Writer().str(2, 'testing')), '120774657374696e67');
  const w = new Writer().strs(3, ['sh', '-c']).msg(4, new Writer()).msg(5, new Writer().str(1, 'x').int(2, 7)).map(6, { a: '1', b: '' });
  const r = new Reader(w.bytes());
  assert.equal(r.strs(3), ['sh', '-c'], 'repeated fields are kept apart');
  assert.is(r.buf(3).toString(), '-c', 'the last one wins for a scalar read');
  assert.ok(r.msg(4), 'an empty sub-message is present');
  assert.is(r.msg(5)!.str(1), 'x');
  assert.is(r.msg(5)!.int(2), 7);
  assert.equal(r.map(6), { a: '1', b: '' });
  assert.is(r.msg(9), undefined);
  assert.is(r.str(9), '');
});

test('fixed32 and fixed64 fields are skipped; truncation is an error', () => {
  // field 1 fixed64, field 2 fixed32, field 3 varint 5
  const buf = Buffer.from('09' + '0102030405060708' + '15' + '01020304' + '1805', 'hex');
  assert.is(new Reader(buf).int(3), 5);
  assert.throws(() => new Reader(Buffer.from('0a05616263', 'hex')), /runs past the end/);
  assert.throws(() => new Reader(Buffer.from('08ff', 'hex')), /truncated varint/);
});

test.run();
