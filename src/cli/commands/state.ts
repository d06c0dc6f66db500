// `hako state`: the container's OCI state, as JSON.
import { stdout } from '../../output.js';
import { NO_FLAGS, type NoOptions } from '../parse.js';
import { containerId, type Command } from '../command.js';

export const stateCommand: Command<NoOptions> = {
  name: 'state',
  usage: 'output the state of a container',
  argsUsage: `<container-id>

Where "<container-id>" is your name for the instance of the container.`,
  description: `The state command outputs current state information for the
instance of a container.`,
  flags: NO_FLAGS,
  arity: { exact: 1 },
  async run(ctx, inv) {
    const { state } = await import('../../container/query.js');
    // No newline after the closing brace: runc's has none.
    stdout(JSON.stringify(state(ctx, containerId(inv)), null, '  '));
    return 0;
  },
};
