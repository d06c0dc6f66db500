// `hako init`: runc's internal re-exec step, which hako does not have
// (its launcher is addon/launcher); hidden, and refused.
import { HakoError } from '../../errors.js';
import { NO_FLAGS, type NoOptions } from '../parse.js';
import type { Command } from '../command.js';

export const initCommand: Command<NoOptions> = {
  name: 'init',
  usage: 'initialize the namespaces and launch the process (do not call it outside of hako)',
  argsUsage: '',
  flags: NO_FLAGS,
  arity: {},
  skipFlagParsing: true,
  hidden: true,
  async run() {
    throw new HakoError('init is internal to runc; hako has no such step', 'usage');
  },
};
