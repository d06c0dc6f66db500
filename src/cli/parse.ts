// The flag parser: flag definitions in, typed options out. It reproduces
// urfave/cli v1 on top of Go's `flag` package, as runc uses them (the
// rules are listed in args.ts); nothing here knows about hako's commands.
// Pure: nothing is printed, nothing exits; problems are UsageErrors.
import { goQuote, parseGoBool, parseGoDuration, parseGoInt } from './go-values.js';
import type { GlobalOptions } from './global-flags.js';

/** Which of runc's error paths a UsageError corresponds to; help.ts uses it
 * to reproduce what runc prints on stdout before exiting. */
export type UsageErrorKind =
  /** bad global flag: runc prints "Incorrect Usage. <msg>" and the app help */
  | 'global-flag'
  /** an alias used with its long form among the global flags: runc prints
   * "<msg>" and the app help */
  | 'global-conflict'
  /** bad command flag: "Incorrect Usage: <msg>" and the command's help */
  | 'flag'
  /** wrong number of arguments: "Incorrect Usage." and the command's help */
  | 'arity'
  /** no such command: only the message, exit status 3 */
  | 'unknown-command'
  /** a value that parses but is not acceptable: only the message */
  | 'value';

export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly kind: UsageErrorKind = 'value',
    /** The command whose help goes with this error (kinds 'flag', 'arity'). */
    readonly command?: string,
    /** runc exits 3 for an unknown command and 1 for everything else. */
    readonly exitCode: number = 1,
  ) {
    super(message);
  }

  /** The global flags, once they parsed: how to log this error. */
  global?: GlobalOptions;
}

// ---------------------------------------------------------------------------
// The declarative table.

export type FlagType = 'bool' | 'string' | 'int' | 'stringArray' | 'intArray' | 'duration';

export interface FlagSpec {
  /** Long name, without dashes. Also the basis of the option key (camelCase). */
  readonly name: string;
  /** Other names, in runc's order; one-letter names print as `-x`. */
  readonly aliases?: readonly string[];
  /**
   * bool: no value. string: any string. int: Go ParseInt base 0 (`10`,
   * `0x1f`, `0o17`, `017`, `1_000`), int64 range, and here additionally a
   * JS safe integer. intArray: repeatable, each a base-10 int64 (urfave's
   * Int64Slice). stringArray: repeatable. duration: Go duration syntax
   * (`5s`, `1m30s`, `250ms`), stored as milliseconds.
   */
  readonly type: FlagType;
  /** Value when the flag is absent; defaults to false / '' / 0 / [] by type. */
  readonly default?: boolean | string | number;
  /** Absent means `undefined` rather than a default: for flags whose mere
   * presence matters (runc uses context.IsSet for them). */
  readonly optional?: boolean;
  readonly help: string;
  /** Accepted but not listed in help (runc's obsolete flags). */
  readonly hidden?: boolean;
}

/** Argument count rules, checked in this order, each with runc's message. */
export interface Arity {
  readonly exact?: number;
  readonly min?: number;
  readonly max?: number;
}

/** A command as the parser and the help text see it. */
export interface CommandSpec {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** One line, shown in the command list. */
  readonly usage: string;
  /** Text after "[command options]" in the USAGE section. */
  readonly argsUsage: string;
  readonly description?: string;
  readonly flags: readonly FlagSpec[];
  readonly arity: Arity;
  /** Flags are only recognised before the first positional argument. */
  readonly skipArgReorder?: boolean;
  /** No flags at all (not even --help): everything is positional. */
  readonly skipFlagParsing?: boolean;
  /** Not listed in help and not a help topic (internal commands). */
  readonly hidden?: boolean;
}

/** Identity, for `as const`-like inference of a flag definition. */
export const f = <const T extends FlagSpec>(spec: T): T => spec;

/** The flags of a command that has none. */
export const NO_FLAGS = [] as const satisfies readonly FlagSpec[];

/** The options of a command that has no flags. */
export type NoOptions = Record<string, never>;

