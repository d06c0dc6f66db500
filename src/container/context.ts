// What every operation needs from its caller: where state lives and where
// warnings go. The library never prints; the CLI supplies `log`.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface RuntimeContext {
  root: string;
  debug: boolean;
  log: (level: LogLevel, msg: string) => void;
  /**
   * --rootless, resolved: cgroups this user may not write are skipped when
   * nothing is asked of them (src/cgroups/rootless-cgroups.ts). Undefined: auto, as
   * runc decides it (src/container/rootless-identity.ts).
   */
  rootless?: boolean;
}
