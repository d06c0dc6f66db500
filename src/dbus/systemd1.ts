// The part of systemd's D-Bus API (org.freedesktop.systemd1.Manager) the
// systemd cgroup driver uses: transient units, their properties, stopping
// them, and waiting for their jobs.
//
// Which socket: the system bus first, as runc (go-systemd's
// NewWithContext) and crun (sd_bus_default_system) do, so that the bus
// daemon's policy and logging see the calls; as root, systemd's private
// socket when the bus is not there (early boot, a minimal system without
// dbus-daemon). A private connection is peer to peer: no Hello, no match
// rules, and systemd sends it every signal.
//
// Waiting for a job: JobRemoved is sent to whoever queued the job (systemd
// tracks the job's requester), so a match rule for it, added before the
// call on the same connection, is enough and no Subscribe() is needed. crun
// waits the same way; Subscribe would make systemd signal every unit
// change of the host to us while the connection lasts.
import { existsSync } from 'node:fs';
import { DBusConnection, DBusConnectionError, DBusError, unixTransport, type Transport } from './connection.js';
import type { Message } from './message.js';
import { Variant, type DBusValue } from './wire.js';

export type Property = [name: string, value: Variant];

const DEST = 'org.freedesktop.systemd1';
const PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';

export const SYSTEM_BUS = '/run/dbus/system_bus_socket';
export const SYSTEMD_PRIVATE = '/run/systemd/private';

/** What the cgroup driver needs from systemd (faked in unit tests). */
export interface SystemdClient {
  /** Returns the job's object path. */
  startTransientUnit(name: string, mode: string, properties: Property[]): string;
  /** Returns the job's object path. */
  stopUnit(name: string, mode: string): string;
  resetFailedUnit(name: string): void;
  setUnitProperties(name: string, runtime: boolean, properties: Property[]): void;
  /** Waits for JobRemoved of `job`; returns its result ("done", "failed", "canceled", "timeout", "dependency", "skipped"). */
  waitJob(job: string, timeoutMs: number): string;
  /** Where we are connected, for messages. */
  readonly peer: string;
  close(): void;
}

/** The bus address from DBUS_SYSTEM_BUS_ADDRESS: its first unix:path= entry. */
export function systemBusPath(env: NodeJS.ProcessEnv = process.env): string {
  const addr = env.DBUS_SYSTEM_BUS_ADDRESS;
  if (!addr) return SYSTEM_BUS;
  for (const entry of addr.split(';')) {
    const m = /^unix:(.*)$/.exec(entry);
    if (!m) continue;
    for (const kv of m[1]!.split(',')) {
      const [k, v] = kv.split('=');
      if (k === 'path' && v) return decodeURIComponent(v);
    }
  }
  return SYSTEM_BUS;
}

export class Systemd1 implements SystemdClient {
  private constructor(
    private readonly c: DBusConnection,
    private readonly bus: boolean,
  ) {}

  get peer(): string {
    return this.c.peer;
  }

  /**
   * Connects (system bus, else the private socket as root) and, on the
   * bus, adds the JobRemoved match rule. `transport` is for tests.
   */
  static connect(opts: { transport?: (path: string) => Transport; timeoutMs?: number; euid?: number } = {}): Systemd1 {
    const open = opts.transport ?? unixTransport;
    const busPath = systemBusPath();
    let first: unknown;
    try {
      const c = DBusConnection.open(open(busPath), busPath, { bus: true, timeoutMs: opts.timeoutMs });
      const s = new Systemd1(c, true);
      const rule = `type='signal',sender='${DEST}',path='${PATH}',interface='${MANAGER}',member='JobRemoved'`;
      c.call(
        {
          destination: 'org.freedesktop.DBus',
          path: '/org/freedesktop/DBus',
          interface: 'org.freedesktop.DBus',
          member: 'AddMatch',
          signature: 's',
          body: [rule],
        },
        opts.timeoutMs,
      );
      return s;
    } catch (e) {
      first = e;
    }
    const code = (first as { code?: string }).code;
    const busMissing = first instanceof DBusConnectionError && (code === 'ENOENT' || code === 'ECONNREFUSED');
    if (busMissing && (opts.euid ?? process.geteuid?.() ?? 0) === 0 && (opts.transport || existsSync(SYSTEMD_PRIVATE))) {
      const c = DBusConnection.open(open(SYSTEMD_PRIVATE), SYSTEMD_PRIVATE, { bus: false, timeoutMs: opts.timeoutMs });
      return new Systemd1(c, false);
    }
    throw first;
  }

  private manager(member: string, signature: string, body: DBusValue[]): DBusValue[] {
    return this.c.call({ destination: DEST, path: PATH, interface: MANAGER, member, signature, body });
  }

  startTransientUnit(name: string, mode: string, properties: Property[]): string {
    return this.manager('StartTransientUnit', 'ssa(sv)a(sa(sv))', [name, mode, properties, []])[0] as string;
  }

  stopUnit(name: string, mode: string): string {
    return this.manager('StopUnit', 'ss', [name, mode])[0] as string;
  }

  resetFailedUnit(name: string): void {
    this.manager('ResetFailedUnit', 's', [name]);
  }

  setUnitProperties(name: string, runtime: boolean, properties: Property[]): void {
    this.manager('SetUnitProperties', 'sba(sv)', [name, runtime, properties]);
  }

  waitJob(job: string, timeoutMs: number): string {
    // On the bus, only a broadcast can be systemd's: the daemon hands us
    // broadcasts through our match rule, which names systemd as the sender,
    // while a signal addressed to us could come from any client.
    const isOurs = (m: Message) =>
      m.member === 'JobRemoved' &&
      m.interface === MANAGER &&
      m.path === PATH &&
      (!this.bus || m.destination === undefined) &&
      m.signature === 'uoss' &&
      m.body?.[1] === job;
    const m = this.c.signal(isOurs, timeoutMs, `the end of job ${job}`);
    return m.body![3] as string;
  }

  close(): void {
    this.c.close();
  }
}

export { DBusConnectionError, DBusError, Variant };

/** Property constructors, so that callers name D-Bus types once. */
export const prop = {
  s: (name: string, v: string): Property => [name, new Variant('s', v)],
  b: (name: string, v: boolean): Property => [name, new Variant('b', v)],
  t: (name: string, v: bigint): Property => [name, new Variant('t', v)],
  as: (name: string, v: string[]): Property => [name, new Variant('as', v)],
  au: (name: string, v: number[]): Property => [name, new Variant('au', v)],
  ay: (name: string, v: Uint8Array): Property => [name, new Variant('ay', v)],
  ass: (name: string, v: Array<[string, string]>): Property => [name, new Variant('a(ss)', v)],
  ast: (name: string, v: Array<[string, bigint]>): Property => [name, new Variant('a(st)', v)],
};
