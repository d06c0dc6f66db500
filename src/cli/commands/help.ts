// `hako help [command]`: the parser turns it into a request for help
// (args.ts), which main.ts answers with printHelp before anything runs.
import { helpFor, type HelpOptions } from '../help.js';
import type { ParsedArgs } from '../args.js';
import { stdout } from '../../output.js';
import { NO_FLAGS, type NoOptions } from '../parse.js';
import type { Command } from '../command.js';

export const helpCommand: Command<NoOptions> = {
  name: 'help',
  aliases: ['h'],
  usage: 'Shows a list of commands or help for one command',
  argsUsage: '[command]',
  flags: NO_FLAGS,
  arity: {},
};

/** Prints the help a parse result asks for (runc prints help on stdout). */
export function printHelp(p: ParsedArgs, opts: HelpOptions): number {
  stdout(helpFor(p, opts));
  return 0;
}
