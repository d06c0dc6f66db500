// Errors about OCI documents (config.json, state, features). One line each,
// naming the file and the JSON pointer, because that is what a user needs to
// find the mistake, and what conmon/containerd show from the last log line.
import { InnerError, atLocation, pointerToken } from '../errors.js';

export { pointerToken };

/**
 * A document does not satisfy the spec: a config error, worded by
 * {@link atLocation} (`<file>: <path>: <detail>`, or `<file>: <detail>`
 * when the problem is the document as a whole, path "").
 */
export class SpecError extends InnerError {
  constructor(
    /** The document as the user knows it, e.g. "config.json". */
    readonly file: string,
    /** JSON pointer (RFC 6901) to the offending value; "" for the whole document. */
    readonly path: string,
    /** The cause, without file and path. */
    readonly detail: string,
  ) {
    super(atLocation(file, path, detail), 'config');
    this.name = 'SpecError';
  }
}

/** What an ajv standalone validator reports (ajv's ErrorObject, as far as we use it). */
export interface SchemaIssue {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  /** Set for errors about a property name (propertyNames). */
  propertyName?: string;
  message?: string;
}

/** The shape of the validators in src/spec/generated/validate-*.js. */
export interface SchemaValidator<T> {
  (data: unknown): data is T;
  errors?: SchemaIssue[] | null;
}

// Patterns whose raw regex would mean nothing to a user.
const PATTERN_WORDS: Readonly<Record<string, string>> = {
  '^/': 'must be an absolute path',
  '^[^=]+=': 'must be NAME=value',
  '^[1-9][0-9]*[KMG]B$': 'must be a size such as 64KB, 2MB or 1GB',
  '^[0-9, -]*$': 'must be a CPU list such as 0-3,7',
  '^MB:[^\\n]*$': 'must be a single line starting with MB:',
  '^[^\\n]*$': 'must be a single line',
  '^CAP_[A-Z_]+$': 'must be a capability name such as CAP_CHOWN',
};

// ajv says "must be integer"; a user reads "must be an integer".
const TYPE_WORDS: Readonly<Record<string, string>> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/**
 * Turns the first schema violation into a SpecError. ajv stops at the first
 * failure (allErrors is off), and composite keywords list their inner
 * failure first, which is the specific one.
 */
export function schemaError(file: string, issues: readonly SchemaIssue[] | null | undefined): SpecError {
  const e = issues?.[0];
  if (!e) return new SpecError(file, '', 'does not match the schema');
  return new SpecError(file, e.instancePath, issueDetail(e));
}

function issueDetail(e: SchemaIssue): string {
  const p = e.params;
  let detail: string;
  switch (e.keyword) {
    case 'enum':
      detail = `must be one of ${(p.allowedValues as unknown[]).map(String).join(', ')}`;
      break;
    case 'additionalProperties':
      detail = `must NOT have additional property '${String(p.additionalProperty)}'`;
      break;
    case 'type':
      // Union types arrive as "boolean,null".
      detail = `must be ${String(p.type)
        .split(',')
        .map((t) => TYPE_WORDS[t] ?? t)
        .join(' or ')}`;
      break;
    case 'pattern':
      detail = PATTERN_WORDS[String(p.pattern)] ?? e.message ?? `must match ${String(p.pattern)}`;
      break;
    case 'minLength':
      detail = p.limit === 1 ? 'must not be empty' : (e.message ?? 'is too short');
      break;
    default:
      detail = e.message ?? `fails ${e.keyword}`;
  }
  if (e.propertyName !== undefined) {
    return e.propertyName === '' && e.keyword === 'minLength' ? 'must not have an empty key' : `key ${JSON.stringify(e.propertyName)}: ${detail}`;
  }
  return detail;
}
