// A caller whose working directory was deleted: hako works from "/" then
// (bin/hako's entry, src/cli/entry.c, moved there already: the Bun engine
// does not start otherwise), and a relative path on the command line is
// refused rather than resolved against "/" (a pid file written to /p).
import { statSync } from 'node:fs';
import type { ParsedArgs } from './args.js';
import type { PathFlag } from './command.js';
import { findCommand } from './commands/index.js';

/** Set by src/cli/entry.c when it moved to "/" from a deleted directory. */
export const CWD_DELETED_ENV = 'HAKO_CWD_DELETED';

/**
 * Whether the caller's working directory was deleted; if so, hako is in "/"
 * on return. The entry's mark leaves the environment (hooks inherit it).
 * The engine's own check covers a bin/hako that is a script (HAKO_ENGINE).
 */
export function leaveDeletedCwd(env: NodeJS.ProcessEnv = process.env): boolean {
  const marked = env[CWD_DELETED_ENV] === '1';
  delete env[CWD_DELETED_ENV];
  // The mark holds only where the entry left us: a caller's own
  // HAKO_CWD_DELETED elsewhere changes nothing.
  if (marked && process.cwd() === '/') return true;
  // A removed directory has no links left; stat, unlike Node's
  // process.cwd(), is never an answer cached from before.
  let gone: boolean;
  try {
    gone = statSync('.').nlink === 0;
  } catch {
    gone = true;
  }
  if (gone) process.chdir('/');
  return gone;
}

const GLOBAL_PATHS: readonly PathFlag[] = [
  ['root', '--root'],
  ['log', '--log'],
];

/** "--pid-file p" for every path on the command line that is relative. */
export function relativePathFlags(p: ParsedArgs): string[] {
  const found: string[] = [];
  const check = (values: object, flags: readonly PathFlag[]) => {
    for (const [key, flag, dflt] of flags) {
      const v = (values as Record<string, unknown>)[key];
      const value = typeof v === 'string' && v !== '' ? v : dflt;
      // "-": update's resources from stdin.
      if (value !== undefined && value !== '-' && !value.startsWith('/')) found.push(`${flag} ${value}`);
    }
  };
  check(p.global, GLOBAL_PATHS);
  // Each command lists its own (commands/<name>.ts).
  const own = p.command === undefined ? undefined : findCommand(p.command, { includeHidden: true })?.pathFlags;
  if (own) check(p.options, own);
  return found;
}
