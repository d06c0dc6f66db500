// The stdio a library caller gives a container's init or an exec'd
// process: ours ('inherit'), /dev/null ('ignore'), an fd of the caller's,
// or 'pipe': a socketpair (what child_process's pipes are too), whose far
// end goes to the process and whose near end comes back as a stream.
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { HakoError } from '../errors.js';
import { native } from '../native.js';
import type { LauncherStdio } from '../launch/launcher.js';

/**
 * One of a process's stdin, stdout, stderr: this process's own ('inherit'),
 * /dev/null ('ignore'), a stream of the caller's ('pipe'), or an fd.
 */
export type StdioOption = 'inherit' | 'ignore' | 'pipe' | number;

/** The caller's ends of the 'pipe' entries; null for the others. */
export interface StdioStreams {
  /** The process's stdin, when it was 'pipe'. */
  stdin: Writable | null;
  /** The process's stdout, when it was 'pipe'. */
  stdout: Readable | null;
  /** The process's stderr, when it was 'pipe'. */
  stderr: Readable | null;
}

export interface OpenedStdio {
  /** What the launcher is given for fds 0, 1 and 2. */
  launcher: LauncherStdio;
  /** Once the process has them: closes our copies of its ends and wraps ours. */
  streams(): StdioStreams;
  /** The launch failed: closes everything opened here. */
  close(): void;
}

function checkEntry(e: StdioOption, i: number): void {
  if (e === 'inherit' || e === 'ignore' || e === 'pipe') return;
  if (typeof e === 'number' && Number.isInteger(e) && e >= 0) return;
  throw new HakoError(`stdio[${i}]: ${JSON.stringify(e)} is not 'inherit', 'ignore', 'pipe' or an fd`, 'usage');
}

/** Opens the pairs `stdio` asks for (default: all three inherited). */
export function openStdio(stdio: readonly StdioOption[] = []): OpenedStdio {
  if (stdio.length > 3) throw new HakoError('stdio: at most three entries (stdin, stdout, stderr)', 'usage');
  const entries = [0, 1, 2].map((i) => stdio[i] ?? 'inherit');
  entries.forEach(checkEntry);
  const near: number[] = [-1, -1, -1];
  const far: number[] = [-1, -1, -1];
  const closeAll = (fds: number[]) => {
    for (const [i, fd] of fds.entries()) {
      if (fd >= 0) native().close(fd);
      fds[i] = -1;
    }
  };
  try {
    for (const [i, e] of entries.entries()) if (e === 'pipe') [near[i], far[i]] = native().socketpair();
  } catch (e) {
    closeAll(near);
    closeAll(far);
    throw e;
  }
  const launcher = entries.map((e, i) => (e === 'pipe' ? far[i]! : e)) as unknown as LauncherStdio;
  return {
    launcher,
    streams() {
      closeAll(far);
      const wrap = (i: number, readable: boolean) => {
        if (near[i]! < 0) return null;
        const s = new Socket({ fd: near[i]!, readable, writable: !readable });
        near[i] = -1;
        return s;
      };
      return { stdin: wrap(0, false), stdout: wrap(1, true), stderr: wrap(2, true) };
    },
    close() {
      closeAll(near);
      closeAll(far);
    },
  };
}
