// Container id validation.
//
// The id names a directory under --root (and hako's cgroup, log lines,
// ...), so it must be a single safe path component. runc 1.1.5 checks
// `^[\w+-\.]+$` plus "not . or ..", with two quirks hako does not copy:
// the `+-\.` in its character class is a range that also admits ',' (newer
// runc lists the characters explicitly), and it has no length limit (a
// 256-byte id fails later with ENAMETOOLONG). hako also refuses a leading
// '.', which keeps dot-names in the state directory free for its own use
// and excludes "." and "..". The messages are runc's.

import { UsageError } from './args.js';

/** NAME_MAX: the id must fit in one path component. */
export const MAX_ID_LENGTH = 255;

const ID_RE = /^[A-Za-z0-9_+-][A-Za-z0-9_+.-]*$/;

/** Throws UsageError `container id cannot be empty` or
 * `invalid container ID format` (runc's wording). */
export function validateId(id: string): void {
  if (id === '') throw new UsageError('container id cannot be empty');
  // The pattern is ASCII-only, so length in UTF-16 units is the byte length.
  if (!ID_RE.test(id) || id.length > MAX_ID_LENGTH) throw new UsageError('invalid container ID format');
}

export function isValidId(id: string): boolean {
  return id !== '' && ID_RE.test(id) && id.length <= MAX_ID_LENGTH;
}
