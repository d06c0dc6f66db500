// `hako resume`: thaw the processes `pause` froze.
import { NO_FLAGS, type NoOptions } from '../parse.js';
import { containerId, type Command } from '../command.js';

export const resumeCommand: Command<NoOptions> = {
  name: 'resume',
  usage: 'resumes all processes that have been previously paused',
  argsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
resumed.`,
  description: `The resume command resumes all processes in the instance of the container.

Use hako list to identify instances of containers and their current status.`,
  flags: NO_FLAGS,
  arity: { exact: 1 },
  usesRootless: true,
  async run(ctx, inv) {
    const { resume } = await import('../../container/pause.js');
    resume(ctx, containerId(inv));
    return 0;
  },
};
