// Hostile JSON input: bytes that are not UTF-8, nesting deeper than the
// engines survive, surrogate escapes that name no character. Each is refused
// with one line that says where.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeUtf8, invalidUtf8Offset, MAX_DEPTH, parseJson, tooDeep } from '../../src/spec/json.js';
import { loadSpec, readJsonFile } from '../../src/spec/load.js';
import { readResourcesDocument } from '../../src/container/update.js';
import { describe, systemReason } from '../../src/errors.js';

const bytes = (...b: number[]) => Uint8Array.from(b);
const ascii = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));

test('invalidUtf8Offset: well-formed sequences pass', () => {
  assert.is(invalidUtf8Offset(Buffer.from('plain ascii, é, 箱, 😀', 'utf8')), -1);
  assert.is(invalidUtf8Offset(bytes()), -1);
  assert.is(invalidUtf8Offset(bytes(0xef, 0xbb, 0xbf)), -1); // a BOM is well-formed
  assert.is(invalidUtf8Offset(bytes(0xf4, 0x8f, 0xbf, 0xbf)), -1); // U+10FFFF
});

test('invalidUtf8Offset: the first ill-formed byte', () => {
  assert.is(invalidUtf8Offset(ascii('ab\xffcd')), 2);
  assert.is(invalidUtf8Offset(bytes(0x61, 0x80)), 1); // lone continuation
  assert.is(invalidUtf8Offset(bytes(0xc0, 0xaf)), 0); // overlong '/'
  assert.is(invalidUtf8Offset(bytes(0xe0, 0x80, 0xaf)), 0); // overlong
  assert.is(invalidUtf8Offset(bytes(0xed, 0xa0, 0x80)), 0); // encoded surrogate
  assert.is(invalidUtf8Offset(bytes(0xf4, 0x90, 0x80, 0x80)), 0); // above U+10FFFF
  assert.is(invalidUtf8Offset(bytes(0x61, 0xe2, 0x82)), 1); // truncated at the end
  assert.is(invalidUtf8Offset(bytes(0x61, 0x62, 0xf5)), 2);
});

test('decodeUtf8: names the file and the byte offset; a BOM stays for JSON.parse to refuse', () => {
  assert.is(decodeUtf8(Buffer.from('{"a":"箱"}'), 'config.json'), '{"a":"箱"}');
  assert.throws(
    () => decodeUtf8(ascii('{"args":["a\xffb"]}'), 'config.json'),
    (e: Error) => e.message === 'config.json: not valid UTF-8 at byte offset 11 (0xff)',
  );
  assert.is(decodeUtf8(bytes(0xef, 0xbb, 0xbf, 0x7b, 0x7d), 'x').charCodeAt(0), 0xfeff);
  assert.throws(
    () => parseJson(decodeUtf8(bytes(0xef, 0xbb, 0xbf, 0x7b, 0x7d), 'x'), 'x'),
    /x: invalid JSON at line 1, column 1: expected a value, found U\+FEFF/,
  );
});

test('tooDeep: counts brackets outside strings only', () => {
  assert.is(tooDeep('[[[]]]', 3), -1);
  assert.is(tooDeep('[[[[]]]]', 3), 3);
  assert.is(tooDeep('{"a":"[[[[[[","b":[{}]}', 3), -1);
  assert.is(tooDeep('["\\"[[[[["]', 1), -1);
});

test('parseJson: nesting deeper than MAX_DEPTH is refused with its place, not a stack overflow', () => {
  const ok = '['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH);
  assert.equal(typeof parseJson(ok, 'f'), 'object');
  const deep = '{"x":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}';
  assert.throws(
    () => parseJson(deep, 'config.json'),
    (e: Error) => e.message === `config.json: nested deeper than ${MAX_DEPTH} levels at line 1, column ${5 + MAX_DEPTH}`,
  );
});

