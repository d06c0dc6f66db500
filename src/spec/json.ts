// JSON parsing with errors a user can act on. V8's own messages do not
// always give a position (`Unexpected token '}', "..." is not valid JSON`),
// so on failure the text is scanned again to find line and column.

import { SpecError } from './errors.js';

/** JSON.parse, throwing a SpecError `<file>: invalid JSON at line L, column C: <reason>`. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const found = locateSyntaxError(text);
    if (!found) throw new SpecError(file, '', `invalid JSON: ${e instanceof Error ? e.message : String(e)}`);
    const { line, column } = lineColumn(text, found.offset);
    throw new SpecError(file, '', `invalid JSON at line ${line}, column ${column}: ${found.reason}`);
  }
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