/** camelCase key of a flag in the option objects: 'pid-file' -> 'pidFile'. */
export function optionKey(flagName: string): string {
  return flagName.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

// ---------------------------------------------------------------------------
// Typed option objects: each command spells out an interface for its flags
// (for readability) and checks it against its table with these.

export type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
export type ValueOf<T extends FlagType> = T extends 'bool'
  ? boolean
  : T extends 'string'
    ? string
    : T extends 'int' | 'duration'
      ? number
      : T extends 'stringArray'
        ? string[]
        : T extends 'intArray'
          ? number[]
          : never;
export type OptionsOf<F extends readonly FlagSpec[]> = {
  [S in F[number] as Camel<S['name']>]: S extends { readonly optional: true } ? ValueOf<S['type']> | undefined : ValueOf<S['type']>;
};
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export type Assert<T extends true> = T;
export type Flat<T> = { [K in keyof T]: T[K] };

// ---------------------------------------------------------------------------
// The parser.

export type Value = boolean | string | number | string[] | number[];

export interface FlagSetState {
  values: Map<FlagSpec, Value>;
  /** Names that were set, per flag, in the order they were first seen. */
  visited: Map<FlagSpec, Set<string>>;
  rest: string[];
  error?: string;
}

function namesOf(spec: FlagSpec): string[] {
  return [spec.name, ...(spec.aliases ?? [])];
}

function lookupTable(specs: readonly FlagSpec[]): Map<string, FlagSpec> {
  const m = new Map<string, FlagSpec>();
  for (const s of specs) for (const n of namesOf(s)) m.set(n, s);
  return m;
}

/** Go's flag.FlagSet.Parse: flags up to the first non-flag or "--". */
export function goFlagParse(specs: readonly FlagSpec[], argv: readonly string[]): FlagSetState {
  const lookup = lookupTable(specs);
  const st: FlagSetState = { values: new Map(), visited: new Map(), rest: [] };
  const args = [...argv];
  const fail = (msg: string): FlagSetState => ({ ...st, rest: args, error: msg });
  while (args.length > 0) {
    const s = args[0]!;
    if (s.length < 2 || s[0] !== '-') break;
    let minuses = 1;
    if (s[1] === '-') {
      minuses = 2;
      if (s.length === 2) {
        args.shift();
        break;
      }
    }
    let name = s.slice(minuses);
    if (name.length === 0 || name[0] === '-' || name[0] === '=') return fail(`bad flag syntax: ${s}`);
    args.shift();
    let hasValue = false;
    let value = '';
    const eq = name.indexOf('=', 1);
    if (eq > 0) {
      value = name.slice(eq + 1);
      hasValue = true;
      name = name.slice(0, eq);
    }
    const spec = lookup.get(name);
    if (spec === undefined) return fail(`flag provided but not defined: -${name}`);
    if (spec.type === 'bool') {
      if (hasValue) {
        const b = parseGoBool(value);
        if (b === undefined) return fail(`invalid boolean value ${goQuote(value)} for -${name}: parse error`);
        st.values.set(spec, b);
      } else {
        st.values.set(spec, true);
      }
    } else {
      if (!hasValue && args.length > 0) {
        value = args.shift()!;
        hasValue = true;
      }
      if (!hasValue) return fail(`flag needs an argument: -${name}`);
      const problem = setValue(st, spec, value);
      if (problem !== undefined) return fail(`invalid value ${goQuote(value)} for flag -${name}: ${problem}`);
    }
    let seen = st.visited.get(spec);
    if (seen === undefined) st.visited.set(spec, (seen = new Set()));
    seen.add(name);
  }
  st.rest = args;
  return st;
}

/** Stores a non-bool value; returns Go's reason text when it is invalid. */
function setValue(st: FlagSetState, spec: FlagSpec, value: string): string | undefined {
  switch (spec.type) {
    case 'string':
      st.values.set(spec, value);
      return undefined;
    case 'stringArray': {
      const prev = (st.values.get(spec) as string[] | undefined) ?? [];
      st.values.set(spec, [...prev, value]);
      return undefined;
    }
    case 'int': {
      const n = parseGoInt(value, 0);
      if (n === 'syntax') return 'parse error';
      // Beyond 2^53 a JS number would silently change the value.
      if (n === 'range' || n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
        return 'value out of range';
      }
      st.values.set(spec, Number(n));
      return undefined;
    }
    case 'intArray': {
      // urfave's Int64Slice returns the strconv error itself.
      const n = parseGoInt(value, 10);
      if (n === 'syntax') return `strconv.ParseInt: parsing ${goQuote(value)}: invalid syntax`;
      if (n === 'range' || n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
        return `strconv.ParseInt: parsing ${goQuote(value)}: value out of range`;
      }
      const prev = (st.values.get(spec) as number[] | undefined) ?? [];
      st.values.set(spec, [...prev, Number(n)]);
      return undefined;
    }
    case 'duration': {
      const d = parseGoDuration(value);
      if (d === undefined) return 'parse error';
      st.values.set(spec, d);
      return undefined;
    }
    case 'bool':
      throw new Error('unreachable: bool flags take no separate value');
  }
}

/** urfave's normalizeFlags: a flag may be given under one of its names only. */
export function aliasConflict(specs: readonly FlagSpec[], st: FlagSetState): string | undefined {
  for (const spec of specs) {
    const seen = st.visited.get(spec);
    if (seen === undefined || seen.size < 2) continue;
    const used = namesOf(spec).filter((n) => seen.has(n));
    return `Cannot use two forms of the same flag: ${used[1]} ${used[0]}`;
  }
  return undefined;
}

/** urfave v1.22.9's argIsFlag: does arg name one of the defined flags? */
function argIsFlag(lookup: Map<string, FlagSpec>, arg: string): boolean {
  if (arg === '-' || arg === '--' || !arg.startsWith('-')) return false;
  // Same string surgery as urfave: drop the first two dashes of "--x", or
  // the first dash of "-x", then anything from "=".
  let a = arg;
  if (a.startsWith('--')) a = a.replace('-', '').replace('-', '');
  if (a.startsWith('-')) a = a.replace('-', '');
  a = a.split('=')[0]!;
  return lookup.has(a);
}

/** urfave v1.22.9's reorderArgs: defined flags (with their possible value)
 * first, the rest after, "--" and what follows it last. */
export function reorderArgs(specs: readonly FlagSpec[], args: readonly string[]): string[] {
  const lookup = lookupTable(specs);
  const reordered: string[] = [];
  let remaining: string[] = [];
  let mayBeValue = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (mayBeValue && !argIsFlag(lookup, arg)) {
      mayBeValue = false;
      reordered.push(arg);
    } else if (arg === '--') {
      remaining = ['--', ...remaining, ...args.slice(i + 1)];
      break;
    } else if (argIsFlag(lookup, arg)) {
      reordered.push(arg);
      mayBeValue = !arg.includes('=');
    } else {
      remaining.push(arg);
    }
  }
  return [...reordered, ...remaining];
}

