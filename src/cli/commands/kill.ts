// `hako kill`: send a signal (default SIGTERM) to the container's init, or
// with --all to all its processes.
import { HakoError, describe } from '../../errors.js';
import { parseSignal } from '../signals.js';
import { f, type Assert, type Equal, type FlagSpec, type OptionsOf } from '../parse.js';
import { containerId, type Command } from '../command.js';

export const KILL_FLAGS = [
  f({
    name: 'all',
    aliases: ['a'],
    type: 'bool',
    help: 'send the specified signal to all processes inside the container',
  }),
] as const satisfies readonly FlagSpec[];

export interface KillOptions {
  all: boolean;
}

export type _KillTableMatchesInterface = Assert<Equal<KillOptions, OptionsOf<typeof KILL_FLAGS>>>;

export const killCommand: Command<KillOptions> = {
  name: 'kill',
  usage: "kill sends the specified signal (default: SIGTERM) to the container's init process",
  argsUsage: `<container-id> [signal]

Where "<container-id>" is the name for the instance of the container and
"[signal]" is the signal to be sent to the init process.

EXAMPLE:
For example, if the container id is "ubuntu01" the following will send a "KILL"
signal to the init process of the "ubuntu01" container:

       # hako kill ubuntu01 KILL`,
  flags: KILL_FLAGS,
  arity: { min: 1, max: 2 },
  usesRootless: true,
  async run(ctx, inv) {
    const { killContainer } = await import('../../container/kill.js');
    let sig: number;
    try {
      sig = parseSignal(inv.positional[1] ?? 'SIGTERM');
    } catch (e) {
      throw new HakoError(describe(e), 'usage');
    }
    killContainer(ctx, containerId(inv), sig, { all: inv.options.all });
    return 0;
  },
};
