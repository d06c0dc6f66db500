// `hako create`: set up a container from a bundle, its process waiting
// for `start`.
import path from 'node:path';
import type { CreateOptions as CreateRequest } from '../../container/create.js';
import type { Assert, Equal, FlagSpec, OptionsOf } from '../parse.js';
import { containerId, type Command } from '../command.js';
import {
  BUNDLE,
  CONSOLE_SOCKET,
  PIDFD_SOCKET_INIT,
  PID_FILE,
  NO_PIVOT,
  NO_NEW_KEYRING,
  PRESERVE_FDS,
  CREATED_ID_ARGS,
  BUNDLE_DESCRIPTION,
  CREATE_PATHS,
} from './shared-flags.js';

export const CREATE_FLAGS = [
  BUNDLE,
  CONSOLE_SOCKET,
  PIDFD_SOCKET_INIT,
  PID_FILE,
  NO_PIVOT,
  NO_NEW_KEYRING,
  PRESERVE_FDS,
] as const satisfies readonly FlagSpec[];

export interface CreateOptions {
  bundle: string;
  consoleSocket: string;
  pidfdSocket: string;
  /** As given; runc makes it absolute (against the original cwd). */
  pidFile: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  /** Can be negative, as in runc (which then passes none). */
  preserveFds: number;
}

export type _CreateTableMatchesInterface = Assert<Equal<CreateOptions, OptionsOf<typeof CREATE_FLAGS>>>;

export const createCommand: Command<CreateOptions> = {
  name: 'create',
  usage: 'create a container',
  argsUsage: CREATED_ID_ARGS,
  description: BUNDLE_DESCRIPTION('create'),
  flags: CREATE_FLAGS,
  arity: { exact: 1 },
  usesRootless: true,
  pathFlags: CREATE_PATHS,
  async run(ctx, inv) {
    const { create } = await import('../../container/create.js');
    await create(ctx, containerId(inv), { ...createOptions(inv.options), systemdCgroup: inv.global.systemdCgroup });
    return 0;
  },
};

/** The flags create and run share, with paths made absolute as runc does. */
export function createOptions(o: CreateOptions): CreateRequest {
  return {
    bundle: o.bundle || '.',
    pidFile: o.pidFile ? path.resolve(o.pidFile) : undefined,
    noPivot: o.noPivot,
    noNewKeyring: o.noNewKeyring,
    preserveFds: Math.max(0, o.preserveFds),
    consoleSocket: o.consoleSocket ? path.resolve(o.consoleSocket) : undefined,
    pidfdSocket: o.pidfdSocket ? path.resolve(o.pidfdSocket) : undefined,
  };
}
