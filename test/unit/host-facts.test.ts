import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isOwnNamespace } from '../../src/launch/host-facts.js';

test("isOwnNamespace: our own namespace file is; another type's, a missing path or an unknown type is not", () => {
  assert.ok(isOwnNamespace('network', `/proc/${process.pid}/ns/net`));
  assert.ok(isOwnNamespace('uts', '/proc/self/ns/uts'));
  assert.not.ok(isOwnNamespace('network', '/proc/self/ns/uts'));
  assert.not.ok(isOwnNamespace('network', '/nonexistent/ns/net'));
  assert.not.ok(isOwnNamespace('bogus', '/proc/self/ns/net'));
});

test.run();
