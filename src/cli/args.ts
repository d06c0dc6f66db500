// runc-compatible command line parsing.
//
// runc 1.1.5 uses urfave/cli v1 on top of Go's `flag` package, and callers
// (podman/conmon, containerd's shim, scripts written against runc) depend on
// its exact behaviour, so this module reproduces it rather than following
// GNU getopt conventions:
//
//  * Global flags come before the command name; Go's flag parser stops at
//    the first non-flag argument, which is the command.
//  * `-flag` and `--flag` are the same; values are given as `--flag value`
//    or `--flag=value`. Booleans never take a separate value, only
//    `--flag=false`. There is no bundling of short flags (`-dt` is an error).
//  * Command flags may also appear after positional arguments: urfave moves
//    every argument naming a *defined* flag (plus the following argument as
//    its possible value, unless that is itself a defined flag) in front of
//    the others before handing them to Go's parser. This is urfave
//    v1.22.9's reorderArgs, the version the installed Debian runc is built
//    with. `exec` and `ps` switch this off (the arguments after the
//    container id belong to the process / to ps(1)).
//  * An alias used together with its long form is an error ("Cannot use two
//    forms of the same flag").
//  * Error messages are byte-for-byte those of Go's flag package and runc,
//    since callers and users may match on them.
//
// The machinery is generic (parse.ts, go-values.ts); each command declares
// its flags and help in its own file (commands/<name>.ts, listed in
// commands/index.ts); this module puts them together: global flags, the
// command, help and version requests. Everything here is pure: nothing is
// printed, nothing exits; problems are reported by throwing UsageError.

import { findCommand, type CommandName, type CommandOptionsMap } from './commands/index.js';
import { GLOBAL_FLAGS, HELP_FLAG, VERSION_FLAG, type GlobalOptions } from './global-flags.js';
import { UsageError, aliasConflict, buildOptions, checkArity, goFlagParse, reorderArgs, type FlagSpec, type NoOptions } from './parse.js';

// What callers (main.ts, help.ts, the tests) use, from one place.
export { COMMANDS, findCommand, type CommandName, type CommandOptionsMap } from './commands/index.js';
export { DEFAULT_ROOT, GLOBAL_FLAGS, HELP_FLAG, VERSION_FLAG, parseBoolOrAuto, type GlobalOptions } from './global-flags.js';
export {
  NO_FLAGS,
  UsageError,
  optionKey,
  type Arity,
  type CommandSpec,
  type FlagSpec,
  type FlagType,
  type NoOptions,
  type UsageErrorKind,
} from './parse.js';
export { formatGoDuration, goQuote, parseGoBool, parseGoDuration, parseGoInt } from './go-values.js';
export { CHECKPOINT_FLAGS, type CheckpointOptions } from './commands/checkpoint.js';
export { CREATE_FLAGS, type CreateOptions } from './commands/create.js';
export { DELETE_FLAGS, type DeleteOptions } from './commands/delete.js';
export { EVENTS_FLAGS, type EventsOptions } from './commands/events.js';
export { EXEC_FLAGS, type ExecOptions } from './commands/exec.js';
export { KILL_FLAGS, type KillOptions } from './commands/kill.js';
export { LIST_FLAGS, type ListOptions } from './commands/list.js';
export { PS_FLAGS, type PsOptions } from './commands/ps.js';
export { RESTORE_FLAGS, type RestoreOptions } from './commands/restore.js';
export { RUN_FLAGS, type RunOptions } from './commands/run.js';
export { SPEC_FLAGS, type SpecOptions } from './commands/spec.js';
export { UPDATE_FLAGS, type UpdateOptions } from './commands/update.js';

export interface ParseOptions {
  /** Program name for messages that runc prefixes with os.Args[0]. */
  prog?: string;
  /** Default for --root (e.g. derived from XDG_RUNTIME_DIR by the caller). */
  defaultRoot?: string;
}

interface ParsedBase {
  global: GlobalOptions;
  /** Positional arguments of the command (after its flags). */
  positional: string[];
  /**
   * Help was asked for (`--help`, `-h`, `help [cmd]`, `<cmd> --help`, or no
   * command at all): print help for `command`, or the app's help when
   * command is undefined, and exit 0.
   */
  help: boolean;
  /** Help came from the command's own `--help`/`-h` (`<cmd> --help`), not
   * from `help <cmd>`: podman's probe for checkpoint support asks that way. */
  helpFlag: boolean;
  /** `--version`/`-v` was given: print the version and exit 0. */
  version: boolean;
  /** Option keys (camelCase) that were given explicitly, like urfave's
   * IsSet: runc's root default and exec's --tty/--no-new-privs use it. */
  explicit: { global: ReadonlySet<string>; options: ReadonlySet<string> };
}

