// The managers touch the cgroup filesystem only through CgroupFs, so unit
// tests can run them against a temporary directory shaped like
// /sys/fs/cgroup, without root. hostFs is the real thing.
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, writeSync } from 'node:fs';

export interface CgroupFs {
  /** The whole file. Errors carry `code` (ENOENT, ...). */
  read(file: string): string;
  /**
   * One write(2) of `value` to an existing file. The kernel parses each
   * write as one command, so values are never split or buffered.
   */
  write(file: string, value: string): void;
  exists(p: string): boolean;
  /** mkdir(2), mode 0755; false when it already existed. */
  mkdir(dir: string): boolean;
  /** rmdir(2); errors carry `code` (EBUSY while processes remain). */
  rmdir(dir: string): void;
  /** Names of the child cgroups (subdirectories). */
  subdirs(dir: string): string[];
}

export const hostFs: CgroupFs = {
  read: (file) => readFileSync(file, 'utf8'),
  write(file, value) {
    // O_WRONLY without O_CREAT or O_TRUNC: a missing file is ENOENT (the
    // controller or knob is absent), never an attempt to create one.
    const fd = openSync(file, constants.O_WRONLY);
    try {
      writeSync(fd, value);
    } finally {
      closeSync(fd);
    }
  },
  exists: (p) => existsSync(p),
  mkdir(dir) {
    try {
      mkdirSync(dir, 0o755);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
  },
  rmdir: (dir) => rmdirSync(dir),
  subdirs: (dir) =>
    readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name),
};
