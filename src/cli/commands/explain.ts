// `hako explain`: what create (or exec of a process.json) would do with a
// bundle, printed instead of done (src/explain). Not a runc command.
import { HakoError } from '../../errors.js';
import { stdout } from '../../output.js';
import { f, type Assert, type Equal, type FlagSpec, type OptionsOf } from '../parse.js';
import type { Command } from '../command.js';
import { BUNDLE, NO_NEW_KEYRING, NO_PIVOT, PRESERVE_FDS } from './shared-flags.js';

export const EXPLAIN_FLAGS = [
  BUNDLE,
  f({ name: 'format', aliases: ['f'], type: 'string', default: 'text', help: 'select one of: text or json' }),
  f({ name: 'process', aliases: ['p'], type: 'string', help: 'explain an exec of this process.json in the container instead of its create' }),
  NO_PIVOT,
  NO_NEW_KEYRING,
  PRESERVE_FDS,
] as const satisfies readonly FlagSpec[];

export interface ExplainOptions {
  bundle: string;
  /** 'text' (default) or 'json'. */
  format: string;
  process: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
}

export type _ExplainTableMatchesInterface = Assert<Equal<ExplainOptions, OptionsOf<typeof EXPLAIN_FLAGS>>>;

export const explainCommand: Command<ExplainOptions> = {
  name: 'explain',
  usage: 'show what create would do with a bundle, without doing it',
  argsUsage: `[container-id]

Where "[container-id]" is the id create would be given (default "explain"):
it names the container's cgroup and session keyring.`,
  description: `The explain command prints what "create" would do with the bundle, and does
none of it: the validated config, the namespaces made or joined, each mount in
order with its flags and propagation, masked and read-only paths, devices,
the cgroup directories and every file and value written to them, the
capabilities, rlimits, the seccomp filter summarised, the hooks in order,
network devices, sysctls and user namespace maps. It is create's own plan,
read back. It touches nothing on the host: no state, no cgroup, no mount, no
process; it reads host facts (the cgroup layout, capabilities, LSMs).

With --process FILE it shows what "exec --process FILE" would do in the
container the bundle makes. --format json prints the same as JSON.`,
  flags: EXPLAIN_FLAGS,
  arity: { max: 1 },
  usesRootless: true,
  pathFlags: [
    ['bundle', '--bundle', '.'],
    ['process', '--process'],
  ],
  async run(ctx, inv) {
    const o = inv.options;
    if (o.format !== 'text' && o.format !== 'json') throw new HakoError(`invalid format option: ${o.format}`, 'usage');
    const { explainBundle, explanationJson } = await import('../../explain/index.js');
    const e = explainBundle(ctx, {
      bundle: o.bundle || '.',
      id: inv.positional[0],
      processFile: o.process || undefined,
      noPivot: o.noPivot,
      noNewKeyring: o.noNewKeyring,
      preserveFds: o.preserveFds,
      systemdCgroup: inv.global.systemdCgroup,
    });
    if (o.format === 'json') stdout(explanationJson(e) + '\n');
    else {
      const { explanationText } = await import('../../explain/text.js');
      stdout(explanationText(e) + '\n');
    }
    return 0;
  },
};
