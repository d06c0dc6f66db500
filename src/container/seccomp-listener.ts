// SCMP_ACT_NOTIFY for create and exec: the socket the launcher sends the
// filter's listener on, and passing it on to linux.seccomp.listenerPath with
// the container process state, as runc does for the init and for exec'd
// processes alike.
import type { PassFd, SeccompListener } from '../launch/launcher.js';
import { native } from '../native.js';
import { containerProcessState, sendSeccompListener } from '../seccomp/notify.js';
import type { LinuxSeccomp, State } from '../spec/types.js';
import type { OciState } from './status.js';

export interface ListenerHandover {
  /** For the launcher's plan. */
  passFd: PassFd;
  /** For InitSession. */
  listener: SeccompListener;
  /** Both ends; call it once the launch is over, whatever its outcome. */
  close(): void;
}

/**
 * `current` says, when the listener arrives, which process loaded the filter
 * (host pid) and the container's state to report with it.
 */
export function listenerHandover(
  seccomp: LinuxSeccomp,
  current: () => { pid: number; state: OciState },
  debug: (msg: string) => void = () => {},
): ListenerHandover {
  const listenerPath = seccomp.listenerPath;
  // compileSeccomp refuses notify rules without it.
  if (!listenerPath) throw new Error('listenerHandover: linux.seccomp.listenerPath is not set');
  // SEQPACKET: one message per listener, nothing to reassemble.
  const [ours, theirs] = native().socketpair('seqpacket');
  let open = true;
  return {
    passFd: { tag: 'SECCOMP_FD_SOCK', fd: theirs },
    listener: {
      sock: ours,
      deliver(fd: number) {
        const { pid, state } = current();
        sendSeccompListener(listenerPath, fd, containerProcessState(pid, agentState(state), seccomp.listenerMetadata));
        debug(`seccomp: the listener of process ${pid} went to the agent at ${listenerPath}`);
      },
    },
    close() {
      if (!open) return;
      open = false;
      native().close(ours);
      native().close(theirs);
    },
  };
}

/** runtime-spec's State, as runc gives it to agents: without the fields its `state` command adds. */
function agentState(s: OciState): State {
  const st: State = { ociVersion: s.ociVersion, id: s.id, status: s.status, pid: s.pid, bundle: s.bundle };
  if (s.annotations) st.annotations = s.annotations;
  return st;
}
