// `hako pause`: freeze all processes of the container.
import { NO_FLAGS, type NoOptions } from '../parse.js';
import { containerId, type Command } from '../command.js';

export const pauseCommand: Command<NoOptions> = {
  name: 'pause',
  usage: 'pause suspends all processes inside the container',
  argsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
paused.`,
  description: `The pause command suspends all processes in the instance of the container.

Use hako list to identify instances of containers and their current status.`,
  flags: NO_FLAGS,
  arity: { exact: 1 },
  usesRootless: true,
  async run(ctx, inv) {
    const { pause } = await import('../../container/pause.js');
    pause(ctx, containerId(inv));
    return 0;
  },
};
