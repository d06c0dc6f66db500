// `hako exec`: run another process in a running container.
import path from 'node:path';
import { HakoError, describe, toHakoError } from '../../errors.js';
import type { ExecOptions as ExecRequest } from '../../container/exec.js';
import { f, type Assert, type Equal, type FlagSpec, type OptionsOf } from '../parse.js';
import { containerId, type Command } from '../command.js';
import { CONSOLE_SOCKET, PIDFD_SOCKET_EXEC, PID_FILE, PRESERVE_FDS, DETACH } from './shared-flags.js';

export const EXEC_FLAGS = [
  CONSOLE_SOCKET,
  PIDFD_SOCKET_EXEC,
  f({ name: 'cwd', type: 'string', help: 'current working directory in the container' }),
  f({ name: 'env', aliases: ['e'], type: 'stringArray', help: 'set environment variables' }),
  f({ name: 'tty', aliases: ['t'], type: 'bool', help: 'allocate a pseudo-TTY' }),
  f({ name: 'user', aliases: ['u'], type: 'string', help: 'UID (format: <uid>[:<gid>])' }),
  f({ name: 'additional-gids', aliases: ['g'], type: 'intArray', help: 'additional gids' }),
  f({ name: 'process', aliases: ['p'], type: 'string', help: 'path to the process.json' }),
  DETACH,
  PID_FILE,
  f({
    name: 'process-label',
    type: 'string',
    help: 'set the asm process label for the process commonly used with selinux',
  }),
  f({ name: 'apparmor', type: 'string', help: 'set the apparmor profile for the process' }),
  // runc only overrides process.noNewPrivileges when the flag is given
  // (context.IsSet), so absent must stay distinguishable from false.
  f({
    name: 'no-new-privs',
    type: 'bool',
    optional: true,
    help: 'set the no new privileges value for the process',
  }),
  f({
    name: 'cap',
    aliases: ['c'],
    type: 'stringArray',
    help: 'add a capability to the bounding set for the process',
  }),
  PRESERVE_FDS,
  f({
    name: 'cgroup',
    type: 'stringArray',
    help: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.',
  }),
  f({ name: 'ignore-paused', type: 'bool', help: 'allow exec in a paused container' }),
] as const satisfies readonly FlagSpec[];

export interface ExecOptions {
  consoleSocket: string;
  pidfdSocket: string;
  cwd: string;
  env: string[];
  tty: boolean;
  user: string;
  additionalGids: number[];
  process: string;
  detach: boolean;
  pidFile: string;
  processLabel: string;
  apparmor: string;
  /** undefined when not given: keep process.noNewPrivileges of the spec. */
  noNewPrivs: boolean | undefined;
  cap: string[];
  preserveFds: number;
  cgroup: string[];
  ignorePaused: boolean;
}

export type _ExecTableMatchesInterface = Assert<Equal<ExecOptions, OptionsOf<typeof EXEC_FLAGS>>>;

export const execCommand: Command<ExecOptions> = {
  name: 'exec',
  usage: 'execute new process inside the container',
  argsUsage: `<container-id> <command> [command options]  || -p process.json <container-id>

Where "<container-id>" is the name for the instance of the container and
"<command>" is the command to be executed in the container.
"<command>" can't be empty unless a "-p" flag provided.

EXAMPLE:
For example, if the container is configured to run the linux ps command the
following will output a list of processes running in the container:

       # hako exec <container-id> ps`,
  flags: EXEC_FLAGS,
  // "<command> can't be empty unless -p" is checked by runc only after
  // looking the container up, so it is left to the exec command.
  arity: { min: 1 },
  skipArgReorder: true,
  usesRootless: true,
  pathFlags: [
    ['process', '--process'],
    ['pidFile', '--pid-file'],
    ['consoleSocket', '--console-socket'],
  ],
  async run(ctx, inv) {
    const { exec } = await import('../../container/exec.js');
    try {
      return await exec(ctx, containerId(inv), execRequest(inv.options, inv.positional.slice(1)));
    } catch (e) {
      // runc's words and status for anything that keeps the process from
      // running; podman and Docker look for the cause's text in it.
      throw new HakoError(`exec failed: ${describe(e)}`, toHakoError(e).kind, 255);
    }
  },
};

/** exec's flags as the library takes them, with paths made absolute as runc does. */
function execRequest(o: ExecOptions, args: string[]): ExecRequest {
  return {
    args,
    processFile: o.process ? path.resolve(o.process) : undefined,
    cwd: o.cwd || undefined,
    env: o.env,
    tty: o.tty,
    user: o.user || undefined,
    additionalGids: o.additionalGids,
    caps: o.cap,
    noNewPrivs: o.noNewPrivs,
    apparmor: o.apparmor || undefined,
    processLabel: o.processLabel || undefined,
    consoleSocket: o.consoleSocket ? path.resolve(o.consoleSocket) : undefined,
    pidfdSocket: o.pidfdSocket ? path.resolve(o.pidfdSocket) : undefined,
    cgroup: o.cgroup,
    detach: o.detach,
    pidFile: o.pidFile ? path.resolve(o.pidFile) : undefined,
    preserveFds: Math.max(0, o.preserveFds),
    ignorePaused: o.ignorePaused,
  };
}
