// `hako restore`: criu restores the image into a new container
// (src/checkpoint/restore.ts), as runc does.
import type { RestoreOptions } from '../../checkpoint/restore.js';
import { f, type Assert, type Equal, type FlagSpec, type OptionsOf } from '../parse.js';
import { containerId, type Command } from '../command.js';
import { criuRefusal } from './checkpoint.js';
import {
  CONSOLE_SOCKET,
  PID_FILE,
  NO_PIVOT,
  DETACH,
  NO_SUBREAPER,
  TCP_ESTABLISHED,
  EXT_UNIX_SK,
  SHELL_JOB,
  LAZY_PAGES,
  FILE_LOCKS,
  MANAGE_CGROUPS_MODE,
  EMPTY_NS,
  AUTO_DEDUP,
  WORK_PATH,
} from './shared-flags.js';

export const RESTORE_FLAGS = [
  CONSOLE_SOCKET,
  f({ name: 'image-path', type: 'string', help: 'path to criu image files for restoring' }),
  WORK_PATH,
  TCP_ESTABLISHED,
  EXT_UNIX_SK,
  SHELL_JOB,
  FILE_LOCKS,
  MANAGE_CGROUPS_MODE,
  f({ name: 'bundle', aliases: ['b'], type: 'string', help: 'path to the root of the bundle directory' }),
  DETACH,
  PID_FILE,
  NO_SUBREAPER,
  NO_PIVOT,
  EMPTY_NS,
  AUTO_DEDUP,
  LAZY_PAGES,
  f({
    name: 'lsm-profile',
    type: 'string',
    help: 'Specify an LSM profile to be used during restore in the form of TYPE:NAME.',
  }),
  f({
    name: 'lsm-mount-context',
    type: 'string',
    help: 'Specify an LSM mount context to be used during restore.',
  }),
] as const satisfies readonly FlagSpec[];

// The options src/checkpoint takes; the assertion below keeps the flag
// table in step with them.
export type { RestoreOptions };

export type _RestoreTableMatchesInterface = Assert<Equal<RestoreOptions, OptionsOf<typeof RESTORE_FLAGS>>>;

export const restoreCommand: Command<RestoreOptions> = {
  name: 'restore',
  usage: 'restore a container from a previous checkpoint (with criu)',
  argsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
restored.`,
  description: `Restores the saved state of the container instance that was previously saved
using the hako checkpoint command.`,
  flags: RESTORE_FLAGS,
  arity: { exact: 1 },
  async run(ctx, inv) {
    const { restore } = await import('../../checkpoint/restore.js');
    return restore({ ...ctx, criu: inv.global.criu, systemdCgroup: inv.global.systemdCgroup }, containerId(inv), inv.options);
  },
  // Asked like checkpoint's --help (commands/checkpoint.ts).
  onHelpFlag: (global) => criuRefusal('restore', global),
};
