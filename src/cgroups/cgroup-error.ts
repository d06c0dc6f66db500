// Every cgroup failure is a CgroupError with a one-line message naming what
// the user can act on: the JSON path of the setting, the controller, or the
// cgroup file and what the kernel said. The library never prints.
import { InnerError, atLocation, pointerToken } from '../errors.js';

export { pointerToken };

/**
 * A cgroup failure. Without an errno it is a setting that cannot be
 * honoured (a config error); with one, the kernel refused (a system error).
 */
export class CgroupError extends InnerError {
  constructor(
    message: string,
    /** errno name when the kernel refused ('EBUSY', 'EINVAL', ...). */
    readonly code?: string,
  ) {
    super(message.replace(/\s*\n\s*/g, '; '), code === undefined ? 'config' : 'system');
    this.name = 'CgroupError';
  }
}

/** A setting that cannot be honoured: `<file>: <pointer>: <reason>` ({@link atLocation}). */
export function settingError(source: string, pointer: string, reason: string): CgroupError {
  return new CgroupError(atLocation(source, pointer, reason));
}

// The kernel's words for the errors cgroup files give, shorter than Node's
// messages (which repeat the syscall and path we already name).
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EINVAL: 'invalid argument',
  EBUSY: 'device or resource busy',
  EPERM: 'operation not permitted',
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  ENODEV: 'no such device',
  EOPNOTSUPP: 'operation not supported',
  ENOTSUP: 'operation not supported',
  ERANGE: 'result out of range',
  ENOTEMPTY: 'directory not empty',
  ESRCH: 'no such process',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error',
  ELOOP: 'too many levels of symbolic links',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'file exists',
  ENAMETOOLONG: 'file name too long',
};

export function errnoCode(e: unknown): string | undefined {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** `EBUSY (device or resource busy)`, or the error's own message when it has no code. */
export function errnoText(e: unknown): string {
  const code = errnoCode(e);
  if (code === undefined) return e instanceof Error ? e.message : String(e);
  const words = ERRNO_WORDS[code];
  return words ? `${words} (${code})` : code;
}
