// `hako list`: the containers under --root, as a table, JSON or ids.
import { HakoError } from '../../errors.js';
import { stdout } from '../../output.js';
import { DEFAULT_ROOT } from '../global-flags.js';
import { f, type Assert, type Equal, type FlagSpec, type OptionsOf } from '../parse.js';
import type { Command } from '../command.js';
import { FORMAT } from './shared-flags.js';

export const LIST_FLAGS = [
  FORMAT,
  f({ name: 'quiet', aliases: ['q'], type: 'bool', help: 'display only container IDs' }),
] as const satisfies readonly FlagSpec[];

export interface ListOptions {
  /** 'table' (default) or 'json'; not validated here (runc checks later). */
  format: string;
  quiet: boolean;
}

export type _ListTableMatchesInterface = Assert<Equal<ListOptions, OptionsOf<typeof LIST_FLAGS>>>;

export const listCommand: Command<ListOptions> = {
  name: 'list',
  usage: 'lists containers started by hako with the given root',
  argsUsage: `

Where the given root is specified via the global option "--root"
(default: "${DEFAULT_ROOT}").

EXAMPLE 1:
To list containers created via the default "--root":
       # hako list

EXAMPLE 2:
To list containers created using a non-default value for "--root":
       # hako --root value list`,
  flags: LIST_FLAGS,
  arity: { exact: 0 },
  async run(ctx, inv) {
    const { listWithOwners } = await import('../../container/query.js');
    const all = listWithOwners(ctx);
    const o = inv.options;
    if (o.quiet) {
      stdout(all.map((s) => s.id + '\n').join(''));
    } else if (o.format === 'json') {
      stdout(JSON.stringify(all.length ? all : null) + '\n');
    } else if (o.format === 'table' || o.format === '') {
      const rows = all.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]);
      stdout(table([['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...rows]));
    } else {
      throw new HakoError(`invalid format option: ${o.format}`, 'usage');
    }
    return 0;
  },
};

/** Go's tabwriter as runc's list uses it: minwidth 12, padding 3. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(12, ...rows.map((r) => (r[i] ?? '').length + 3)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('') + '\n').join('');
}
