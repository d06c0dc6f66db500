// hako's D-Bus client against a real bus: a dbus-daemon of our own on a
// temporary socket (the host's system bus, if any, is left alone). Hello,
// method calls and error replies from the daemon, broadcast signals through
// a match rule, a large message crossing many reads, and calls between two
// of our connections. systemd itself is only in the guest
// (systemd-cgroup.test.ts).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DBusConnection, DBusError, unixTransport } from '../../src/dbus/connection.js';
import { MessageType } from '../../src/dbus/message.js';
import { Variant } from '../../src/dbus/wire.js';
import { skip, skippable } from '../skip.js';

const t = suite('dbus');
const test = skippable(t, 'dbus');
const DAEMON = ['/usr/bin/dbus-daemon', '/bin/dbus-daemon'].find((p) => existsSync(p));
let dir = '';
let sock = '';
let daemon: ChildProcess | undefined;

const BUS = { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus' };

t.before(async () => {
  if (!DAEMON) return;
  dir = mkdtempSync('/tmp/hako-dbus-');
  sock = path.join(dir, 'bus');
  daemon = spawn(DAEMON, ['--session', `--address=unix:path=${sock}`, '--nofork', '--nopidfile'], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(existsSync(sock), 'dbus-daemon made its socket');
});
t.after(() => {
  if (daemon?.pid) daemon.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const open = () => DBusConnection.open(unixTransport(sock), sock, { bus: true });
const needDaemon = () => {
  if (!DAEMON) skip('no dbus-daemon on this host');
};

test('Hello gives a unique name; the daemon answers calls and says what it does not know', () => {
  needDaemon();
  const c = open();
  try {
    assert.match(c.uniqueName ?? '', /^:1\.\d+$/);
    const [names] = c.call({ ...BUS, member: 'ListNames' });
    assert.ok((names as string[]).includes(c.uniqueName!));
    assert.equal(c.call({ ...BUS, member: 'GetNameOwner', signature: 's', body: [c.uniqueName!] }), [c.uniqueName]);
    try {
      c.call({ ...BUS, member: 'GetNameOwner', signature: 's', body: ['org.example.Nobody'] });
      assert.unreachable();
    } catch (e) {
      assert.instance(e, DBusError);
      assert.is((e as DBusError).errorName, 'org.freedesktop.DBus.Error.NameHasNoOwner');
    }
    // The daemon checks our marshalling: a bad match rule is its error, not a hang.
    try {
      c.call({ ...BUS, member: 'AddMatch', signature: 's', body: ["type='nonsense'"] });
      assert.unreachable();
    } catch (e) {
      assert.is((e as DBusError).errorName, 'org.freedesktop.DBus.Error.MatchRuleInvalid');
    }
  } finally {
    c.close();
  }
});

test('broadcast signals reach a connection through its match rule, and only then', () => {
  needDaemon();
  const a = open();
  const b = open();
  try {
    b.call({ ...BUS, member: 'AddMatch', signature: 's', body: [`type='signal',interface='org.example.Hako',member='Job',sender='${a.uniqueName}'`] });
    a.send({ type: MessageType.SIGNAL, path: '/org/example', interface: 'org.example.Hako', member: 'Other', signature: 's', body: ['ignored'] });
    a.send({
      type: MessageType.SIGNAL,
      path: '/org/example',
      interface: 'org.example.Hako',
      member: 'Job',
      signature: 'uoss',
      body: [1, '/org/example/job/1', 'u.scope', 'done'],
    });
    const m = b.signal((x) => x.member === 'Job', 5000);
    assert.equal(m.body, [1, '/org/example/job/1', 'u.scope', 'done']);
    assert.is(m.sender, a.uniqueName);
    assert.is(m.destination, undefined);
    // The unmatched one never arrived.
    try {
      b.signal((x) => x.member === 'Other', 200);
      assert.unreachable();
    } catch (e) {
      assert.match((e as Error).message, /no answer/);
    }
  } finally {
    a.close();
    b.close();
  }
});

test('a large call crosses many reads; a peer without objects answers UnknownMethod', () => {
  needDaemon();
  const a = open();
  const b = open();
  try {
    const big = 'x'.repeat(1 << 20);
    const props = Array.from({ length: 2000 }, (_, i) => [`P${i}`, new Variant('t', BigInt(i))]);
    const serial = a.send({
      type: MessageType.METHOD_CALL,
      destination: b.uniqueName,
      path: '/',
      interface: 'org.example.Hako',
      member: 'Big',
      signature: 'sa(sv)',
      body: [big, props as never],
    });
    // b reads the whole call (and answers it) while waiting for a signal that never comes.
    try {
      b.signal(() => false, 1000);
    } catch {
      /* expected: nothing matched */
    }
    try {
      a.reply(serial, 5000);
      assert.unreachable();
    } catch (e) {
      assert.instance(e, DBusError);
      assert.is((e as DBusError).errorName, 'org.freedesktop.DBus.Error.UnknownMethod');
    }
  } finally {
    a.close();
    b.close();
  }
});

t.run();
