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