function defaultValue(spec: FlagSpec): Value | undefined {
  if (spec.optional) return undefined;
  if (spec.default !== undefined) return spec.default;
  switch (spec.type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'int':
    case 'duration':
      return 0;
    case 'stringArray':
    case 'intArray':
      return [];
  }
}

export function buildOptions(specs: readonly FlagSpec[], st: FlagSetState | undefined): { options: Record<string, Value | undefined>; explicit: Set<string> } {
  const options: Record<string, Value | undefined> = {};
  const explicit = new Set<string>();
  for (const spec of specs) {
    const key = optionKey(spec.name);
    const v = st?.values.get(spec);
    // Arrays are copied so callers can never mutate shared defaults.
    const d = defaultValue(spec);
    options[key] = v !== undefined ? v : Array.isArray(d) ? ([...d] as Value) : d;
    if (st?.visited.has(spec)) explicit.add(key);
  }
  return { options, explicit };
}

export function checkArity(cmd: CommandSpec, n: number, prog: string): void {
  const { exact, min, max } = cmd.arity;
  let msg: string | undefined;
  if (exact !== undefined && n !== exact) msg = `requires exactly ${exact} argument(s)`;
  else if (min !== undefined && n < min) msg = `requires a minimum of ${min} argument(s)`;
  else if (max !== undefined && n > max) msg = `requires a maximum of ${max} argument(s)`;
  // runc's wording, including os.Args[0] as prefix.
  if (msg !== undefined) throw new UsageError(`${prog}: "${cmd.name}" ${msg}`, 'arity', cmd.name);
}
