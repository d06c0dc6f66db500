// One error type for everything a user can be told. The CLI prints
// `hako: <message>`; the library never prints.

export type ErrorKind =
  | 'usage' // bad command line
  | 'config' // config.json or another input file is wrong
  | 'not-found' // no such container
  | 'exists' // container id taken
  | 'state' // operation not allowed in the container's current state
  | 'system'; // the kernel or the host said no

export class HakoError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind = 'system',
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'HakoError';
  }
}

/**
 * An error from code that does not know which container (or which command)
 * it is about: the plan, the cgroup managers, the launcher, hooks, the
 * state store. It carries its kind; the operation that called it places it
 * with {@link toHakoError}, which is the one translation point.
 */
export class InnerError extends HakoError {
  constructor(message: string, kind: ErrorKind = 'system') {
    super(message, kind);
    this.name = 'InnerError';
  }
}

/** How {@link toHakoError} classifies. */
export interface Classify {
  /** Replaces the kind an inner error carries, where the caller knows better (exec --cgroup: the caller's argument). Not applied to other errors. */
  kind?: ErrorKind;
  /** The kind of anything thrown that is not a HakoError (default 'system'). */
  fallback?: ErrorKind;
}

/**
 * Anything thrown, as the HakoError a user is shown. A HakoError already
 * placed passes unchanged; an {@link InnerError} gets `prefix` (usually the
 * container, "container "x": ") and keeps its kind; anything else is
 * described in one line ({@link describe}) and prefixed.
 */
export function toHakoError(e: unknown, prefix: (m: string) => string = (m) => m, classify: Classify = {}): HakoError {
  if (e instanceof InnerError) return new HakoError(prefix(e.message), classify.kind ?? e.kind, e.exitCode);
  if (e instanceof HakoError) return e;
  return new HakoError(prefix(describe(e)), classify.fallback ?? 'system');
}

/** The prefix that names a container in a message: `container "x": <message>`. */
export function inContainer(id: string): (m: string) => string {
  return (m) => `container ${JSON.stringify(id)}: ${m}`;
}

/**
 * The one way to say where in an input document a problem is:
 * `<file>: <pointer>: <reason>`, or `<file>: <reason>` for the document as
 * a whole (pointer ""). `file` is the document as the user knows it
 * ("config.json", "process.json", "--resources"); `pointer` a JSON pointer.
 */
export function atLocation(file: string, pointer: string, reason: string): string {
  return pointer === '' ? `${file}: ${reason}` : `${file}: ${pointer}: ${reason}`;
}

/** JSON pointer escaping of one reference token (RFC 6901). */
export function pointerToken(key: string | number): string {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function notFound(id: string): HakoError {
  // Clients match "does not exist" (podman, containerd): keep the words.
  return new HakoError(`container ${JSON.stringify(id)} does not exist`, 'not-found');
}

/**
 * A one-line description of any thrown value, for error output. A system
 * call's error reads as Go's do (and so runc's): "open /x: no such file or
 * directory", not Node's "ENOENT: no such file or directory, open '/x'".
 */
export function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const m = errnoParts(e);
  const text = m ? (m.syscall ? `${m.syscall}${m.path ? ' ' + m.path : ''}${m.dest ? ' -> ' + m.dest : ''}: ${m.reason}` : m.reason) : e.message;
  return text.replace(/\s*\n\s*/g, '; ');
}

// "ENOENT: no such file or directory, open '/x'", "EXDEV: cross-device link not permitted, rename 'a' -> 'b'", "EPERM: operation not permitted"
const NODE_ERRNO = /^(E[A-Z0-9]+): (.*?)(?:, (\w+)(?: '(.*?)')?(?: -> '(.*)')?)?$/s;

// Node's spawn: "spawn /x ENOENT" (Bun says "ENOENT: ..., posix_spawn '/x'").
const NODE_SPAWN = /^(spawn(?:Sync)?) (.*) (E[A-Z0-9]+)$/s;

// What Node's spawn leaves out: the words for the codes an exec meets.
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  ENOEXEC: 'exec format error',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EPERM: 'operation not permitted',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  E2BIG: 'argument list too long',
  ETXTBSY: 'text file busy',
  ENOMEM: 'cannot allocate memory',
  EAGAIN: 'resource temporarily unavailable',
};

function errnoParts(e: Error): { reason: string; syscall?: string; path?: string; dest?: string } | undefined {
  const code = (e as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return undefined;
  const sp = NODE_SPAWN.exec(e.message);
  if (sp && sp[3] === code) return { reason: ERRNO_WORDS[code] ?? code, syscall: sp[1], path: sp[2] };
  const m = NODE_ERRNO.exec(e.message);
  if (!m || m[1] !== code) return undefined;
  return { reason: m[2]!, syscall: m[3], path: m[4], dest: m[5] };
}

/**
 * What a failed system call says, without Node's errno name and call:
 * "EISDIR: illegal operation on a directory, rename 'a' -> 'b'" becomes
 * "illegal operation on a directory"; EISDIR and ENOTDIR get plainer words.
 */
export function systemReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && PLAIN[code]) return PLAIN[code];
  if (e instanceof Error) {
    const m = errnoParts(e);
    if (m) return m.reason;
  }
  return describe(e);
}

const PLAIN: Readonly<Record<string, string>> = {
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is not a directory',
};
