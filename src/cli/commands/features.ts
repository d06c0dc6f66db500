// `hako features`: what this build supports, as JSON (runc's types/features).
import { stdout } from '../../output.js';
import { NO_FLAGS, type NoOptions } from '../parse.js';
import type { Command } from '../command.js';

export const featuresCommand: Command<NoOptions> = {
  name: 'features',
  usage: 'show the enabled features',
  argsUsage: '',
  description: `Show the enabled features.
   The result is parsable as a JSON.
   See https://pkg.go.dev/github.com/opencontainers/runc/types/features for the type definition.
   The types are experimental and subject to change.`,
  flags: NO_FLAGS,
  arity: { exact: 0 },
  async run(_ctx, inv) {
    const { features } = await import('../../features.js');
    // checkpoint/restore are listed only where criu can work (`criu check`).
    const { criuUsable } = await import('../../checkpoint/available.js');
    stdout(JSON.stringify(features({ checkpoint: criuUsable(inv.global.criu) === true }), null, '    ') + '\n');
    return 0;
  },
};
