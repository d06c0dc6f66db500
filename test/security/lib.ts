// Shared by the security tests (test/security/*.test.ts). Each test attacks
// only canary files it made, and runs a control in the same run: the same
// attack where the defence is absent (a host process standing in for a
// runtime without it, or a config without it), so that a test cannot pass by
// failing to attack.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Env } from '../helpers.js';

/** A host file (and its directory) an attack aims at; its content is random. */
export class Canary {
  readonly dir: string;
  readonly file: string;
  readonly content: string;
  private readonly mtimeNs: bigint;

  constructor(env: Env, name: string) {
    this.dir = path.join(env.dir, `canary-${name}`);
    mkdirSync(this.dir, { mode: 0o755 });
    this.file = path.join(this.dir, 'secret');
    this.content = `canary ${name} ${randomBytes(8).toString('hex')}\n`;
    writeFileSync(this.file, this.content, { mode: 0o644 });
    this.mtimeNs = statSync(this.file, { bigint: true }).mtimeNs;
  }

  /** The file as made, and nothing added beside it. */
  intact(): boolean {
    try {
      return (
        readFileSync(this.file, 'utf8') === this.content &&
        statSync(this.file, { bigint: true }).mtimeNs === this.mtimeNs &&
        readdirSync(this.dir).join('/') === 'secret'
      );
    } catch {
      return false;
    }
  }

  /** What is in the directory now besides the secret (an attack's leftovers). */
  extra(): string[] {
    return readdirSync(this.dir).filter((n) => n !== 'secret');
  }
}

/** A bounded race: runs `attempt` up to `n` times, stops at the first true. Returns the attempt that won, or -1. */
export function race(n: number, attempt: (i: number) => boolean): number {
  for (let i = 0; i < n; i++) if (attempt(i)) return i;
  return -1;
}
