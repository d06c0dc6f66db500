// `hako start`: run the user's process in a created container.
import { NO_FLAGS, type NoOptions } from '../parse.js';
import { containerId, type Command } from '../command.js';
import { CREATED_ID_ARGS } from './shared-flags.js';

export const startCommand: Command<NoOptions> = {
  name: 'start',
  usage: 'executes the user defined process in a created container',
  argsUsage: CREATED_ID_ARGS,
  description: 'The start command executes the user defined process in a created container.',
  flags: NO_FLAGS,
  arity: { exact: 1 },
  async run(ctx, inv) {
    const { start } = await import('../../container/start.js');
    await start(ctx, containerId(inv));
    return 0;
  },
};
