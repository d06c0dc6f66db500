// Ending a process of ours that the launcher cloned (CLONE_PARENT) when
// create or exec fails: it is killed (or let exit) and always reaped, so no
// zombie outlives the operation.
import { native } from '../native.js';

/**
 * A process of ours (CLONE_PARENT) that waits on the sync socket, whose end
 * of file the caller has just given it: let it exit by itself for up to
 * `ms`, then kill it; reaped either way. Exiting by itself matters for an
 * exec'd process caught mid seccomp handover: it first reaps the helper it
 * forked, which a SIGKILL would orphan to the container's init (a process of
 * the container's that need not reap: a zombie there for good).
 */
export function endAndReap(pid: number, ms: number): void {
  const n = native();
  let fd = -1;
  try {
    fd = n.pidfdOpen(pid);
    n.poll(fd, n.constants.POLLIN, ms);
  } catch {
    /* gone already, or not ours to watch: the kill below settles it */
  } finally {
    if (fd >= 0) n.close(fd);
  }
  killAndReap(pid);
}

/** The init is our child (CLONE_PARENT): kill it and reap it so no zombie outlives create. */
export function killAndReap(pid: number): void {
  try {
    native().kill(pid, 9);
  } catch {
    return;
  }
  try {
    native().waitpid(pid, false);
  } catch {
    /* not our child (after a restart of the caller) */
  }
}
