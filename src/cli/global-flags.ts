// hako's global flags (before the command name), with runc's wording, and
// urfave's --help/--version.
import { f, UsageError, type Assert, type Equal, type Flat, type FlagSpec, type OptionsOf } from './parse.js';
import { goQuote, parseGoBool } from './go-values.js';

/** Default for --root; runc's is /run/runc. */
export const DEFAULT_ROOT = '/run/hako';

export const GLOBAL_FLAGS = [
  f({ name: 'debug', type: 'bool', help: 'enable debug logging' }),
  f({ name: 'log', type: 'string', help: "set the log file to write hako logs to (default is '/dev/stderr')" }),
  f({
    name: 'log-format',
    type: 'string',
    default: 'text',
    help: "set the log format ('text' (default), or 'json')",
  }),
  f({
    name: 'root',
    type: 'string',
    default: DEFAULT_ROOT,
    help: 'root directory for storage of container state (this should be located in tmpfs)',
  }),
  f({
    name: 'criu',
    type: 'string',
    default: 'criu',
    help: 'path to the criu binary used for checkpoint and restore',
  }),
  f({
    name: 'systemd-cgroup',
    type: 'bool',
    help: 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name" for e.g. "system.slice:hako:434234"',
  }),
  f({
    name: 'rootless',
    type: 'string',
    default: 'auto',
    help: "ignore cgroup permission errors ('true', 'false', or 'auto')",
  }),
] as const satisfies readonly FlagSpec[];

// urfave adds these to the app (help and version) and to every command
// (help only); they are part of reordering and of the alias-conflict check.
export const HELP_FLAG = f({ name: 'help', aliases: ['h'], type: 'bool', help: 'show help' });
export const VERSION_FLAG = f({ name: 'version', aliases: ['v'], type: 'bool', help: 'print the version' });

export interface GlobalOptions {
  debug: boolean;
  /** Log file; '' means stderr. */
  log: string;
  logFormat: 'text' | 'json';
  /** As given (runc makes it absolute with the cwd before use). */
  root: string;
  criu: string;
  systemdCgroup: boolean;
  /** 'true' | 'false' | 'auto' as given; see parseBoolOrAuto. runc only
   * parses it when it needs it, so a bad value is not a parse error. */
  rootless: string;
}

export type _GlobalTableMatchesInterface = Assert<Equal<Flat<Omit<GlobalOptions, 'logFormat'> & { logFormat: string }>, OptionsOf<typeof GLOBAL_FLAGS>>>;

/**
 * runc's parseBoolOrAuto for --rootless: undefined means "auto" (also for
 * ''), otherwise strconv.ParseBool.
 */
export function parseBoolOrAuto(s: string): boolean | undefined {
  if (s === '' || s.toLowerCase() === 'auto') return undefined;
  const b = parseGoBool(s);
  if (b === undefined) throw new UsageError(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
  return b;
}
