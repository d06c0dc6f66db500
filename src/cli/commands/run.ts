// `hako run`: create and start a container, by default in the foreground
// (its exit status is hako's).
import { createOptions } from './create.js';
import { f, type Assert, type Equal, type FlagSpec, type OptionsOf } from '../parse.js';
import { containerId, type Command } from '../command.js';
import {
  BUNDLE,
  CONSOLE_SOCKET,
  PIDFD_SOCKET_INIT,
  PID_FILE,
  NO_PIVOT,
  NO_NEW_KEYRING,
  PRESERVE_FDS,
  DETACH,
  NO_SUBREAPER,
  CREATED_ID_ARGS,
  BUNDLE_DESCRIPTION,
  CREATE_PATHS,
} from './shared-flags.js';

export const RUN_FLAGS = [
  BUNDLE,
  CONSOLE_SOCKET,
  PIDFD_SOCKET_INIT,
  DETACH,
  f({ name: 'keep', type: 'bool', help: 'do not delete the container after it exits' }),
  PID_FILE,
  NO_SUBREAPER,
  NO_PIVOT,
  NO_NEW_KEYRING,
  PRESERVE_FDS,
] as const satisfies readonly FlagSpec[];

export interface RunOptions {
  bundle: string;
  consoleSocket: string;
  pidfdSocket: string;
  detach: boolean;
  keep: boolean;
  pidFile: string;
  noSubreaper: boolean;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
}

export type _RunTableMatchesInterface = Assert<Equal<RunOptions, OptionsOf<typeof RUN_FLAGS>>>;

export const runCommand: Command<RunOptions> = {
  name: 'run',
  usage: 'create and run a container',
  argsUsage: CREATED_ID_ARGS,
  description: BUNDLE_DESCRIPTION('run'),
  flags: RUN_FLAGS,
  arity: { exact: 1 },
  usesRootless: true,
  pathFlags: CREATE_PATHS,
  async run(ctx, inv) {
    const { run } = await import('../../container/run.js');
    const o = inv.options;
    return run(ctx, containerId(inv), {
      ...createOptions(o),
      systemdCgroup: inv.global.systemdCgroup,
      detach: o.detach,
      keep: o.keep,
    });
  },
};
