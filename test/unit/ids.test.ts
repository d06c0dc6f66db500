// Container id validation (src/container/ids.ts) and the store's use of it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HakoError } from '../../src/errors.js';
import { MAX_ID_LENGTH, isValidId, validateId } from '../../src/container/ids.js';
import { Store } from '../../src/container/store.js';

const bad = (id: string, msg = `invalid container ID format: ${JSON.stringify(id)}`) => {
  const usage = (e: unknown) => e instanceof HakoError && e.kind === 'usage' && e.message === msg && !e.message.includes('\n');
  assert.throws(() => validateId(id), usage, JSON.stringify(id));
  // No path is ever built from it.
  assert.throws(() => new Store('/nonexistent-root').dir(id), usage, JSON.stringify(id));
  assert.not.ok(isValidId(id), JSON.stringify(id));
};
const good = (id: string) => {
  validateId(id);
  assert.ok(isValidId(id), id);
  assert.is(new Store('/r').dir(id), `/r/${id}`);
};

test('ids podman and containerd use', () => {
  good('3f9a1e7c0b5d4a2e8f6c1b0a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e'); // podman: 64 hex
  good('redis');
  good('my-container_1.2+x');
  good('k8s.io-sandbox');
  good('A');
  good('0');
  good('_');
  good('-leading-dash'); // runc accepts it
  good('+plus');
});

test('not a string', () => {
  for (const v of [undefined, null, 1, {}, ['a']]) assert.not.ok(isValidId(v));
});

test('empty id', () => {
  bad('', 'container id cannot be empty');
});

test('path-like and special ids are rejected', () => {
  // runc 1.1.5 accepts '...', '.hidden' and 'a,b'; hako keeps leading dots
  // for itself and does not copy runc's ',' quirk.
  for (const id of [
    '.',
    '..',
    '...',
    '.hidden',
    'a/b',
    '/a',
    '/',
    'a/',
    '../x',
    '../B/victim',
    'a b',
    ' a',
    'a\n',
    'a\x1b[2J',
    'a:b',
    'a,b',
    'a\\b',
    'é',
    'a*',
    'a\0b',
    '~a',
  ]) {
    bad(id);
  }
});

test('length limit (NAME_MAX)', () => {
  assert.is(MAX_ID_LENGTH, 255);
  good('x'.repeat(255));
  bad('x'.repeat(256));
});

test.run();
