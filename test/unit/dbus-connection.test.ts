// The D-Bus connection against a scripted peer: authentication, Hello,
// replies matched by serial whatever their order, error replies, signals
// kept until asked for, timeouts and a peer that hangs up; and the systemd
// client on top (bus or private socket, job waits that only believe
// systemd).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DBusConnection, DBusConnectionError, DBusError, authRequest, parseAuthReply, type Transport } from '../../src/dbus/connection.js';
import { MessageType, decodeMessage, encodeMessage, messageLength, type Message } from '../../src/dbus/message.js';
import { Systemd1, systemBusPath } from '../../src/dbus/systemd1.js';
import { Variant } from '../../src/dbus/wire.js';

const GUID = '0123456789abcdef0123456789abcdef';

/**
 * A peer that answers each message the client sends with what `respond`
 * returns (auth lines are answered first). Records everything.
 */
class FakePeer implements Transport {
  sent: Message[] = [];
  rawAuth = '';
  private pending: Buffer[] = [];
  private buf = Buffer.alloc(0);
  private authed = false;
  private serial = 100;
  closed = false;
  hangUp = false;

  constructor(private readonly respond: (m: Message, peer: FakePeer) => Array<Partial<Message>>) {}

  queue(m: Partial<Message>): void {
    this.pending.push(encodeMessage({ serial: ++this.serial, ...m } as Message));
  }

  write(data: Buffer): void {
    this.buf = Buffer.concat([this.buf, data]);
    if (!this.authed) {
      const s = this.buf.toString('latin1');
      const i = s.indexOf('\r\n');
      if (i < 0) return;
      this.rawAuth = s.slice(0, i + 2);
      this.buf = this.buf.subarray(i + 2);
      this.authed = true;
      this.pending.push(Buffer.from(`OK ${GUID}\r\n`));
    }
    if (this.buf.toString('latin1').startsWith('BEGIN\r\n')) this.buf = this.buf.subarray(7);
    for (;;) {
      const len = messageLength(this.buf);
      if (len === undefined || this.buf.length < len) return;
      const m = decodeMessage(this.buf.subarray(0, len));
      this.buf = this.buf.subarray(len);
      this.sent.push(m);
      for (const r of this.respond(m, this)) this.queue(r);
    }
  }

  read(): Buffer | null {
    if (this.pending.length === 0) return this.hangUp ? Buffer.alloc(0) : null;
    // One message per read, as a slow socket would deliver them.
    return this.pending.shift()!;
  }

  close(): void {
    this.closed = true;
  }
}

const ret = (m: Message, signature = '', body: unknown[] = []): Partial<Message> => ({
  type: MessageType.METHOD_RETURN,
  replySerial: m.serial,
  destination: ':1.7',
  signature,
  body: body as never,
});
const busPeer = (more: (m: Message, p: FakePeer) => Array<Partial<Message>> = () => []) =>
  new FakePeer((m, p) => {
    if (m.member === 'Hello') return [ret(m, 's', [':1.7'])];
    if (m.member === 'AddMatch') return [ret(m)];
    return more(m, p);
  });

test('SASL: AUTH EXTERNAL with the uid in hex, and the replies', () => {
  assert.is(authRequest(0), '\0AUTH EXTERNAL 30\r\n');
  assert.is(authRequest(1000), '\0AUTH EXTERNAL 31303030\r\n');
  assert.equal(parseAuthReply(`OK ${GUID}`), { ok: true, guid: GUID });
  assert.equal(parseAuthReply('REJECTED EXTERNAL DBUS_COOKIE_SHA1'), {
    ok: false,
    reason: 'authentication rejected (the server offers: EXTERNAL DBUS_COOKIE_SHA1)',
  });
  assert.is(parseAuthReply('ERROR nope').ok, false);
  assert.is(parseAuthReply('DATA').ok, false);
});

test('open: authenticates, says Hello on a bus, not on a direct connection', () => {
  const p = busPeer();
  const c = DBusConnection.open(p, 'bus', { bus: true, uid: 0 });
  assert.is(p.rawAuth, '\0AUTH EXTERNAL 30\r\n');
  assert.is(c.uniqueName, ':1.7');
  assert.equal(
    p.sent.map((m) => m.member),
    ['Hello'],
  );
  const direct = new FakePeer(() => []);
  const d = DBusConnection.open(direct, 'private', { bus: false, uid: 0 });
  assert.is(d.uniqueName, undefined);
  assert.equal(direct.sent, []);
});

