// The pid file create, run and exec write with --pid-file, as runc does.
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { systemReason } from '../errors.js';

/**
 * The pid file: decimal, no newline (containerd rejects one), appears whole.
 * A failure leaves no temporary file and says which pid file and why, in
 * words ("is a directory"), not errno names. Its directory must exist: as
 * runc, hako makes none (a mistyped path fails instead of growing a tree).
 */
export function writePidFile(file: string, pid: number): void {
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, String(pid));
    renameSync(tmp, abs);
  } catch (e) {
    removePidFile(tmp);
    throw new Error(`pid file ${abs}: ${systemReason(e)}`);
  }
}

/** Removes a pid file (create undoing itself) or its temporary; a missing one is fine. */
export function removePidFile(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    /* already gone */
  }
}
