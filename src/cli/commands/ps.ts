// `hako ps`: the container's processes, as ps(1) shows them or as JSON pids.
import { HakoError } from '../../errors.js';
import { stdout } from '../../output.js';
import { f, type Assert, type Equal, type FlagSpec, type OptionsOf } from '../parse.js';
import { containerId, type Command } from '../command.js';
import {
  CONSOLE_SOCKET,
  PID_FILE,
  NO_PIVOT,
  DETACH,
  NO_SUBREAPER,
  FORMAT,
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

export const PS_FLAGS = [FORMAT] as const satisfies readonly FlagSpec[];

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

export interface PsOptions {
  /** 'table' (default) or 'json'; not validated here (runc checks later). */
  format: string;
}

export type _PsTableMatchesInterface = Assert<Equal<PsOptions, OptionsOf<typeof PS_FLAGS>>>;

export const psCommand: Command<PsOptions> = {
  name: 'ps',
  usage: 'ps displays the processes running inside a container',
  argsUsage: '<container-id> [ps options]',
  flags: PS_FLAGS,
  arity: { min: 1 },
  skipArgReorder: true,
  usesRootless: true,
  async run(ctx, inv) {
    const { processes, pidsJson, psTable } = await import('../../container/ps.js');
    const pids = processes(ctx, containerId(inv));
    const format = inv.options.format;
    if (format === 'json') stdout(pidsJson(pids));
    else if (format === 'table') stdout(psTable(pids, inv.positional.slice(1)));
    else throw new HakoError('invalid format option', 'usage');
    return 0;
  },
};
