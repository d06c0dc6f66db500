// A synchronous D-Bus connection: SASL EXTERNAL authentication, Hello on a
// message bus, method calls with their replies or errors, and signals kept
// until asked for. Synchronous on purpose: hako's commands are short-lived,
// every caller waits for the answer anyway, and blocking reads with
// poll(2) timeouts behave the same under Node and Bun (neither engine's
// event loop is involved).
//
// The byte stream is behind a Transport, so the protocol logic is tested
// against a scripted peer; the real transport is a unix socket from the
// addon's connectUnix, read and written with fs.readSync/writeSync.
import { readSync, writeSync } from 'node:fs';
import { native } from '../native.js';
import { Flags, MessageType, decodeMessage, encodeMessage, messageLength, type Message } from './message.js';
import { DBusWireError, type DBusValue } from './wire.js';

export interface Transport {
  write(data: Buffer): void;
  /** Up to 64 KiB that arrived within `timeoutMs`: null on timeout, empty at end of stream. */
  read(timeoutMs: number): Buffer | null;
  close(): void;
}

/** An error reply: its name (org.freedesktop.DBus.Error.…) and message. */
export class DBusError extends Error {
  constructor(
    readonly errorName: string,
    readonly detail: string,
  ) {
    super(detail ? `${errorName}: ${detail}` : errorName);
    this.name = 'DBusError';
  }
}

/** The connection itself failed (refused, closed, timed out, garbage). */
export class DBusConnectionError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'DBusConnectionError';
  }
}

// --- SASL (the specification's "Authentication Protocol") ------------------

/** The first bytes a client sends: the credentials NUL, then AUTH EXTERNAL with the uid in hex-encoded ASCII. */
export function authRequest(uid: number): string {
  return `\0AUTH EXTERNAL ${Buffer.from(String(uid), 'ascii').toString('hex')}\r\n`;
}

/** The server's answer to AUTH: OK with the server's GUID, or why not. */
export function parseAuthReply(line: string): { ok: true; guid: string } | { ok: false; reason: string } {
  const m = /^OK ([0-9a-fA-F]{32})$/.exec(line);
  if (m) return { ok: true, guid: m[1]! };
  if (line.startsWith('REJECTED')) return { ok: false, reason: `authentication rejected (the server offers: ${line.slice(8).trim() || 'nothing'})` };
  if (line.startsWith('ERROR')) return { ok: false, reason: `authentication error: ${line.slice(5).trim() || 'no reason given'}` };
  return { ok: false, reason: `unexpected authentication reply ${JSON.stringify(line.slice(0, 80))}` };
}

export interface ConnectOptions {
  /** A message bus (send Hello, add match rules) rather than a direct peer such as /run/systemd/private. */
  bus: boolean;
  /** For authentication and Hello; default 10 s. */
  timeoutMs?: number;
  uid?: number;
}

export class DBusConnection {
  private inbuf: Buffer = Buffer.alloc(0);
  private serial = 0;
  private readonly replies = new Map<number, Message>();
  private readonly signals: Message[] = [];
  private closed = false;
  /** The unique name the bus gave us (":1.42"); undefined on a direct connection. */
  uniqueName: string | undefined;

  constructor(
    private readonly t: Transport,
    /** Names the peer in messages: the socket path. */
    readonly peer: string,
  ) {}

