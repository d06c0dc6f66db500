// What every operation needs from its caller: where state lives and where
// warnings go. The library never prints; the CLI supplies `log`.
/** How serious a message given to {@link RuntimeContext.log} is. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Where containers' state lives and where warnings go: every operation's
 * first argument. `context()` makes one with the CLI's defaults.
 */
export interface RuntimeContext {
  /** The state directory (the CLI's `--root`): the CLI and the library see the same containers under the same root. */
  root: string;
  /** `--debug`: notes of what is done go to `log` at level 'debug' as well. */
  debug: boolean;
  /** Receives warnings and notes, one line each, without a newline; the library never prints. */
  log: (level: LogLevel, msg: string) => void;
  /**
   * --rootless, resolved: cgroups this user may not write are skipped when
   * nothing is asked of them (src/cgroups/rootless-cgroups.ts). Undefined: auto, as
   * runc decides it (src/container/rootless-identity.ts).
   */
  rootless?: boolean;
}
