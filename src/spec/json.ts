// JSON parsing with errors a user can act on. V8's own messages do not
// always give a position (`Unexpected token '}', "..." is not valid JSON`),
// so on failure the text is scanned again to find line and column.

import { SpecError, pointerToken } from './spec-error.js';

/** How deep a document may nest: far beyond any OCI document, far below what the engines' recursive JSON code survives. */
export const MAX_DEPTH = 1000;

/**
 * JSON.parse, throwing a SpecError `<file>: invalid JSON at line L, column
 * C: <reason>`. Refused too: nesting deeper than MAX_DEPTH (the engines'
 * parsers and JSON.stringify recurse, and die of it with their own words),
 * and strings with an unpaired UTF-16 surrogate escape ("\ud800"), which
 * name no character and would reach the kernel as U+FFFD, a name other
 * than the one the file gives.
 */
export function parseJson(text: string, file: string): unknown {
  const deep = tooDeep(text, MAX_DEPTH);
  if (deep >= 0) {
    const { line, column } = lineColumn(text, deep);
    throw new SpecError(file, '', `nested deeper than ${MAX_DEPTH} levels at line ${line}, column ${column}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text) as unknown;
  } catch (e) {
    const found = locateSyntaxError(text);
    if (!found) throw new SpecError(file, '', `invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
    const { line, column } = lineColumn(text, found.offset);
    throw new SpecError(file, '', `invalid JSON at line ${line}, column ${column}: ${found.reason}`);
  }
  if (SURROGATE_ESCAPE.test(text)) {
    const bad = findString(doc, UNPAIRED);
    if (bad)
      throw new SpecError(
        file,
        bad.pointer,
        `${bad.key ? 'a key' : 'the string'} holds an unpaired surrogate escape (\\u${bad.unit.toString(16)}), which is no character`,
      );
  }
  // A NUL ends a C string: a path, argument or name holding one would
  // reach the kernel cut short, so no document may carry it.
  if (text.includes('\\u0000')) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this looks for
    const bad = findString(doc, /\u0000/);
    if (bad)
      throw new SpecError(file, bad.pointer, `${bad.key ? 'a key' : 'the string'} holds a NUL character (\\u0000), which no path, argument or name can carry`);
  }
  return doc;
}

/**
 * Decodes a file's bytes as UTF-8, refusing what is not (Buffer's decoder
 * would put U+FFFD in its place, so a path or an argument would silently
 * name something else). A byte-order mark is kept: JSON.parse refuses it,
 * as Go's decoder does for runc.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const at = invalidUtf8Offset(bytes);
    const what = at >= 0 ? ` at byte offset ${at} (0x${bytes[at]!.toString(16).padStart(2, '0')})` : '';
    throw new SpecError(file, '', `not valid UTF-8${what}`);
  }
}

/**
 * The offset of the first byte that starts no well-formed UTF-8 sequence
 * (Unicode 15, table 3-7: no overlong forms, no surrogates, nothing above
 * U+10FFFF), or -1.
 */
export function invalidUtf8Offset(b: Uint8Array): number {
  const cont = (i: number, lo = 0x80, hi = 0xbf) => i < b.length && b[i]! >= lo && b[i]! <= hi;
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) i++;
    else if (c >= 0xc2 && c <= 0xdf && cont(i + 1)) i += 2;
    else if (c === 0xe0 && cont(i + 1, 0xa0) && cont(i + 2)) i += 3;
    else if (((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) && cont(i + 1) && cont(i + 2)) i += 3;
    else if (c === 0xed && cont(i + 1, 0x80, 0x9f) && cont(i + 2)) i += 3;
    else if (c === 0xf0 && cont(i + 1, 0x90) && cont(i + 2) && cont(i + 3)) i += 4;
    else if (c >= 0xf1 && c <= 0xf3 && cont(i + 1) && cont(i + 2) && cont(i + 3)) i += 4;
    else if (c === 0xf4 && cont(i + 1, 0x80, 0x8f) && cont(i + 2) && cont(i + 3)) i += 4;
    else return i;
  }
  return -1;
}

/** The offset of the first '[' or '{' that opens level max+1, or -1. Strings are skipped. */
export function tooDeep(text: string, max: number): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: to its closing quote, over escapes.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

// A \u escape of a UTF-16 surrogate somewhere in the text: only then is the
// parsed document searched for an unpaired one.
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const UNPAIRED = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first key or string value matching `re`, depth first, without recursion. */
function findString(doc: unknown, re: RegExp): { pointer: string; key: boolean; unit: number } | undefined {
  const stack: Array<{ v: unknown; at: string }> = [{ v: doc, at: '' }];
  const unit = (s: string) => s.charCodeAt(re.exec(s)!.index);
  while (stack.length) {
    const { v, at } = stack.pop()!;
    if (typeof v === 'string') {
      if (re.test(v)) return { pointer: at, key: false, unit: unit(v) };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], at: `${at}/${i}` });
    } else if (v && typeof v === 'object') {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i]!;
        const p = `${at}/${pointerToken(k)}`;
        if (re.test(k)) return { pointer: p, key: true, unit: unit(k) };
        stack.push({ v: (v as Record<string, unknown>)[k], at: p });
      }
    }
  }
  return undefined;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

class Bad {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * The offset and cause of the first syntax error in `text` (RFC 8259), or
 * undefined if the scanner finds none (then the caller falls back to V8's
 * message; that happens only for nesting too deep for this recursive scan).
 */
export function locateSyntaxError(text: string): { offset: number; reason: string } | undefined {
  let i = 0;
  const found = (): string => {
    if (i >= text.length) return 'end of input';
    const c = text.charCodeAt(i);
    // A byte-order mark or control character would print as nothing.
    return c >= 0x20 && c < 0x7f ? JSON.stringify(text[i]) : `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  };
  const fail = (reason: string): never => {
    throw new Bad(i, reason);
  };
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const literal = (word: string): void => {
    if (!text.startsWith(word, i)) fail(`unexpected ${found()}`);
    i += word.length;
  };
  const string = (): void => {
    i++; // opening quote
    for (;;) {
      const c = text[i];
      if (c === undefined) fail('unterminated string');
      else if (c === '"') {
        i++;
        return;
      } else if (c === '\\') {
        const n = text[i + 1];
        if (n !== undefined && '"\\/bfnrt'.includes(n)) i += 2;
        else if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else fail('invalid escape sequence in string');
      } else if (c < ' ') fail('control character in string (newlines must be written \\n)');
      else i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') object();
    else if (c === '[') array();
    else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) fail(`invalid number`);
      i = NUMBER.lastIndex;
    } else fail(`expected a value, found ${found()}`);
  };
  const object = (): void => {
    i++;
    ws();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      ws();
      if (text[i] !== '"') fail(`expected a property name in double quotes, found ${found()}`);
      string();
      ws();
      if (text[i] !== ':') fail(`expected ':' after the property name, found ${found()}`);
      i++;
      value();
      ws();
      if (text[i] === ',') i++;
      else if (text[i] === '}') {
        i++;
        return;
      } else fail(`expected ',' or '}', found ${found()}`);
    }
  };
  const array = (): void => {
    i++;
    ws();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      value();
      ws();
      if (text[i] === ',') i++;
      else if (text[i] === ']') {
        i++;
        return;
      } else fail(`expected ',' or ']', found ${found()}`);
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${found()} after the end of the document`);
    return undefined;
  } catch (e) {
    if (e instanceof Bad) return { offset: e.offset, reason: e.reason };
    return undefined; // RangeError: nesting deeper than the stack
  }
}