  /** Authenticates and, on a bus, says Hello (pipelined: one round trip after AUTH). */
  static open(t: Transport, peer: string, opts: ConnectOptions): DBusConnection {
    const c = new DBusConnection(t, peer);
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    try {
      c.t.write(Buffer.from(authRequest(opts.uid ?? process.getuid?.() ?? 0), 'binary'));
      const reply = parseAuthReply(c.readLine(deadline));
      if (!reply.ok) throw new DBusConnectionError(`${peer}: ${reply.reason}`);
      c.t.write(Buffer.from('BEGIN\r\n', 'ascii'));
      if (opts.bus) {
        const [name] = c.call(
          { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'Hello' },
          deadline - Date.now(),
        );
        c.uniqueName = typeof name === 'string' ? name : undefined;
      }
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  private fill(deadline: number, what: string): void {
    if (this.closed) throw new DBusConnectionError(`${this.peer}: the connection is closed`);
    const left = deadline - Date.now();
    if (left <= 0) throw new DBusConnectionError(`${this.peer}: no answer ${what} within the timeout`, 'ETIMEDOUT');
    const got = this.t.read(left);
    if (got === null) throw new DBusConnectionError(`${this.peer}: no answer ${what} within the timeout`, 'ETIMEDOUT');
    if (got.length === 0) {
      this.close();
      throw new DBusConnectionError(`${this.peer}: the peer closed the connection ${what}`, 'ECONNRESET');
    }
    this.inbuf = this.inbuf.length ? Buffer.concat([this.inbuf, got]) : got;
  }

  private readLine(deadline: number): string {
    for (;;) {
      const i = this.inbuf.indexOf('\r\n');
      if (i >= 0) {
        const line = this.inbuf.subarray(0, i).toString('latin1');
        this.inbuf = this.inbuf.subarray(i + 2);
        return line;
      }
      if (this.inbuf.length > 16384) throw new DBusConnectionError(`${this.peer}: authentication line too long`);
      this.fill(deadline, 'to authentication');
    }
  }

  /** Parses every whole message received so far into the inbox. */
  private drain(): void {
    for (;;) {
      let len: number | undefined;
      let m: Message;
      try {
        len = messageLength(this.inbuf);
        if (len === undefined || this.inbuf.length < len) return;
        m = decodeMessage(this.inbuf.subarray(0, len));
      } catch (e) {
        this.close();
        throw new DBusConnectionError(`${this.peer}: malformed message: ${(e as Error).message}`);
      }
      this.inbuf = this.inbuf.subarray(len);
      this.accept(m);
    }
  }

  private accept(m: Message): void {
    if (m.type === MessageType.METHOD_RETURN || m.type === MessageType.ERROR) this.replies.set(m.replySerial!, m);
    else if (m.type === MessageType.SIGNAL) this.signals.push(m);
    else if (m.type === MessageType.METHOD_CALL && ((m.flags ?? 0) & Flags.NO_REPLY_EXPECTED) === 0) {
      // Nothing is exported here; a peer that asks deserves an answer
      // rather than a wait for its timeout.
      this.send({
        type: MessageType.ERROR,
        errorName: 'org.freedesktop.DBus.Error.UnknownMethod',
        replySerial: m.serial,
        destination: m.sender,
        signature: 's',
        body: ['hako exports no objects'],
      });
    }
    // Unknown message types are ignored, as the specification asks.
  }

  /** Sends a message; returns its serial. */
  send(m: Omit<Message, 'serial'>): number {
    if (this.closed) throw new DBusConnectionError(`${this.peer}: the connection is closed`);
    this.serial = this.serial >= 0xffffffff ? 1 : this.serial + 1;
    const bytes = encodeMessage({ ...m, serial: this.serial } as Message);
    try {
      this.t.write(bytes);
    } catch (e) {
      this.close();
      throw new DBusConnectionError(`${this.peer}: sending: ${(e as Error).message}`, (e as { code?: string }).code);
    }
    return this.serial;
  }

  /** Waits for the reply to `serial`: its body, or a DBusError for an error reply. */
  reply(serial: number, timeoutMs: number, what = 'to the call'): DBusValue[] {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.drain();
      const r = this.replies.get(serial);
      if (r) {
        this.replies.delete(serial);
        if (r.type === MessageType.ERROR) {
          const detail = r.signature?.startsWith('s') && typeof r.body?.[0] === 'string' ? r.body[0] : '';
          throw new DBusError(r.errorName!, detail);
        }
        return r.body ?? [];
      }
      this.fill(deadline, what);
    }
  }

  /** A method call and its reply. */
  call(m: Omit<Message, 'serial' | 'type'>, timeoutMs = 25_000): DBusValue[] {
    const serial = this.send({ ...m, type: MessageType.METHOD_CALL });
    return this.reply(serial, timeoutMs, `to ${m.interface ?? ''}${m.interface ? '.' : ''}${m.member}`);
  }

  /** The first signal (received already, or within the timeout) that `match` accepts; it is taken out of the inbox. */
  signal(match: (m: Message) => boolean, timeoutMs: number, what = 'signal'): Message {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      this.drain();
      const i = this.signals.findIndex(match);
      if (i >= 0) return this.signals.splice(i, 1)[0]!;
      // Signals nobody waits for would pile up over a long wait.
      if (this.signals.length > 1000) this.signals.splice(0, this.signals.length - 1000);
      this.fill(deadline, `(waiting for ${what})`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.t.close();
    } catch {
      /* closing is best effort */
    }
  }
}

/** A unix stream socket through the addon (blocking fd, poll(2) for timeouts). */
export function unixTransport(path: string): Transport {
  const n = native();
  let fd: number;
  try {
    fd = n.connectUnix(path);
  } catch (e) {
    throw new DBusConnectionError(`cannot connect to ${path}: ${(e as Error).message}`, (e as { code?: string }).code);
  }
  const buf = Buffer.alloc(65536);
  const retry = (e: unknown) => ['EINTR', 'EAGAIN'].includes((e as { code?: string }).code ?? '');
  return {
    write(data) {
      let off = 0;
      while (off < data.length) {
        try {
          off += writeSync(fd, data, off, data.length - off);
        } catch (e) {
          if (!retry(e)) throw e;
          n.poll(fd, n.constants.POLLOUT, 1000);
        }
      }
    },
    read(timeoutMs) {
      for (;;) {
        const ev = n.poll(fd, n.constants.POLLIN, Math.max(0, Math.ceil(timeoutMs)));
        if (ev === 0) return null;
        try {
          return Buffer.from(buf.subarray(0, readSync(fd, buf, 0, buf.length, null)));
        } catch (e) {
          if (!retry(e)) throw new DBusConnectionError(`reading from ${path}: ${(e as Error).message}`, (e as { code?: string }).code);
        }
      }
    },
    close() {
      n.close(fd);
    },
  };
}

export { DBusWireError };
