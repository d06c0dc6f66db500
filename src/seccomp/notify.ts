// SCMP_ACT_NOTIFY: handing the listener fd to the seccomp agent.
//
// When a filter with notify rules is loaded (SECCOMP_FILTER_FLAG_NEW_LISTENER),
// seccomp(2) returns a listener fd in the container process; the launcher
// passes it back to us and we pass it on to the agent at
// linux.seccomp.listenerPath, exactly as runc does (so agents written for runc
// work unchanged): one connection, one message whose payload is the container
// process state JSON (runtime-spec's ContainerProcessState, config-linux.md
// "Seccomp" / runtime.md) and whose SCM_RIGHTS carries the fd, in the order
// named by `fds`.
import type { State } from '../spec/types.js';
import { OCI_VERSION } from '../spec/version.js';
import { native, type Native } from '../native.js';

/** The name of the listener fd in ContainerProcessState.fds. */
export const SECCOMP_FD_NAME = 'seccompFd';

/** runtime-spec's ContainerProcessState, with runc's JSON field names. */
export interface ContainerProcessState {
  ociVersion: string;
  /** Names of the fds sent with the message, in SCM_RIGHTS order. */
  fds: string[];
  /** The process that loaded the filter, as seen by the runtime (host pid). */
  pid: number;
  /** linux.seccomp.listenerMetadata, opaque to the runtime. */
  metadata?: string;
  /** The container's state: "creating" for the init, "running" for exec. */
  state: State;
}

export function containerProcessState(pid: number, state: State, metadata?: string): ContainerProcessState {
  const s: ContainerProcessState = { ociVersion: OCI_VERSION, fds: [SECCOMP_FD_NAME], pid, state };
  // Go's omitempty: runc leaves out an empty metadata string.
  if (metadata) s.metadata = metadata;
  return s;
}

/** The agent could not be reached or did not take the fd. */
export class SeccompAgentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeccompAgentError';
  }
}

/**
 * Sends `listenerFd` with `state` to the agent listening on `listenerPath`.
 * Blocking, like runc: the container process waits on its first notifying
 * syscall until the agent has the fd, so there is nothing to overlap. The
 * caller still owns (and closes) listenerFd.
 */
export function sendSeccompListener(
  listenerPath: string,
  listenerFd: number,
  state: ContainerProcessState,
  n: Pick<Native, 'connectUnix' | 'sendFd' | 'close'> = native(),
): void {
  let sock: number;
  try {
    sock = n.connectUnix(listenerPath);
  } catch (e) {
    throw new SeccompAgentError(`cannot connect to the seccomp agent at ${listenerPath}: ${reason(e)}`);
  }
  try {
    n.sendFd(sock, listenerFd, Buffer.from(JSON.stringify(state)));
  } catch (e) {
    throw new SeccompAgentError(`cannot send the seccomp listener fd to ${listenerPath}: ${reason(e)}`);
  } finally {
    n.close(sock);
  }
}

// The addon's "ENOENT: no such file or directory, connect '/path'" without
// its tail: the message already names the path once.
function reason(e: unknown): string {
  const err = e as { message?: unknown; syscall?: unknown };
  if (typeof err?.message !== 'string') return String(e);
  const tail = typeof err.syscall === 'string' ? err.message.lastIndexOf(`, ${err.syscall}`) : -1;
  return tail > 0 ? err.message.slice(0, tail) : err.message;
}
