// `hako delete`: remove a stopped container (or, with --force, any).
import { f, type Assert, type Equal, type FlagSpec, type OptionsOf } from '../parse.js';
import { containerId, type Command } from '../command.js';

export const DELETE_FLAGS = [
  f({
    name: 'force',
    aliases: ['f'],
    type: 'bool',
    help: 'Forcibly deletes the container if it is still running (uses SIGKILL)',
  }),
] as const satisfies readonly FlagSpec[];

export interface DeleteOptions {
  force: boolean;
}

export type _DeleteTableMatchesInterface = Assert<Equal<DeleteOptions, OptionsOf<typeof DELETE_FLAGS>>>;

export const deleteCommand: Command<DeleteOptions> = {
  name: 'delete',
  usage: 'delete any resources held by the container often used with detached container',
  argsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container.

EXAMPLE:
For example, if the container id is "ubuntu01" and hako list currently shows the
status of "ubuntu01" as "stopped" the following will delete resources held for
"ubuntu01" removing "ubuntu01" from the hako list of containers:

       # hako delete ubuntu01`,
  flags: DELETE_FLAGS,
  arity: { exact: 1 },
  usesRootless: true,
  async run(ctx, inv) {
    const { deleteContainer } = await import('../../container/delete.js');
    await deleteContainer(ctx, containerId(inv), { force: inv.options.force });
    return 0;
  },
};
