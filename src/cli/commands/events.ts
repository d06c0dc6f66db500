// `hako events`: one stats event (--stats), or a stream of them and of
// OOM notifications until the container goes.
import { stdout } from '../../output.js';
import { f, type Assert, type Equal, type FlagSpec, type OptionsOf } from '../parse.js';
import { containerId, type Command } from '../command.js';

export const EVENTS_FLAGS = [
  f({ name: 'interval', type: 'duration', default: 5000, help: 'set the stats collection interval' }),
  f({ name: 'stats', type: 'bool', help: "display the container's stats then exit" }),
] as const satisfies readonly FlagSpec[];

export interface EventsOptions {
  /** Milliseconds (Go duration syntax on the command line); may be <= 0,
   * which runc rejects later with "duration interval must be greater than 0". */
  interval: number;
  stats: boolean;
}

export type _EventsTableMatchesInterface = Assert<Equal<EventsOptions, OptionsOf<typeof EVENTS_FLAGS>>>;

export const eventsCommand: Command<EventsOptions> = {
  name: 'events',
  usage: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
  argsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container.`,
  description: `The events command displays information about the container. By default the
information is displayed once every 5 seconds.`,
  flags: EVENTS_FLAGS,
  arity: { exact: 1 },
  usesRootless: true,
  async run(ctx, inv) {
    const { statsEvent, streamEvents } = await import('../../container/events.js');
    const id = containerId(inv);
    if (inv.options.stats) {
      stdout(statsEvent(ctx, id, inv.options.interval) + '\n');
      return 0;
    }
    // A reader that goes away ends the stream (runc dies of EPIPE).
    const stop = new AbortController();
    await streamEvents(ctx, id, {
      intervalMs: inv.options.interval,
      emit: (line) => {
        if (!stdout(line + '\n')) stop.abort();
      },
      signal: stop.signal,
    });
    return 0;
  },
};
