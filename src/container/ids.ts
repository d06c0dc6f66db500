// Container ids: the one place they are checked. An id names a directory
// under --root (and the default cgroup, log lines, ...), so it must be a
// single safe path component; Store.dir refuses any other, so no command
// can build a container path from an unchecked id.
//
// runc 1.1.5 checks `^[\w+-\.]+$` plus "not . or ..", with two quirks hako
// does not copy: the `+-\.` in its character class is a range that also
// admits ',' (newer runc lists the characters explicitly), and it has no
// length limit (a 256-byte id fails later with ENAMETOOLONG). hako also
// refuses a leading '.', which keeps dot-names in the state directory free
// for its own use (Store's work directories) and excludes "." and "..".
// The messages are runc's, with the id (quoted, so control characters show
// escaped and the message stays one line).
import { HakoError } from '../errors.js';

/** NAME_MAX: the id must fit in one path component. */
export const MAX_ID_LENGTH = 255;

const ID_RE = /^[A-Za-z0-9_+-][A-Za-z0-9_+.-]*$/;

export function isValidId(id: unknown): boolean {
  // The pattern is ASCII-only, so length in UTF-16 units is the byte length.
  return typeof id === 'string' && ID_RE.test(id) && id.length <= MAX_ID_LENGTH;
}

/** Throws `container id cannot be empty` or `invalid container ID format: "<id>"` (kind usage). */
export function validateId(id: string): void {
  if (id === '') throw new HakoError('container id cannot be empty', 'usage');
  if (!isValidId(id)) throw new HakoError(`invalid container ID format: ${JSON.stringify(id)}`, 'usage');
}