export type ParsedCommand = {
  [K in CommandName]: { command: K; options: CommandOptionsMap[K] };
}[CommandName];

export type ParsedArgs = ParsedBase & (ParsedCommand | { command: undefined; options: NoOptions });

const GLOBAL_SET: readonly FlagSpec[] = [...GLOBAL_FLAGS, HELP_FLAG, VERSION_FLAG];

/**
 * Parses argv (without node and script paths) the way runc 1.1.5 does.
 * Throws UsageError; on success the caller either prints help/version or
 * runs `command` with `options` and `positional`.
 */
export function parseArgs(argv: readonly string[], opts: ParseOptions = {}): ParsedArgs {
  const prog = opts.prog ?? 'hako';
  const gst = goFlagParse(GLOBAL_SET, argv);
  // urfave checks alias conflicts before reporting the parse error.
  const conflict = aliasConflict(GLOBAL_SET, gst);
  if (conflict !== undefined) throw new UsageError(conflict, 'global-conflict');
  if (gst.error !== undefined) throw new UsageError(gst.error, 'global-flag');

  const g = buildOptions(GLOBAL_FLAGS, gst);
  const globalExplicit = g.explicit;
  if (!globalExplicit.has('root') && opts.defaultRoot !== undefined) g.options.root = opts.defaultRoot;
  const global = g.options as unknown as GlobalOptions;
  const base = {
    global,
    positional: [] as string[],
    help: false,
    helpFlag: false,
    version: false,
    explicit: { global: globalExplicit, options: new Set<string>() as ReadonlySet<string> },
  };
  const appHelp = (): ParsedArgs => ({ ...base, help: true, command: undefined, options: {} });

  // Order as in urfave's App.Run: help, then version, then the Before hook
  // (runc validates --log-format there), then the command.
  if (gst.values.get(HELP_FLAG) === true) return appHelp();
  if (gst.values.get(VERSION_FLAG) === true) return { ...base, version: true, command: undefined, options: {} };

  const logFormat = global.logFormat as string;
  if (logFormat === '') global.logFormat = 'text';
  else if (logFormat !== 'text' && logFormat !== 'json') {
    throw new UsageError(`invalid log-format: ${logFormat}`);
  }

  // From here on runc has set up its logging: an error is logged as the
  // flags say (main.ts), in JSON with --log-format json.
  try {
    return parseCommand(gst.rest, base, prog);
  } catch (e) {
    if (e instanceof UsageError) e.global = global;
    throw e;
  }
}

function parseCommand(rest: readonly string[], base: ParsedBase, prog: string): ParsedArgs {
  const appHelp = (): ParsedArgs => ({ ...base, help: true, command: undefined, options: {} });
  const globalExplicit = base.explicit.global;
  const [name, ...cmdArgs] = rest;
  // No command (or an empty one): urfave shows the app's help, exit 0.
  if (name === undefined || name === '') return appHelp();
  const cmd = findCommand(name, { includeHidden: true });
  if (cmd === undefined) throw new UsageError(`No help topic for '${name}'`, 'unknown-command', undefined, 3);

  if (cmd.skipFlagParsing) {
    const { options } = buildOptions(cmd.flags, undefined);
    return { ...base, command: cmd.name, options, positional: [...cmdArgs] } as unknown as ParsedArgs;
  }

  const specs = [...cmd.flags, HELP_FLAG];
  const st = goFlagParse(specs, cmd.skipArgReorder ? cmdArgs : reorderArgs(specs, cmdArgs));
  if (st.error !== undefined) throw new UsageError(st.error, 'flag', cmd.name);
  const conflictC = aliasConflict(specs, st);
  if (conflictC !== undefined) throw new UsageError(conflictC, 'flag', cmd.name);
  const { options, explicit } = buildOptions(cmd.flags, st);
  const parsed = {
    ...base,
    command: cmd.name,
    options,
    positional: st.rest,
    explicit: { global: globalExplicit, options: explicit },
  } as unknown as ParsedArgs;

  if (st.values.get(HELP_FLAG) === true) return { ...parsed, help: true, helpFlag: true };

  if (cmd.name === 'help') {
    const topic = st.rest[0];
    if (topic === undefined || topic === '') return appHelp();
    const t = findCommand(topic);
    if (t === undefined) throw new UsageError(`No help topic for '${topic}'`, 'unknown-command', undefined, 3);
    const { options: topicOptions } = buildOptions(t.flags, undefined);
    return { ...base, help: true, command: t.name, options: topicOptions } as unknown as ParsedArgs;
  }

  checkArity(cmd, st.rest.length, prog);
  return parsed;
}
