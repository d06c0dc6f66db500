// A controlling terminal for a test's hako whose stdio are pipes: a
// foreground run or exec with process.terminal needs a terminal of its own
// (one of stdin, stdout and stderr, or /dev/tty), as runc's does; pipes
// alone are refused. The program runs in a new session whose controlling
// terminal is a fresh pty (its master kept open across the exec, so the
// terminal stays up), its stdio left as the caller gave them.
const SCRIPT = `
import os, pty, sys, fcntl, termios
master, slave = pty.openpty()
os.setsid()
fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
os.close(slave)
os.set_inheritable(master, True)
os.execvp(sys.argv[1], sys.argv[1:])
`;

/** argv prefix: `spawn(WITH_CTTY[0], [...WITH_CTTY.slice(1), program, ...args])`. */
export const WITH_CTTY: readonly string[] = ['python3', '-c', SCRIPT];

/** The same as a shell command prefix (the script has no single quote): `${CTTY_SH} prog args`. */
export const CTTY_SH = `python3 -c '${SCRIPT}'`;
