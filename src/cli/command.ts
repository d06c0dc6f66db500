// What a command file (src/cli/commands/<name>.ts) provides: its flags and
// help text for the parser and help.ts, and what running it does. main.ts
// finds the command in the table (commands/index.ts) and calls run.
import type { RuntimeContext } from '../container/context.js';
import type { GlobalOptions } from './global-flags.js';
import type { CommandSpec } from './parse.js';

/** A parsed command line as a command sees it. */
export interface Invocation<O> {
  readonly global: GlobalOptions;
  readonly options: O;
  /** Positional arguments (after the flags); [0] is the container id. */
  readonly positional: readonly string[];
  /** Option keys (camelCase) given explicitly (urfave's IsSet). */
  readonly explicit: { readonly global: ReadonlySet<string>; readonly options: ReadonlySet<string> };
}

/** A flag that names a file: [option key, flag as shown, default]. A
 * default of "." counts (the bundle is the working directory unless given). */
export type PathFlag = readonly [key: string, flag: string, dflt?: string];

export interface Command<O = unknown> extends CommandSpec {
  /**
   * Runs the command; resolves to the exit status. Errors are thrown
   * (HakoError: its message and status), main.ts logs them. Absent for
   * help, which main.ts answers before anything runs.
   */
  run?(ctx: RuntimeContext, inv: Invocation<O>): Promise<number>;
  /** Decides something by --rootless: main.ts resolves it into ctx first
   * (runc parses it only there, so a bad value does not break `state`). */
  readonly usesRootless?: boolean;
  /** The flags that name files, refused when relative from a deleted
   * working directory (src/cli/cwd.ts). */
  readonly pathFlags?: readonly PathFlag[];
  /** What `<cmd> --help` does instead of printing help (undefined: print it); the exit status. */
  onHelpFlag?(global: GlobalOptions): Promise<number | undefined>;
}

/** The first positional argument: the container id of most commands. */
export function containerId(inv: Invocation<unknown>): string {
  return inv.positional[0] ?? '';
}
