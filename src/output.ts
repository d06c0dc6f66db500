// hako's own output: write(2) straight to fds 1 and 2. Bun builds
// process.stdout and process.stderr (stream objects) on first use, which
// costs about 2.5 ms of a command whose own work is a few; every line hako
// prints goes through here instead. The writes are synchronous, as runc's
// are: a slow reader holds hako, a reader that is gone ends the output.
import { writeSync } from 'node:fs';
import { native } from './native.js';

/**
 * Writes all of `text` to `fd`. False when the output is gone (EPIPE, a
 * closed fd): what hako had to say is lost, as runc's ignored write errors
 * lose it, and the caller may stop producing more.
 */
export function writeFd(fd: number, text: string): boolean {
  const buf = Buffer.from(text, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EINTR') continue;
      // An fd we were given non-blocking (a pipe shared with an event loop):
      // wait until it takes more.
      if (code === 'EAGAIN') {
        const n = native();
        n.poll(fd, n.constants.POLLOUT, -1);
        continue;
      }
      return false;
    }
  }
  return true;
}

export const stdout = (text: string): boolean => writeFd(1, text);
export const stderr = (text: string): boolean => writeFd(2, text);
