// The conformance suite's harness: a check is one requirement of
// runtime-spec 1.3.0, run against any runtime with runc's command line
// (create --bundle B --pid-file P ID, start, state, kill ID SIG, delete,
// run, features). Checks observe from inside the container with the
// bundle's busybox, or from the host (/proc, cgroups) where only the host
// can see.
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cmd, failure, ok, pollExit, alive, type CmdOptions, type CmdResult } from '../bench/proc.js';
import { native } from '../src/native.js';

export type Level = 'MUST' | 'SHOULD';

export interface Check {
  /** Stable identifier, used by compare tables: `area.what`. */
  id: string;
  /** Where the requirement is: `runtime.md#start`, `config-linux.md#devices`. */
  section: string;
  level: Level;
  /** The requirement, in a few words. */
  title: string;
  run(t: T): Promise<void>;
}

export class Skip extends Error {}
export class Failed extends Error {}

/** A container's config.json, as a plain object. */
export type Config = Record<string, any>;

export interface State {
  ociVersion?: unknown;
  id?: unknown;
  status?: unknown;
  pid?: unknown;
  bundle?: unknown;
  annotations?: unknown;
  [k: string]: unknown;
}

export interface Suite {
  runtime: string;
  /** The example bundle: config.json and a busybox rootfs. */
  example: string;
  tmp: string;
}

let seq = 0;

/** The context of one check: its own --root, bundles and containers. */
export class T {
  readonly dir: string;
  readonly root: string;
  private readonly containers = new Map<string, number | null>();
  private readonly cleanups: (() => void | Promise<void>)[] = [];
  /** Notes printed as TAP diagnostics, pass or fail. */
  readonly notes: string[] = [];

  constructor(
    readonly suite: Suite,
    readonly check: Check,
  ) {
    this.dir = mkdtempSync(path.join(suite.tmp, `${check.id.replace(/[^A-Za-z0-9]/g, '-')}-`));
    this.root = path.join(this.dir, 'state');
  }

  // ---------------------------------------------------------- outcomes

  fail(msg: string): never {
    throw new Failed(msg);
  }
  skip(msg: string): never {
    throw new Skip(msg);
  }
  assert(cond: unknown, msg: string): void {
    if (!cond) this.fail(msg);
  }
  /** Deep equality; object keys in any order. */
  eq<V>(actual: V, expected: V, what: string): void {
    const a = canonical(actual);
    const e = canonical(expected);
    if (a !== e) this.fail(`${what}: got ${a}, want ${e}`);
  }
  note(msg: string): void {
    this.notes.push(msg);
  }
  defer(fn: () => void | Promise<void>): void {
    this.cleanups.push(fn);
  }

  // ---------------------------------------------------------- bundles

  /** The example config with `args` set to `true` and a writable rootfs. */
  baseConfig(): Config {
    const c = JSON.parse(readFileSync(path.join(this.suite.example, 'config.json'), 'utf8')) as Config;
    c.process.args = ['true'];
    c.process.terminal = false;
    c.root = { path: 'rootfs', readonly: false };
    return c;
  }

  /**
   * A bundle with its own copy of the rootfs; `edit` changes the config,
   * `prepare` the rootfs before the config is written.
   */
  bundle(edit?: (c: Config, bundle: string) => void, name = `b${++seq}`): string {
    const b = path.join(this.dir, name);
    cpSync(path.join(this.suite.example, 'rootfs'), path.join(b, 'rootfs'), { recursive: true, verbatimSymlinks: true });
    const c = this.baseConfig();
    edit?.(c, b);
    this.writeConfig(b, c);
    return b;
  }