test('replies are matched by serial; errors become DBusError; signals wait in the inbox', () => {
  const p = busPeer((m, peer) => {
    if (m.member === 'Slow') return [];
    if (m.member === 'Fast') {
      // The answer to Slow comes after Fast's, with a signal in between.
      const slow = peer.sent.find((x) => x.member === 'Slow')!;
      return [
        ret(m, 's', ['fast']),
        { type: MessageType.SIGNAL, path: '/x', interface: 'a.b', member: 'Sig', signature: 'u', body: [1] },
        ret(slow, 's', ['slow']),
      ];
    }
    if (m.member === 'Fail')
      return [{ type: MessageType.ERROR, replySerial: m.serial, errorName: 'org.example.Error.Nope', signature: 's', body: ['not today'] }];
    return [];
  });
  const c = DBusConnection.open(p, 'bus', { bus: true, uid: 0 });
  const slow = c.send({ type: MessageType.METHOD_CALL, path: '/', member: 'Slow' });
  assert.equal(c.call({ path: '/', member: 'Fast' }), ['fast']);
  assert.equal(c.reply(slow, 1000), ['slow']);
  assert.is(c.signal((m) => m.member === 'Sig', 1000).body![0], 1);
  try {
    c.call({ path: '/', member: 'Fail' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, DBusError);
    assert.is((e as DBusError).errorName, 'org.example.Error.Nope');
    assert.is((e as Error).message, 'org.example.Error.Nope: not today');
  }
});

test('a method call from the peer is answered with UnknownMethod', () => {
  const p = busPeer((m) =>
    m.member === 'Ping' ? [{ type: MessageType.METHOD_CALL, serial: 5, path: '/', member: 'Introspect', sender: ':1.0' }, ret(m)] : [],
  );
  const c = DBusConnection.open(p, 'bus', { bus: true, uid: 0 });
  c.call({ path: '/', member: 'Ping' });
  const answer = p.sent.find((m) => m.type === MessageType.ERROR)!;
  assert.is(answer.errorName, 'org.freedesktop.DBus.Error.UnknownMethod');
  assert.is(answer.destination, ':1.0');
});

test('no answer within the timeout, and a peer that hangs up, are DBusConnectionErrors', () => {
  const p = busPeer(() => []);
  const c = DBusConnection.open(p, 'bus', { bus: true, uid: 0 });
  try {
    c.call({ path: '/', member: 'Nothing' }, 50);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, DBusConnectionError);
    assert.is((e as DBusConnectionError).code, 'ETIMEDOUT');
  }
  p.hangUp = true;
  try {
    c.call({ path: '/', member: 'Nothing' }, 50);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, DBusConnectionError);
    assert.is((e as DBusConnectionError).code, 'ECONNRESET');
  }
  assert.is(p.closed, true);
});

test('authentication refused', () => {
  const t: Transport = {
    write: () => {},
    read: () => Buffer.from('REJECTED EXTERNAL\r\n'),
    close: () => {},
  };
  try {
    DBusConnection.open(t, '/run/dbus/system_bus_socket', { bus: true, uid: 0 });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /^\/run\/dbus\/system_bus_socket: authentication rejected/);
  }
});

test('DBUS_SYSTEM_BUS_ADDRESS names the bus socket', () => {
  assert.is(systemBusPath({}), '/run/dbus/system_bus_socket');
  assert.is(systemBusPath({ DBUS_SYSTEM_BUS_ADDRESS: 'tcp:host=x;unix:guid=1,path=/run/x%20y' }), '/run/x y');
  assert.is(systemBusPath({ DBUS_SYSTEM_BUS_ADDRESS: 'unix:abstract=foo' }), '/run/dbus/system_bus_socket');
});

const JOB = '/org/freedesktop/systemd1/job/42';
const jobRemoved = (result: string, extra: Partial<Message> = {}): Partial<Message> => ({
  type: MessageType.SIGNAL,
  path: '/org/freedesktop/systemd1',
  interface: 'org.freedesktop.systemd1.Manager',
  member: 'JobRemoved',
  sender: ':1.0',
  signature: 'uoss',
  body: [42, JOB, 'hako-a.scope', result],
  ...extra,
});

test('systemd over the bus: the JobRemoved match before the call, StartTransientUnit, then the job', () => {
  const p = busPeer((m) => (m.member === 'StartTransientUnit' ? [ret(m, 'o', [JOB]), jobRemoved('done')] : []));
  const sd = Systemd1.connect({ transport: () => p });
  const job = sd.startTransientUnit('hako-a.scope', 'replace', [['Delegate', new Variant('b', true)]]);
  assert.is(job, JOB);
  assert.is(sd.waitJob(job, 1000), 'done');
  assert.equal(
    p.sent.map((m) => m.member),
    ['Hello', 'AddMatch', 'StartTransientUnit'],
  );
  assert.match(p.sent[1]!.body![0] as string, /member='JobRemoved'/);
  const stu = p.sent[2]!;
  assert.equal(
    [stu.destination, stu.path, stu.interface, stu.signature],
    ['org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'ssa(sv)a(sa(sv))'],
  );
  assert.equal(stu.body, ['hako-a.scope', 'replace', [['Delegate', new Variant('b', true)]], []]);
});

test("systemd over the bus: a JobRemoved addressed to us is not systemd's broadcast, and is not believed", () => {
  const p = busPeer((m) =>
    m.member === 'StopUnit' ? [ret(m, 'o', [JOB]), jobRemoved('done', { destination: ':1.7', sender: ':1.99' }), jobRemoved('canceled')] : [],
  );
  const sd = Systemd1.connect({ transport: () => p });
  assert.is(sd.waitJob(sd.stopUnit('hako-a.scope', 'replace'), 1000), 'canceled');
});

test('systemd: without a bus, root falls back to the private socket (no Hello, no match rule)', () => {
  const priv = new FakePeer((m) => (m.member === 'ResetFailedUnit' ? [ret(m)] : []));
  const opened: string[] = [];
  const sd = Systemd1.connect({
    euid: 0,
    transport: (path) => {
      opened.push(path);
      if (path === '/run/dbus/system_bus_socket') throw new DBusConnectionError(`cannot connect to ${path}: ENOENT`, 'ENOENT');
      return priv;
    },
  });
  assert.equal(opened, ['/run/dbus/system_bus_socket', '/run/systemd/private']);
  assert.is(sd.peer, '/run/systemd/private');
  sd.resetFailedUnit('hako-a.scope');
  assert.equal(
    priv.sent.map((m) => m.member),
    ['ResetFailedUnit'],
  );
});

test.run();
