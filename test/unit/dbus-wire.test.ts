// The D-Bus wire format: known byte sequences worked out from the
// specification's alignment rules, round trips of every type hako uses,
// and refusals of what no peer may send.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeMessage, encodeMessage, messageLength, MessageType } from '../../src/dbus/message.js';
import { DBusWireError, Reader, Variant, Writer, parseSignature, type DBusValue } from '../../src/dbus/wire.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (sig: string, values: DBusValue[]) => {
  const w = new Writer();
  w.write(sig, values);
  return w.result();
};
const back = (sig: string, b: Buffer) => new Reader(b).read(sig);
const wireError = (fn: () => unknown, re: RegExp) => {
  try {
    fn();
  } catch (e) {
    assert.instance(e, DBusWireError);
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${re}`);
};

test('basic types: little-endian, each aligned to its size', () => {
  assert.is(hex(bytes('u', [1])), '01000000');
  assert.is(hex(bytes('b', [true])), '01000000');
  assert.is(hex(bytes('s', ['abc'])), '0300000061626300');
  assert.is(hex(bytes('o', ['/a'])), '020000002f6100');
  assert.is(hex(bytes('g', ['a(sv)'])), '056128737629' + '00');
  // A byte, then a uint64 aligned to 8.
  assert.is(hex(bytes('yt', [7, 2n])), '07' + '00'.repeat(7) + '0200000000000000');
  // int16 after a byte: one byte of padding.
  assert.is(hex(bytes('yn', [1, -2])), '0100feff');
  assert.is(hex(bytes('x', [-1n])), 'ff'.repeat(8));
  assert.is(hex(bytes('t', [(1n << 64n) - 1n])), 'ff'.repeat(8));
  assert.is(hex(bytes('d', [1])), '000000000000f03f');
});

test('arrays: the length excludes the padding before the first element, and an empty array still pads', () => {
  // a(st) with no elements: length 0, then padding to the struct's 8.
  assert.is(hex(bytes('ua(st)', [5, []])), '05000000' + '00000000');
  assert.is(hex(bytes('a(st)', [[]])), '00000000' + '00000000');
  // One (st): length 16 = 4 (len) + 2 chars + NUL + 1 pad + 8.
  assert.is(hex(bytes('a(st)', [[['ab', 3n]]])), '10000000' + '00000000' + '02000000616200' + '00' + '0300000000000000');
  assert.is(hex(bytes('au', [[1, 2]])), '08000000' + '01000000' + '02000000');
  assert.is(hex(bytes('ay', [new Uint8Array([1, 2, 3])])), '03000000010203');
  assert.is(hex(bytes('as', [['a', 'bc']])), '0f000000' + '0100000061' + '00' + '0000' + '020000006263' + '00');
});

test('variants carry their signature; a(sv) as StartTransientUnit sends it', () => {
  assert.is(hex(bytes('v', [new Variant('u', 9)])), '01' + '7500' + '00' + '09000000');
  const props: DBusValue = [
    ['Delegate', new Variant('b', true)],
    ['PIDs', new Variant('au', [42])],
  ];
  const b = bytes('a(sv)', [props]);
  const [got] = back('a(sv)', b);
  assert.equal(got, props);
});

test('round trips of every type the driver uses', () => {
  const cases: Array<[string, DBusValue[]]> = [
    [
      'ssa(sv)a(sa(sv))',
      [
        'hako-x.scope',
        'replace',
        [
          ['Slice', new Variant('s', 'system.slice')],
          ['MemoryMax', new Variant('t', 1n << 26n)],
        ],
        [],
      ],
    ],
    [
      'sba(sv)',
      [
        'u',
        true,
        [
          ['AllowedCPUs', new Variant('ay', new Uint8Array([3]))],
          ['DeviceAllow', new Variant('a(ss)', [['/dev/char/1:3', 'rwm']])],
        ],
      ],
    ],
    ['a(sa(sv))', [[['aux.scope', [['Description', new Variant('s', 'x')]]]]]],
    ['uoss', [7, '/org/freedesktop/systemd1/job/7', 'hako-x.scope', 'done']],
    ['a{sv}', [[['k', new Variant('as', ['a', 'b'])]]]],
    ['ynqiuxtd', [255, -1, 65535, -2147483648, 4294967295, -(1n << 63n), (1n << 64n) - 1n, 0.5]],
    ['v', [new Variant('v', new Variant('s', 'nested'))]],
    ['a(st)', [[['/dev/block/8:0', 500n]]]],
  ];
  for (const [sig, values] of cases) assert.equal(back(sig, bytes(sig, values)), values, sig);
});

test('signatures: limits and malformed ones', () => {
  assert.is(parseSignature('a{sv}')[0]!.children[0]!.children.length, 2);
  wireError(() => parseSignature('{sv}'), /dict entry outside an array/);
  wireError(() => parseSignature('a{vs}'), /dict key that is not a basic type/);
  wireError(() => parseSignature('a{sss}'), /exactly two types/);
  wireError(() => parseSignature('()'), /empty struct/);
  wireError(() => parseSignature('(s'), /unclosed struct|ends inside/);
  wireError(() => parseSignature('a'), /ends inside a type/);
  wireError(() => parseSignature('z'), /unknown type code/);
  wireError(() => parseSignature('a'.repeat(33) + 'y'), /arrays more than 32 deep/);
  wireError(() => parseSignature('('.repeat(33) + 'y' + ')'.repeat(33)), /structs more than 32 deep/);
  wireError(() => parseSignature('y'.repeat(256)), /longer than 255/);
});

test('values that do not fit their type are refused', () => {
  wireError(() => bytes('y', [256]), /0\.\.255/);
  wireError(() => bytes('u', [-1]), /0\.\.4294967295/);
  wireError(() => bytes('t', [-1n]), /expected an integer/);
  wireError(() => bytes('s', ['a\0b']), /NUL/);
  wireError(() => bytes('o', ['not/a/path']), /object path/);
  wireError(() => bytes('o', ['/trailing/']), /object path/);
  wireError(() => bytes('v', ['plain']), /expected a Variant/);
  wireError(() => bytes('(su)', [['a']]), /2 members/);
  wireError(() => bytes('su', ['a']), /wants 2 values/);
});

test('a reader never trusts the bytes', () => {
  wireError(() => back('u', Buffer.from('0100', 'hex')), /truncated/);
  wireError(() => back('s', Buffer.from('05000000616263', 'hex')), /truncated/);
  wireError(() => back('s', Buffer.from('0300000061626301', 'hex')), /not NUL-terminated/);
  wireError(() => back('s', Buffer.from('02000000ff6100', 'hex')), /not valid UTF-8/);
  wireError(() => back('b', Buffer.from('02000000', 'hex')), /neither 0 nor 1/);
  wireError(() => back('yu', Buffer.from('01ff000002000000', 'hex')), /padding bytes are not zero/);
  wireError(() => back('au', Buffer.from('ffffff7f', 'hex')), /over the 67108864-byte limit/);
  wireError(() => back('au', Buffer.from('0600000001000000', 'hex')), /truncated/);
  // An array whose elements run past its declared length.
  wireError(() => back('as', Buffer.from('02000000' + '0100000061' + '00', 'hex')), /overrun/);
  wireError(() => back('v', Buffer.from('027575' + '00', 'hex')), /not a single complete type/);
});

test('big-endian peers are read too', () => {
  const r = new Reader(Buffer.from('00000001' + '00000003616263' + '00', 'hex'), 'B');
  assert.equal(r.read('us'), [1, 'abc']);
});

// A Hello as libdbus sends it (fields in its order: path, destination,
// interface, member), worked out by hand from the specification.
const LIBDBUS_HELLO = Buffer.concat([
  Buffer.from('6c010001' + '00000000' + '01000000' + '6e000000', 'hex'),
  Buffer.from('01016f00' + '15000000', 'hex'),
  Buffer.from('/org/freedesktop/DBus\0', 'latin1'),
  Buffer.from('0000', 'hex'),
  Buffer.from('06017300' + '14000000', 'hex'),
  Buffer.from('org.freedesktop.DBus\0', 'latin1'),
  Buffer.from('000000', 'hex'),
  Buffer.from('02017300' + '14000000', 'hex'),
  Buffer.from('org.freedesktop.DBus\0', 'latin1'),
  Buffer.from('000000', 'hex'),
  Buffer.from('03017300' + '05000000', 'hex'),
  Buffer.from('Hello\0', 'latin1'),
  Buffer.from('0000', 'hex'),
]);

test('messages: a Hello from another implementation decodes; ours encodes byte for byte', () => {
  assert.is(messageLength(LIBDBUS_HELLO), LIBDBUS_HELLO.length);
  const m = decodeMessage(LIBDBUS_HELLO);
  assert.equal(
    {
      type: m.type,
      serial: m.serial,
      path: m.path,
      destination: m.destination,
      interface: m.interface,
      member: m.member,
      signature: m.signature,
      body: m.body,
    },
    {
      type: 1,
      serial: 1,
      path: '/org/freedesktop/DBus',
      destination: 'org.freedesktop.DBus',
      interface: 'org.freedesktop.DBus',
      member: 'Hello',
      signature: '',
      body: [],
    },
  );
  // Ours: the same fields, ordered by code (path, interface, member,
  // destination), so the array is a byte shorter (less padding inside).
  const ours = encodeMessage({
    type: MessageType.METHOD_CALL,
    serial: 1,
    path: '/org/freedesktop/DBus',
    destination: 'org.freedesktop.DBus',
    interface: 'org.freedesktop.DBus',
    member: 'Hello',
  });
  const expected = Buffer.concat([
    Buffer.from('6c010001' + '00000000' + '01000000' + '6d000000', 'hex'),
    Buffer.from('01016f00' + '15000000', 'hex'),
    Buffer.from('/org/freedesktop/DBus\0', 'latin1'),
    Buffer.from('0000', 'hex'),
    Buffer.from('02017300' + '14000000', 'hex'),
    Buffer.from('org.freedesktop.DBus\0', 'latin1'),
    Buffer.from('000000', 'hex'),
    Buffer.from('03017300' + '05000000', 'hex'),
    Buffer.from('Hello\0', 'latin1'),
    Buffer.from('0000', 'hex'),
    Buffer.from('06017300' + '14000000', 'hex'),
    Buffer.from('org.freedesktop.DBus\0', 'latin1'),
    Buffer.from('000000', 'hex'),
  ]);
  assert.is(hex(ours), hex(expected));
});

test('messages: bodies round-trip with their header fields; malformed headers are refused', () => {
  const m = {
    type: MessageType.SIGNAL,
    serial: 9,
    path: '/org/freedesktop/systemd1',
    interface: 'org.freedesktop.systemd1.Manager',
    member: 'JobRemoved',
    sender: ':1.0',
    signature: 'uoss',
    body: [3, '/org/freedesktop/systemd1/job/3', 'hako-a.scope', 'done'],
  } as const;
  const b = encodeMessage({ ...m, body: [...m.body] });
  const d = decodeMessage(b);
  assert.equal(
    [d.type, d.serial, d.path, d.interface, d.member, d.sender, d.signature, d.body],
    [m.type, m.serial, m.path, m.interface, m.member, m.sender, m.signature, [...m.body]],
  );
  assert.is(messageLength(b.subarray(0, 15)), undefined);
  wireError(() => decodeMessage(b.subarray(0, b.length - 1)), /truncated/);
  const badEndian = Buffer.from(b);
  badEndian[0] = 0x41;
  wireError(() => messageLength(badEndian), /endianness/);
  const badVersion = Buffer.from(b);
  badVersion[3] = 2;
  wireError(() => messageLength(badVersion), /protocol version/);
  // A signal must have a path, an interface and a member.
  wireError(() => encodeMessage({ type: MessageType.SIGNAL, serial: 1, member: 'X' }), /needs a path/);
  wireError(() => encodeMessage({ type: MessageType.METHOD_CALL, serial: 0, path: '/', member: 'X' }), /serial 0/);
  // A method return names the call it answers.
  const reply = decodeMessage(
    encodeMessage({ type: MessageType.METHOD_RETURN, serial: 2, replySerial: 1, signature: 'o', body: ['/org/freedesktop/systemd1/job/1'] }),
  );
  assert.is(reply.replySerial, 1);
  assert.equal(reply.body, ['/org/freedesktop/systemd1/job/1']);
});

test.run();
