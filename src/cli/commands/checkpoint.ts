// `hako checkpoint`: criu does the work (src/checkpoint/), driven as runc
// drives it; where criu cannot run, podman's --help probe is told so.
import { stderr } from '../../output.js';
import type { CheckpointOptions } from '../../checkpoint/checkpoint.js';
import { f, type Assert, type Equal, type FlagSpec, type OptionsOf } from '../parse.js';
import { containerId, type Command } from '../command.js';
import type { GlobalOptions } from '../global-flags.js';
import { TCP_ESTABLISHED, EXT_UNIX_SK, SHELL_JOB, LAZY_PAGES, FILE_LOCKS, MANAGE_CGROUPS_MODE, EMPTY_NS, AUTO_DEDUP, WORK_PATH } from './shared-flags.js';

export const CHECKPOINT_FLAGS = [
  f({ name: 'image-path', type: 'string', help: 'path for saving criu image files' }),
  WORK_PATH,
  f({ name: 'parent-path', type: 'string', help: 'path for previous criu image files in pre-dump' }),
  f({ name: 'leave-running', type: 'bool', help: 'leave the process running after checkpointing' }),
  TCP_ESTABLISHED,
  EXT_UNIX_SK,
  SHELL_JOB,
  LAZY_PAGES,
  f({
    name: 'status-fd',
    type: 'int',
    default: -1,
    help: 'criu writes \\0 to this FD once lazy-pages is ready',
  }),
  f({ name: 'page-server', type: 'string', help: 'ADDRESS:PORT of the page server' }),
  FILE_LOCKS,
  f({
    name: 'pre-dump',
    type: 'bool',
    help: "dump container's memory information only, leave the container running after this",
  }),
  MANAGE_CGROUPS_MODE,
  EMPTY_NS,
  AUTO_DEDUP,
] as const satisfies readonly FlagSpec[];

// The options src/checkpoint takes; the assertion below keeps the flag
// table in step with them.
export type { CheckpointOptions };

export type _CheckpointTableMatchesInterface = Assert<Equal<CheckpointOptions, OptionsOf<typeof CHECKPOINT_FLAGS>>>;

export const checkpointCommand: Command<CheckpointOptions> = {
  name: 'checkpoint',
  usage: 'checkpoint a running container (with criu)',
  argsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
checkpointed.`,
  description: 'The checkpoint command saves the state of the container instance.',
  flags: CHECKPOINT_FLAGS,
  arity: { exact: 1 },
  async run(ctx, inv) {
    const { checkpoint } = await import('../../checkpoint/checkpoint.js');
    await checkpoint({ ...ctx, criu: inv.global.criu }, containerId(inv), inv.options);
    return 0;
  },
  // podman asks `checkpoint --help` whether a runtime can checkpoint (exit 0
  // means yes): where criu cannot work, hako says so rather than print help.
  onHelpFlag: (global) => criuRefusal('checkpoint', global),
};

/** podman's probe answered: 1 with the reason where criu cannot work here, else undefined (print the help). */
export async function criuRefusal(command: string, global: GlobalOptions): Promise<number | undefined> {
  // Imported here, not at the top: the command table loads every command
  // file, and no other command should pay for criu's RPC modules.
  const { criuUsable } = await import('../../checkpoint/available.js');
  const usable = criuUsable(global.criu);
  if (usable === true) return undefined;
  stderr(`hako: ${command} is not supported here: ${usable}\n`);
  return 1;
}
