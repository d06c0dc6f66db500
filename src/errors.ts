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

export function notFound(id: string): HakoError {
  // Clients match "does not exist" (podman, containerd): keep the words.
  return new HakoError(`container ${JSON.stringify(id)} does not exist`, 'not-found');
}

/** A one-line description of any thrown value, for error output. */
export function describe(e: unknown): string {
  if (e instanceof Error) return e.message.replace(/\s*\n\s*/g, '; ');
  return String(e);
}

/**
 * What a failed system call says, without Node's errno name and call:
 * "EISDIR: illegal operation on a directory, rename 'a' -> 'b'" becomes
 * "illegal operation on a directory"; EISDIR and ENOTDIR get plainer words.
 */
export function systemReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && PLAIN[code]) return PLAIN[code];
  const msg = describe(e);
  return /^[A-Z0-9_]+: (.*?), \w+ '.*'$/.exec(msg)?.[1] ?? msg;
}

const PLAIN: Readonly<Record<string, string>> = {
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is not a directory',
};
