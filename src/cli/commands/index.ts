// The command table: one file per command, in runc's order (which is also
// the order of the help listing). main.ts looks the parsed command up here
// and runs it; help.ts and the parser read the same entries.
import type { Command } from '../command.js';
import type { NoOptions } from '../parse.js';
import { checkpointCommand, type CheckpointOptions } from './checkpoint.js';
import { createCommand, type CreateOptions } from './create.js';
import { deleteCommand, type DeleteOptions } from './delete.js';
import { eventsCommand, type EventsOptions } from './events.js';
import { execCommand, type ExecOptions } from './exec.js';
import { explainCommand, type ExplainOptions } from './explain.js';
import { featuresCommand } from './features.js';
import { helpCommand } from './help.js';
import { initCommand } from './init.js';
import { killCommand, type KillOptions } from './kill.js';
import { listCommand, type ListOptions } from './list.js';
import { pauseCommand } from './pause.js';
import { psCommand, type PsOptions } from './ps.js';
import { restoreCommand, type RestoreOptions } from './restore.js';
import { resumeCommand } from './resume.js';
import { runCommand, type RunOptions } from './run.js';
import { specCommand, type SpecOptions } from './spec.js';
import { startCommand } from './start.js';
import { stateCommand } from './state.js';
import { updateCommand, type UpdateOptions } from './update.js';

export const COMMANDS: readonly Command[] = [
  checkpointCommand,
  createCommand,
  deleteCommand,
  eventsCommand,
  execCommand,
  initCommand,
  killCommand,
  listCommand,
  pauseCommand,
  psCommand,
  restoreCommand,
  resumeCommand,
  runCommand,
  specCommand,
  startCommand,
  stateCommand,
  updateCommand,
  featuresCommand,
  explainCommand,
  helpCommand,
];

/** Each command's options, as the parser hands them to it. */
export interface CommandOptionsMap {
  checkpoint: CheckpointOptions;
  create: CreateOptions;
  delete: DeleteOptions;
  events: EventsOptions;
  exec: ExecOptions;
  init: NoOptions;
  kill: KillOptions;
  list: ListOptions;
  pause: NoOptions;
  ps: PsOptions;
  restore: RestoreOptions;
  resume: NoOptions;
  run: RunOptions;
  spec: SpecOptions;
  start: NoOptions;
  state: NoOptions;
  update: UpdateOptions;
  features: NoOptions;
  explain: ExplainOptions;
  help: NoOptions;
}

export type CommandName = keyof CommandOptionsMap;

/** Looks a command up by name or alias, as the command line names it. */
export function findCommand(name: string, opts: { includeHidden?: boolean } = {}): Command | undefined {
  return COMMANDS.find((c) => (c.name === name || (c.aliases ?? []).includes(name)) && (!c.hidden || opts.includeHidden === true));
}
