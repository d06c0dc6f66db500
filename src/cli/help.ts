// Help and usage text, generated from the command table (commands/index.ts) and laid
// out like runc's (urfave/cli v1 templates), with "hako" for "runc".
// Pure: returns strings, the caller prints them (runc prints help on stdout).

import {
  COMMANDS,
  GLOBAL_FLAGS,
  HELP_FLAG,
  VERSION_FLAG,
  UsageError,
  findCommand,
  formatGoDuration,
  type CommandSpec,
  type FlagSpec,
  type ParsedArgs,
} from './args.js';

export interface HelpOptions {
  /** Program name shown in the text. */
  prog?: string;
  /** Shown in a VERSION section of the app help, as runc does. */
  version?: string;
  /** Default of --root to show, if not DEFAULT_ROOT. */
  defaultRoot?: string;
}

const APP_USAGE = 'Open Container Initiative runtime';

const APP_DESCRIPTION = `hako is a command line client for running applications packaged according to
the Open Container Initiative (OCI) format and is a compliant implementation of
the Open Container Initiative specification. It is a drop-in replacement for
runc: same commands, flags, outputs and exit statuses.

hako integrates well with existing process supervisors to provide a production
container runtime environment for applications. It can be used with your
existing process monitoring tools and the container will be spawned as a
direct child of the process supervisor.

Containers are configured using bundles. A bundle for a container is a directory
that includes a specification file named "config.json" and a root filesystem.
The root filesystem contains the contents of the container.

To start a new instance of a container:

    # hako run [ -b bundle ] <container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host. Providing the bundle directory using "-b" is optional. The default
value for "bundle" is the current directory.`;

/** "--bundle value, -b value" */
export function flagLabel(spec: FlagSpec): string {
  const names = [spec.name, ...(spec.aliases ?? [])];
  const placeholder = spec.type === 'bool' ? '' : ' value';
  return names.map((n) => (n.length === 1 ? '-' : '--') + n + placeholder).join(', ');
}

/** The help text with urfave's "(default: ...)" suffix. */
export function flagUsage(spec: FlagSpec, defaultRoot?: string): string {
  let d = spec.default;
  if (spec.name === 'root' && defaultRoot !== undefined) d = defaultRoot;
  if (spec.optional) return spec.help;
  switch (spec.type) {
    case 'string':
      return d !== undefined && d !== '' ? `${spec.help} (default: ${JSON.stringify(d)})` : spec.help;
    case 'int':
      // urfave shows int defaults even when zero.
      return `${spec.help} (default: ${typeof d === 'number' ? d : 0})`;
    case 'duration':
      return `${spec.help} (default: ${formatGoDuration(typeof d === 'number' ? d : 0)})`;
    default:
      return spec.help;
  }
}

/** Two columns like Go's tabwriter with padding 2; continuation lines of a
 * multi-line right cell are indented to its column. */
function columns(rows: ReadonlyArray<readonly [string, string]>, indent = '   '): string {
  const width = Math.max(0, ...rows.map(([l]) => l.length)) + 2;
  return rows
    .map(([l, r]) => {
      const [first = '', ...more] = r.split('\n');
      const head = (indent + l.padEnd(width) + first).trimEnd();
      const tail = more.map((line) => (line === '' ? '' : indent + ' '.repeat(width) + line));
      return [head, ...tail].join('\n');
    })
    .join('\n');
}

function visibleFlags(flags: readonly FlagSpec[]): FlagSpec[] {
  return flags.filter((x) => !x.hidden);
}

/** `hako --help`, `hako help`, `hako` */
export function appHelp(opts: HelpOptions = {}): string {
  const prog = opts.prog ?? 'hako';
  const out: string[] = [];
  out.push('NAME:', `   ${prog} - ${APP_USAGE}`, '', APP_DESCRIPTION.replaceAll('hako', prog), '');
  out.push('USAGE:', `   ${prog} [global options] command [command options] [arguments...]`);
  if (opts.version !== undefined) out.push('', 'VERSION:', `   ${opts.version}`);
  out.push('', 'COMMANDS:');
  out.push(columns(COMMANDS.filter((c) => !c.hidden).map((c) => [[c.name, ...(c.aliases ?? [])].join(', '), c.usage] as const)));
  out.push('', 'GLOBAL OPTIONS:');
  out.push(columns([...GLOBAL_FLAGS, HELP_FLAG, VERSION_FLAG].map((x) => [flagLabel(x), flagUsage(x, opts.defaultRoot)] as const)));
  return out.join('\n') + '\n';
}

/** `hako help <cmd>`, `hako <cmd> --help`. Throws UsageError
 * `No help topic for 'x'` (exit status 3) for an unknown command. */
export function commandHelp(name: string, opts: HelpOptions = {}): string {
  const prog = opts.prog ?? 'hako';
  const cmd: CommandSpec | undefined = findCommand(name);
  if (cmd === undefined) throw new UsageError(`No help topic for '${name}'`, 'unknown-command', undefined, 3);
  const flags = visibleFlags(cmd.flags);
  const fix = (s: string) => (prog === 'hako' ? s : s.replaceAll('hako', prog));
  const out: string[] = [];
  out.push('NAME:', `   ${prog} ${cmd.name} - ${cmd.usage}`, '');
  const args = cmd.argsUsage === '' ? '[arguments...]' : fix(cmd.argsUsage);
  out.push('USAGE:', `   ${prog} ${cmd.name}${flags.length > 0 ? ' [command options]' : ''} ${args}`.trimEnd());
  if (cmd.description !== undefined) out.push('', 'DESCRIPTION:', `   ${fix(cmd.description)}`);
  if (flags.length > 0) {
    out.push('', 'OPTIONS:', columns(flags.map((x) => [flagLabel(x), flagUsage(x, opts.defaultRoot)] as const)));
  }
  // An argsUsage starting with a newline (list) would leave a trailing blank.
  return out.join('\n').replace(/ +$/gm, '') + '\n';
}

/** The help a parse result asks for (parsed.help is true). */
export function helpFor(parsed: ParsedArgs, opts: HelpOptions = {}): string {
  return parsed.command === undefined ? appHelp(opts) : commandHelp(parsed.command, opts);
}

/**
 * What runc prints on stdout before exiting on a usage error (the message
 * itself goes to stderr / the log like any other error). Empty for errors
 * that come without help.
 */
export function usageErrorText(err: UsageError, opts: HelpOptions = {}): string {
  switch (err.kind) {
    case 'global-flag':
      return `Incorrect Usage. ${err.message}\n\n${appHelp(opts)}`;
    case 'global-conflict':
      return `${err.message}\n${appHelp(opts)}`;
    case 'flag':
      return `Incorrect Usage: ${err.message}\n\n${commandHelp(err.command ?? '', opts)}`;
    case 'arity':
      return `Incorrect Usage.\n\n${commandHelp(err.command ?? '', opts)}`;
    default:
      return '';
  }
}

/**
 * `hako --version`. podman shows the first line, so it must read
 * "<prog> version <version>"; the other lines are "key: value" like runc's
 * (commit, spec, ...).
 */
export function versionText(version: string, extra: readonly string[] = [], prog = 'hako'): string {
  return [`${prog} version ${version}`, ...extra].join('\n') + '\n';
}
