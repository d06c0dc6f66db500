// One runtime under test: its binary, its own --root and its own bundles
// under the benchmark's temporary directory.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cmd, ok, type CmdOptions, type CmdResult } from './proc.js';

export interface Runtime {
  /** Short name for tables: the binary's basename (made unique). */
  name: string;
  bin: string;
  /** The runtime's --root, under the benchmark's temporary directory. */
  root: string;
  /** The runtime's private directory (rootfs copy, bundles). */
  dir: string;
  /** The rootfs copy every bundle of this runtime points at (read-only). */
  rootfs: string;
  version: string;
  /** The interpreter named by the binary's #! line (node, bun), if it is a script. */
  engine: string | null;
}

/** config.json of the example bundle, as a plain object. */
export type Config = Record<string, any>;

export function loadConfig(bundle: string): Config {
  return JSON.parse(readFileSync(path.join(bundle, 'config.json'), 'utf8')) as Config;
}

/** `stateBase`: where the --root goes (the benchmark's tmpfs); else in the runtime's directory. */
export async function makeRuntime(bin: string, base: string, taken: Set<string>, srcBundle: string, stateBase?: string): Promise<Runtime> {
  let name = path.basename(bin);
  for (let i = 2; taken.has(name); i++) name = `${path.basename(bin)}#${i}`;
  taken.add(name);
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  const dir = path.join(base, safe);
  const root = stateBase ? path.join(stateBase, safe) : path.join(dir, 'state');
  const rootfs = path.join(dir, 'rootfs');
  mkdirSync(dir, { recursive: true });
  cpSync(path.join(srcBundle, 'rootfs'), rootfs, { recursive: true, verbatimSymlinks: true });
  const v = await cmd([bin, '--version'], { timeoutMs: 20_000 });
  const version = ok(v) ? v.stdout.split('\n')[0]!.trim() : `(--version failed: exit ${v.code})`;
  return { name, bin, root, dir, rootfs, version, engine: engineOf(bin) };
}

/** `#!/usr/bin/node` → 'node'; null for a binary. */
export function engineOf(bin: string): string | null {
  try {
    const head = readFileSync(bin).subarray(0, 200).toString('latin1');
    if (!head.startsWith('#!')) return null;
    const m = /\b(node|bun|deno)\b/.exec(head.split('\n')[0]!);
    return m ? m[1]! : null;
  } catch {
    return null;
  }
}

/**
 * Writes a bundle directory (config.json only) whose root.path is the
 * runtime's rootfs copy, read-only: bundles are cheap, rootfs copies are not.
 */
export function makeBundle(rt: Runtime, name: string, base: Config, edit: (c: Config) => void): string {
  const dir = path.join(rt.dir, `bundle-${name}`);
  mkdirSync(dir, { recursive: true });
  const c = structuredClone(base);
  c.root = { path: rt.rootfs, readonly: true };
  c.process.terminal = false;
  edit(c);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c, null, 2));
  return dir;
}

let idSeq = 0;
export function newId(prefix = 'bench'): string {
  return `${prefix}-${process.pid}-${++idSeq}`;
}

/** `<bin> --root <root> ...args`. */
export function rc(rt: Runtime, args: string[], opts?: CmdOptions): Promise<CmdResult> {
  return cmd([rt.bin, '--root', rt.root, ...args], opts);
}

export function pidFile(rt: Runtime, id: string): string {
  return path.join(rt.dir, `${id}.pid`);
}

/** The pid in a pid file (runc writes no newline), or null. */
export function readPid(file: string): number | null {
  if (!existsSync(file)) return null;
  const n = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}
