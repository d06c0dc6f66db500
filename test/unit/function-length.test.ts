// Every function in src/ fits on a screen or two: none is over 100 lines
// (the preamble's rule). Long ones are split by section; this lists any that
// grows back, by file, line and length.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO } from '../helpers.js';

const MAX_LINES = 100;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** "file:line name (n lines)" for each function, method, accessor or arrow function with a body over `max` lines. */
function longFunctions(file: string, text: string, max = MAX_LINES): string[] {
  const src = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const long: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const first = src.getLineAndCharacterOfPosition(node.getStart(src)).line;
      const last = src.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : '(anonymous)';
      if (lines > max) long.push(`${path.relative(REPO, file)}:${first + 1} ${name} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  return long;
}

test('the check sees functions, methods and arrow functions', () => {
  const body = (n: number) => Array.from({ length: n }, () => '  x();').join('\n');
  const text = [
    `function f() {\n${body(99)}\n}`,
    `class C {\n  m() {\n${body(99)}\n  }\n}`,
    `const a = () => {\n${body(99)}\n};`,
    `function short() {\n${body(98)}\n}`,
  ].join('\n');
  const found = longFunctions(path.join(REPO, 'x.ts'), text);
  assert.equal(found, ['x.ts:1 f (101 lines)', 'x.ts:103 m (101 lines)', 'x.ts:205 (anonymous) (101 lines)']);
});

test(`no function in src/ is over ${MAX_LINES} lines`, () => {
  const long = tsFiles(path.join(REPO, 'src')).flatMap((f) => longFunctions(f, readFileSync(f, 'utf8')));
  assert.equal(long, []);
});

test.run();
