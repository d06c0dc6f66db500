// An unprivileged user for the rootless tests, made and removed by the test
// (as root): a passwd entry with its own group, a private directory it owns
// (its HOME, XDG_RUNTIME_DIR and bundles), optional /etc/subuid and
// /etc/subgid ranges. Commands run as it through setpriv, with the
// environment a login would give (no inherited PATH tricks, no root HOME).
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  cpSync,
  existsSync,
  lchownSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { BUSYBOX_BUNDLE, HAKO, type Result } from './helpers.js';

const SUBID_FILES = ['/etc/subuid', '/etc/subgid'];
// By absolute path: a test may run hako with a PATH that finds nothing.
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? 'setpriv';

let counter = 0;

function chownTree(p: string, uid: number, gid: number): void {
  lchownSync(p, uid, gid);
  let entries: string[] = [];
  try {
    entries = readdirSync(p);
  } catch {
    return; /* not a directory */
  }
  for (const e of entries) chownTree(path.join(p, e), uid, gid);
}

export class TestUser {
  readonly uid: number;
  readonly gid: number;
  /** Its own directory (0755, so that what it bind-mounts from here can be found). */
  readonly dir: string;
  /** XDG_RUNTIME_DIR: 0700, its own, as pam_systemd makes it. */
  readonly xdg: string;
  private subids = false;

  private constructor(
    readonly name: string,
    dir: string,
  ) {
    const pw = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => f[0] === name);
    if (!pw) throw new Error(`useradd ${name}: no passwd entry afterwards`);
    this.uid = Number(pw[2]);
    this.gid = Number(pw[3]);
    this.dir = dir;
    this.xdg = path.join(dir, 'xdg');
    mkdirSync(this.xdg, { recursive: true });
    chownSync(dir, this.uid, this.gid);
    chmodSync(dir, 0o755);
    chownSync(this.xdg, this.uid, this.gid);
    chmodSync(this.xdg, 0o700);
  }

  /** useradd (no home directory, own group); names are short: useradd takes 32 characters at most. */
  static create(dir: string): TestUser {
    const name = `hakorl${process.pid}x${++counter}`;
    // No subordinate ids of useradd's choosing (Debian's useradd hands out
    // 65536 by default): a test adds exactly the ranges it means.
    const r = spawnSync(
      'useradd',
      ['--no-create-home', '--user-group', '--shell', '/usr/sbin/nologin', '--home-dir', dir, '-K', 'SUB_UID_COUNT=0', '-K', 'SUB_GID_COUNT=0', name],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`useradd ${name}: ${r.stderr.trim() || r.error}`);
    mkdirSync(dir, { recursive: true });
    return new TestUser(name, dir);
  }

  /** An /etc/subuid and /etc/subgid range for newuidmap/newgidmap. */
  addSubids(start: number, count: number): void {
    for (const f of SUBID_FILES) {
      const text = existsSync(f) ? readFileSync(f, 'utf8') : '';
      writeFileSync(f, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${this.name}:${start}:${count}\n`);
    }
    this.subids = true;
  }

  /** A bundle it owns: a copy of the busybox rootfs and config.json (`edit` changes it). */
  bundle(config: any, name = `b${++counter}`): string {
    const b = path.join(this.dir, name);
    cpSync(path.join(BUSYBOX_BUNDLE, 'rootfs'), path.join(b, 'rootfs'), { recursive: true, verbatimSymlinks: true });
    writeFileSync(path.join(b, 'config.json'), JSON.stringify(config, null, 2));
    chownTree(b, this.uid, this.gid);
    return b;
  }

  /** The environment of its session: XDG_RUNTIME_DIR, HOME, USER, a plain PATH. */
  env(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin',
      HOME: this.dir,
      USER: this.name,
      LOGNAME: this.name,
      XDG_RUNTIME_DIR: this.xdg,
      ...extra,
    };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    return env;
  }

  /** argv as this user (setpriv: its uid, gid and groups, no capabilities), output to files. */
  run(argv: string[], opts: SpawnSyncOptions & { envExtra?: Record<string, string | undefined>; prefix?: string[] } = {}): Result {
    const n = ++counter;
    const outFile = path.join(this.dir, `.out-${n}`);
    const errFile = path.join(this.dir, `.err-${n}`);
    const out = openSync(outFile, 'w');
    const err = openSync(errFile, 'w');
    try {
      const cmd = [...(opts.prefix ?? []), SETPRIV, '--reuid', String(this.uid), '--regid', String(this.gid), '--init-groups', '--', ...argv];
      const r = spawnSync(cmd[0]!, cmd.slice(1), { timeout: 120_000, stdio: ['ignore', out, err], cwd: this.dir, env: this.env(opts.envExtra), ...opts });
      if (r.error) throw r.error;
      return { status: r.status, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') };
    } finally {
      closeSync(out);
      closeSync(err);
      rmSync(outFile, { force: true });
      rmSync(errFile, { force: true });
    }
  }

  /** bin/hako as this user, with its default state root ($XDG_RUNTIME_DIR/hako) unless args say otherwise. */
  hako(args: string[], opts: Parameters<TestUser['run']>[1] = {}): Result {
    return this.run([HAKO, ...args], opts);
  }

  /** Force-deletes its containers, then removes the user, its group, its subid ranges and its directory. */
  remove(): void {
    const listed = this.hako(['list', '--format', 'json']);
    for (const s of (listed.status === 0 ? JSON.parse(listed.stdout || 'null') : null) ?? []) this.hako(['delete', '--force', s.id]);
    if (this.subids) {
      for (const f of SUBID_FILES) {
        if (!existsSync(f)) continue;
        const kept = readFileSync(f, 'utf8')
          .split('\n')
          .filter((l) => l !== '' && !l.startsWith(`${this.name}:`));
        writeFileSync(f, kept.length ? kept.join('\n') + '\n' : '');
      }
    }
    spawnSync('userdel', [this.name], { encoding: 'utf8' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
