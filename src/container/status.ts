// A container's status is derived from the world, not trusted from a file:
// the recorded init must still be alive (same start time: pids are reused),
// and exec.fifo exists exactly between create and start.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { isAlive } from './proc.js';
import { FIFO_FILE, type ContainerRecord } from './store.js';
import { containerCgroup } from './cgroup.js';

/** A container's status, the OCI runtime-spec's and 'paused' (runc's). */
export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

function isFrozen(rec: ContainerRecord): boolean {
  try {
    return containerCgroup(rec)?.freezerState() === 'frozen';
  } catch {
    return false;
  }
}

export function statusOf(rec: ContainerRecord, dir: string): Status {
  if (rec.creating) {
    // A create that died half-way leaves a record nobody is finishing:
    // report it stopped so that delete can clean it up.
    return isAlive(rec.creating.pid, rec.creating.startTime) ? 'creating' : 'stopped';
  }
  if (!isAlive(rec.pid, rec.initStartTime)) return 'stopped';
  if (existsSync(path.join(dir, FIFO_FILE))) return 'created';
  if (isFrozen(rec)) return 'paused';
  return 'running';
}

/** The OCI state document, as `state` prints it (runc's field order). */
export interface OciState {
  /** The runtime-spec version the container was created under. */
  ociVersion: string;
  /** The container's id. */
  id: string;
  /** Its init's host pid; 0 once it has stopped. */
  pid: number;
  /** Where it is in its lifecycle. */
  status: Status;
  /** Its bundle, absolute. */
  bundle: string;
  /** Its root filesystem on the host, absolute. */
  rootfs: string;
  /** When it was created, RFC 3339 with nanoseconds (as runc's). */
  created: string;
  /** The name of the user who created it (runc's `owner`). */
  owner: string;
  /** config.json's annotations. */
  annotations?: Record<string, string>;
}

export function ociState(rec: ContainerRecord, status: Status): OciState {
  const s: OciState = {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
  };
  if (rec.annotations && Object.keys(rec.annotations).length) s.annotations = rec.annotations;
  return s;
}
