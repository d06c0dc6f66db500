// Tests that cannot run on this host (no SELinux, no systemd as PID 1, no
// dbus-daemon) end as skips, not as passes: uvu knows only static skips, so a
// test calls skip(why), which throws, and the suite's wrapper prints one line
// per skipped test. scripts/test-summary.mjs counts those lines, so the
// closing line of `make test` says how many tests were skipped and the
// skipped tests are not counted as passed.
import type { Test } from 'uvu';

class Skipped extends Error {}

/** Ends the running test as skipped, saying why. */
export function skip(why: string): never {
  throw new Skipped(why);
}

/** The line scripts/test-summary.mjs counts: keep the two in step. */
export const skipLine = (suite: string, title: string, why: string) => `  skipped: ${suite} › ${title} (${why})`;

/** Registers tests on suite `t` whose bodies may call skip(why). */
export function skippable(t: Test, suite: string) {
  return (title: string, fn: () => unknown): void => {
    t(title, async () => {
      try {
        await fn();
      } catch (e) {
        if (!(e instanceof Skipped)) throw e;
        console.log(skipLine(suite, title, e.message));
      }
    });
  };
}
