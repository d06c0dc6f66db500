// The hako command: parse like runc, find the command in the table
// (commands/index.ts: one file per command, which calls the library and
// prints like runc) and run it. The exit status is decided here.
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { findCommand, parseArgs, parseBoolOrAuto, UsageError, type GlobalOptions, type ParsedArgs } from './args.js';
import type { Command } from './command.js';
import { printHelp } from './commands/help.js';
import { printVersion } from './commands/version.js';
import { usageErrorText } from './help.js';
import { leaveDeletedCwd, relativePathFlags } from './cwd.js';
import { HakoError, describe } from '../errors.js';
import { Logger } from '../log.js';
import type { RuntimeContext } from '../container/context.js';
import { DEFAULT_ROOT } from '../container/store.js';
import { defaultRoot, identity, rootlessCgroups } from '../container/rootless-identity.js';
import { stderr, stdout } from '../output.js';

// The caller's working directory was deleted (src/cli/cwd.ts): hako is in
// "/", and relative paths are refused.
let cwdDeleted = false;

function loggerFor(g: GlobalOptions): Logger {
  // A relative --log from a deleted directory is nowhere: stderr gets it all.
  const file = g.log && !(cwdDeleted && !g.log.startsWith('/')) ? g.log : undefined;
  return new Logger({ file, format: g.logFormat === 'json' ? 'json' : 'text', debug: g.debug });
}

/** The parsed command line, or the exit status of a usage error (printed and logged as runc does). */
function parse(argv: string[], root: string): ParsedArgs | number {
  try {
    return parseArgs(argv, { defaultRoot: root });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    const text = usageErrorText(e, { defaultRoot: root });
    if (text) stdout(text);
    // Logged as the global flags say once they parsed (runc's Before
    // hook has run by then); plain text before.
    (e.global ? loggerFor(e.global) : new Logger({ format: 'text', debug: false })).error(e.message);
    return e.exitCode;
  }
}

/** What every command runs with; checks that apply to them all. Throws HakoError. */
function contextFor(p: ParsedArgs, cmd: Command, xdgRoot: boolean, logger: Logger): RuntimeContext {
  const ctx: RuntimeContext = {
    root: path.resolve(p.global.root || DEFAULT_ROOT),
    debug: p.global.debug,
    log: logger.log,
  };
  if (xdgRoot && !p.explicit.global.has('root')) {
    // XDG: what is to stay in $XDG_RUNTIME_DIR gets the sticky bit, or
    // the session's cleanup may remove it (runc does the same).
    try {
      mkdirSync(ctx.root, { recursive: true, mode: 0o700 });
      chmodSync(ctx.root, 0o1700);
    } catch (e) {
      throw new HakoError(`state root ${ctx.root}: ${describe(e)}: the directory in $XDG_RUNTIME_DIR must be writable by the user`);
    }
  }
  const relative = cwdDeleted ? relativePathFlags(p) : [];
  if (relative.length) {
    throw new HakoError(`the working directory was deleted, so relative paths cannot be resolved: ${relative.join(', ')} (give absolute paths)`, 'usage');
  }
  if (cmd.usesRootless) {
    let flag: boolean | undefined;
    try {
      flag = parseBoolOrAuto(p.global.rootless);
    } catch (e) {
      throw new HakoError(`--rootless: ${describe(e)}`, 'usage');
    }
    ctx.rootless = rootlessCgroups(flag, identity());
  }
  return ctx;
}

async function main(argv: string[]): Promise<number> {
  cwdDeleted = leaveDeletedCwd();
  // runc's default root: $XDG_RUNTIME_DIR/hako for an unprivileged user.
  const root0 = defaultRoot(process.env, identity(), DEFAULT_ROOT);
  const p = parse(argv, root0.root);
  if (typeof p === 'number') return p;
  if (p.version) return printVersion();
  const cmd = p.command === undefined ? undefined : findCommand(p.command, { includeHidden: true });
  const answer = p.helpFlag ? await cmd?.onHelpFlag?.(p.global) : undefined;
  if (answer !== undefined) return answer;
  if (p.help || p.command === 'help' || p.command === undefined) return printHelp(p, { defaultRoot: root0.root });
  const logger = loggerFor(p.global);
  try {
    // The parser knows only the table's commands, and help has no run.
    if (cmd?.run === undefined) throw new HakoError(`unknown command ${String(p.command)}`, 'usage');
    return await cmd.run(contextFor(p, cmd, root0.xdg, logger), p);
  } catch (e) {
    logger.error(describe(e));
    return e instanceof HakoError ? e.exitCode : 1;
  }
}

// A write to a pipe nobody reads must fail with EPIPE, never kill hako
// half-way through an operation. Both engines ignore SIGPIPE at start, but
// Bun puts back the default action once the last listener of a signal is
// removed (the foreground signal forwarder does that), so keep one for good.
// A handler, unlike SIG_IGN, is not inherited by the launcher or hooks.
process.on('SIGPIPE', () => {});

// The engine's JIT setting from the entry (src/cli/entry.c): read by the
// engine at its start, and nobody else's business (ps, newuidmap).
delete process.env.BUN_JSC_useJIT;

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    stderr(`hako: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