  writeConfig(bundle: string, c: Config): void {
    writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(c, null, 2));
  }

  /** Writes an executable file (a script) at `rel` inside the bundle's rootfs, or at an absolute host path. */
  file(p: string, content: string, mode = 0o755): string {
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
    chmodSync(p, mode);
    return p;
  }

  id(prefix = 'c'): string {
    return `${prefix}-${process.pid}-${++seq}`;
  }

  // ---------------------------------------------------------- the runtime

  /** `<runtime> --root <root> ...args`. */
  rt(args: string[], opts: CmdOptions = {}): Promise<CmdResult> {
    return cmd([this.suite.runtime, '--root', this.root, ...args], { timeoutMs: 60_000, ...opts });
  }

  /** Like rt, but the check fails when the command does. */
  async must(args: string[], what: string, opts: CmdOptions = {}): Promise<CmdResult> {
    const r = await this.rt(args, opts);
    if (!ok(r)) this.fail(`${what} failed: ${failure(r)}`);
    return r;
  }

  /**
   * Foreground `run` of `sh -c script` in a fresh bundle; returns the
   * container's stdout. The check fails when the run does, unless
   * `allowFail`.
   */
  async sh(script: string, edit?: (c: Config, bundle: string) => void, opts: { allowFail?: boolean; bundle?: string } = {}): Promise<CmdResult> {
    const b =
      opts.bundle ??
      this.bundle((c, bd) => {
        c.process.args = ['sh', '-c', script];
        edit?.(c, bd);
      });
    const id = this.id();
    this.containers.set(id, null);
    const r = await this.rt(['run', '--bundle', b, id]);
    if (!opts.allowFail && !ok(r)) this.fail(`run failed: ${failure(r)}`);
    return r;
  }

  /** create; the check fails when it does. Returns the id and the init pid. */
  async create(bundle: string, id = this.id(), opts: CmdOptions = {}): Promise<{ id: string; pid: number; r: CmdResult }> {
    const pf = path.join(this.dir, `${id}.pid`);
    this.containers.set(id, null);
    const r = await this.rt(['create', '--bundle', bundle, '--pid-file', pf, id], opts);
    if (!ok(r)) this.fail(`create failed: ${failure(r)}`);
    const pid = existsSync(pf) ? Number.parseInt(readFileSync(pf, 'utf8'), 10) : Number.NaN;
    if (!Number.isSafeInteger(pid) || pid <= 0) this.fail('create wrote no pid file');
    this.containers.set(id, pid);
    return { id, pid, r };
  }

  /** create, expecting an error. */
  async createFails(bundle: string, what: string): Promise<CmdResult> {
    const id = this.id();
    this.containers.set(id, null);
    const pf = path.join(this.dir, `${id}.pid`);
    const r = await this.rt(['create', '--bundle', bundle, '--pid-file', pf, id]);
    if (ok(r)) {
      if (existsSync(pf)) this.containers.set(id, Number.parseInt(readFileSync(pf, 'utf8'), 10));
      this.fail(`create succeeded ${what}`);
    }
    return r;
  }

  /** create + start of a bundle whose process keeps running. */
  async running(bundle: string): Promise<{ id: string; pid: number }> {
    const c = await this.create(bundle);
    await this.must(['start', c.id], 'start');
    return c;
  }

  async state(id: string): Promise<State> {
    const r = await this.must(['state', id], 'state');
    try {
      return JSON.parse(r.stdout) as State;
    } catch {
      this.fail(`state printed no JSON: ${JSON.stringify(r.stdout.slice(0, 200))}`);
    }
  }

  /** Waits for a container init (re-parented to us) to exit. */
  async waitExit(pid: number, timeoutMs = 20_000): Promise<{ exitCode: number | null; signal: number | null }> {
    const w = await pollExit(pid, timeoutMs, 5);
    if (!w) this.fail(`the container process ${pid} did not exit within ${timeoutMs / 1000} s`);
    return w;
  }

  /** Waits until the state says `status` (e.g. stopped after a kill). */
  async waitStatus(id: string, status: string, timeoutMs = 10_000): Promise<State> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.state(id);
      if (s.status === status) return s;
      if (Date.now() > end) this.fail(`status is ${JSON.stringify(s.status)} after ${timeoutMs / 1000} s, want ${status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  forget(id: string): void {
    this.containers.delete(id);
  }

  /** Force-deletes whatever is left, reaps inits, removes the directory. */
  async cleanup(): Promise<void> {
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn();
      } catch {
        /* best effort */
      }
    }
    for (const [id, pid] of this.containers) {
      await cmd([this.suite.runtime, '--root', this.root, 'delete', '--force', id], { timeoutMs: 30_000 }).catch(() => null);
      if (pid !== null) {
        if (alive(pid) && isOurs(pid)) {
          try {
            native().kill(pid, 9);
          } catch {
            /* gone */
          }
        }
        await pollExit(pid, 5_000, 5);
      }
    }
    // Mounts the runtime may have left in the host namespace (a container
    // without a mount namespace) would make rm fail: leave those for a human.
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** JSON with object keys sorted, for order-insensitive comparison of maps. */
export function canonical(v: unknown): string {
  return (
    JSON.stringify(v, (_k, x: unknown) =>
      x && typeof x === 'object' && !Array.isArray(x)
        ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : x,
    ) ?? 'undefined'
  );
}

/** A process whose parent is us: a container init re-parented to the subreaper. */
function isOurs(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
    return ppid === process.pid;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------ host helpers

/** `readlink /proc/PID/ns/TYPE`: `net:[4026531840]`. */
export function nsOf(pid: number | 'self', type: string): string {
  return readlinkSync(`/proc/${pid}/ns/${type}`);
}

/** `key=value` lines printed by a script → a map. */
export function kv(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1));
  }
  return m;
}

/** A mountinfo line, parsed. */
export interface MountInfo {
  id: number;
  parent: number;
  majmin: string;
  root: string;
  mountPoint: string;
  options: string[];
  optional: string[];
  fstype: string;
  source: string;
  superOptions: string[];
}

export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const f = pre.split(' ');
    const g = post.split(' ');
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      majmin: f[2]!,
      root: unescapeMount(f[3]!),
      mountPoint: unescapeMount(f[4]!),
      options: f[5]!.split(','),
      optional: f.slice(6),
      fstype: g[0]!,
      source: unescapeMount(g[1] ?? ''),
      superOptions: (g[2] ?? '').split(','),
    });
  }
  return out;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** The last (visible) mount at `mountPoint`. */
export function mountAt(mounts: MountInfo[], mountPoint: string): MountInfo | undefined {
  return mounts.filter((m) => m.mountPoint === mountPoint).pop();
}

/** Capability names → bit numbers (capabilities(7), Linux 5.9+). */
export const CAPS: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** A hex capability mask (CapBnd: 00000000a80425fb) → sorted names. */
export function capNames(hex: string): string[] {
  const v = BigInt(`0x${hex.trim()}`);
  const out: string[] = [];
  for (let i = 0; i < 64; i++) if ((v >> BigInt(i)) & 1n) out.push(CAPS[i] ?? `CAP_${i}`);
  return out.sort();
}

/** The host's bounding set (ours), to tell "the host cannot grant it" apart. */
export function ourBounding(): string[] {
  const m = /^CapBnd:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? capNames(m[1]!) : [];
}

/** The cgroup mount point holding a v1 controller, or the cgroup2 mount. */
export function cgroupMount(controller: string, version: 1 | 2): string | null {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const mp = pre.split(' ')[4]!;
    const [fstype, , opts] = post.split(' ');
    if (version === 1 && fstype === 'cgroup' && (opts ?? '').split(',').includes(controller)) return mp;
    if (version === 2 && fstype === 'cgroup2') return mp;
  }
  return null;
}

/**
 * The directory of `pid`'s cgroup for a controller: v1 when the controller
 * is mounted as v1, else the v2 hierarchy if it has the controller.
 */
export function cgroupDirOf(pid: number, controller: string): { version: 1 | 2; dir: string } | null {
  const text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  let v2: string | null = null;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') v2 = m[3]!;
    else if (m[2]!.split(',').includes(controller)) {
      const mnt = cgroupMount(controller, 1);
      return mnt ? { version: 1, dir: path.join(mnt, m[3]!) } : null;
    }
  }
  if (v2 === null) return null;
  const mnt = cgroupMount(controller, 2);
  if (!mnt) return null;
  const ctrls = readFileSync(path.join(mnt, 'cgroup.controllers'), 'utf8').split(/\s+/);
  return ctrls.includes(controller) ? { version: 2, dir: path.join(mnt, v2) } : null;
}

export { ok, failure };