test('parseJson: unpaired surrogate escapes are refused with their JSON path; pairs are fine', () => {
  assert.equal(parseJson('{"a":["\\ud83d\\ude00"]}', 'f'), { a: ['😀'] });
  assert.throws(
    () => parseJson('{"process":{"args":["ok","x\\ud800"]}}', 'config.json'),
    (e: Error) => e.message === 'config.json: /process/args/1: the string holds an unpaired surrogate escape (\\ud800), which is no character',
  );
  assert.throws(
    () => parseJson('{"annotations":{"\\udc00":"v"}}', 'config.json'),
    (e: Error) => e.message.startsWith('config.json: /annotations/\udc00: a key holds an unpaired surrogate escape (\\udc00)'),
  );
  // An escaped backslash before "ud800" is no escape at all.
  assert.equal(parseJson('["\\\\ud800"]', 'f'), ['\\ud800']);
});

test('parseJson: a NUL character anywhere is refused with its JSON path', () => {
  assert.throws(
    () => parseJson('{"hooks":{"prestart":[{"path":"/bin/true","args":["a\\u0000b"]}]}}', 'config.json'),
    (e: Error) => e.message === 'config.json: /hooks/prestart/0/args/0: the string holds a NUL character (\\u0000), which no path, argument or name can carry',
  );
  assert.throws(
    () => parseJson('{"linux":{"sysctl":{"a\\u0000":"1"}}}', 'config.json'),
    (e: Error) => e.message.startsWith('config.json: /linux/sysctl/a\u0000: a key holds a NUL character'),
  );
  assert.equal(parseJson('["\\\\u0000"]', 'f'), ['\\u0000']);
});

test('describe: system call errors in words, as Go says them, without errno names', () => {
  const err = (message: string, code: string) => Object.assign(new Error(message), { code });
  assert.is(describe(err("ENOENT: no such file or directory, open '/x/config.json'", 'ENOENT')), 'open /x/config.json: no such file or directory');
  assert.is(describe(err("EXDEV: cross-device link not permitted, rename '/a' -> '/b'", 'EXDEV')), 'rename /a -> /b: cross-device link not permitted');
  assert.is(describe(err('EPERM: operation not permitted', 'EPERM')), 'operation not permitted');
  assert.is(describe(err('spawn /no/hook ENOENT', 'ENOENT')), 'spawn /no/hook: no such file or directory');
  assert.is(describe(err("EACCES: permission denied, posix_spawn '/etc/passwd'", 'EACCES')), 'posix_spawn /etc/passwd: permission denied');
  assert.is(describe(new Error('plain\nmessage')), 'plain; message');
  assert.is(systemReason(err("EISDIR: illegal operation on a directory, rename 'a' -> 'b'", 'EISDIR')), 'is a directory');
  assert.is(systemReason(err("ENOENT: no such file or directory, open 'a'", 'ENOENT')), 'no such file or directory');
});

test('config.json, process.json and update -r files are read strictly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hako-json-'));
  try {
    writeFileSync(join(dir, 'config.json'), Buffer.concat([Buffer.from('{"ociVersion":"1.0.0","root":{"path":"r'), Buffer.from([0xfe]), Buffer.from('"}}')]));
    assert.throws(
      () => loadSpec(dir),
      (e: Error) => e.message === 'config.json: not valid UTF-8 at byte offset 39 (0xfe)',
    );
    const proc = join(dir, 'process.json');
    writeFileSync(proc, Buffer.from([0x7b, 0x22, 0xc3, 0x22, 0x7d]));
    assert.throws(
      () => readJsonFile(proc, 'process.json'),
      (e: Error) => e.message === 'process.json: not valid UTF-8 at byte offset 2 (0xc3)',
    );
    const res = join(dir, 'r.json');
    writeFileSync(res, Buffer.from([0x7b, 0xff, 0x7d]));
    assert.throws(
      () => readResourcesDocument(res),
      (e: Error) => e.message === `${res}: not valid UTF-8 at byte offset 1 (0xff)`,
    );
    assert.throws(
      () => readResourcesDocument('-', () => Buffer.from([0x7b, 0x7d, 0x80])),
      (e: Error) => e.message === 'stdin: not valid UTF-8 at byte offset 2 (0x80)',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
