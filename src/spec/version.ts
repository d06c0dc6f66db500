// Which runtime-spec versions hako reads and writes.

import { SpecError } from './spec-error.js';

/** The version hako implements: written by `hako spec`, in state and as features' ociVersionMax. */
export const OCI_VERSION = '1.3.0';
/** The oldest version accepted in config.json (features' ociVersionMin). */
export const OCI_VERSION_MIN = '1.0.0';

// SemVer 2.0.0, section 2, 9 and 10.
const SEMVER = /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** major, minor, patch of a SemVer string, or undefined if it is not one. */
export function parseVersion(v: string): [number, number, number] | undefined {
  const m = SEMVER.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/** Negative, zero or positive like a comparator; pre-release and build suffixes are ignored. */
export function compareVersions(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * Throws unless `v` is a version hako can run: 1.0.0 up to any 1.3.x, with
 * any pre-release or build suffix (runc 1.1 writes "1.0.2-dev", runtime-spec
 * main "1.3.0+dev"; 1.0.0-rc configs are still around). A later minor
 * version may carry fields whose meaning hako does not know, and the spec
 * only promises compatibility the other way round, so it is refused.
 */
export function checkOciVersion(v: string, file: string, pointer = '/ociVersion'): void {
  const parsed = parseVersion(v);
  if (!parsed) throw new SpecError(file, pointer, `${JSON.stringify(v)} is not a SemVer version such as ${OCI_VERSION}`);
  const [major, minor] = parsed;
  if (major !== 1 || minor > 3) {
    throw new SpecError(file, pointer, `version ${v} is not supported (hako supports ${OCI_VERSION_MIN} to 1.3.x)`);
  }
}
