// The marker rules of test/docs-blocks.ts (docs/README.md), and that every
// block of README.md and docs/*.md follows them: a block nobody marked
// cannot slip out of test/clients/docs.test.ts unnoticed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../helpers.js';
import { failureOf, parseBlocks, runnerScript } from '../docs-blocks.js';

const fence = '```';

test('sh runs, no language is output, markers skip or write a file', () => {
  const md = [
    'text',
    `${fence}sh`,
    'echo one',
    fence,
    '<!-- not run: needs a terminal -->',
    `${fence}sh`,
    'docker run -it busybox sh',
    fence,
    `${fence}`,
    'Error: output',
    fence,
    '<!-- file: /etc/x.toml -->',
    `${fence}toml`,
    'a = 1',
    fence,
  ].join('\n');
  const b = parseBlocks('d.md', md);
  assert.equal(
    b.map((x) => [x.line, x.lang, x.action]),
    [
      [3, 'sh', { kind: 'run' }],
      [7, 'sh', { kind: 'skip', reason: 'needs a terminal' }],
      [10, '', { kind: 'output' }],
      [14, 'toml', { kind: 'file', path: '/etc/x.toml' }],
    ],
  );
  assert.is(b[0]!.body, 'echo one\n');
});

test('an unmarked block of another language, a marker without reason, a stray marker: one line naming file:line', () => {
  assert.throws(
    () => parseBlocks('d.md', `x\n${fence}yaml\nkind: Pod\n${fence}\n`),
    /^d\.md:2: a ```yaml block needs <!-- file: PATH --> or <!-- not run: REASON -->/,
  );
  assert.throws(() => parseBlocks('d.md', `<!-- not run: -->\n${fence}sh\nx\n${fence}\n`), /d\.md:1: "not run:" needs a reason/);
  assert.throws(() => parseBlocks('d.md', `<!-- file: etc/x -->\n${fence}toml\nx\n${fence}\n`), /d\.md:1: file: etc\/x: not an absolute path/);
  assert.throws(() => parseBlocks('d.md', `<!-- not run: why -->\n\n${fence}sh\nx\n${fence}\n`), /d\.md:1: a marker must be on the line just before/);
  assert.throws(() => parseBlocks('d.md', `${fence}sh\nx\n`), /d\.md:1: block not closed/);
});

test('the runner: a subshell per file, files written, failures mapped back to file:line', () => {
  const a = parseBlocks(
    'a.md',
    `${fence}sh\nX=1\n${fence}\n<!-- file: /tmp/never -->\n${fence}toml\nk = 1\n${fence}\n${fence}sh\necho "$X"\nfalse\necho not reached\n${fence}\n`,
  );
  const s = runnerScript([{ file: 'a.md', blocks: a }], '/');
  assert.match(s.text, /cat >'\/tmp\/never' <<'HAKO_DOCS_EOF'\nk = 1\nHAKO_DOCS_EOF\n/);
  // Run it, without the file block (no writes here): X carries over, false stops it.
  const noFile = runnerScript([{ file: 'a.md', blocks: a.filter((b) => b.action.kind === 'run') }], '/');
  const r = spawnSync('bash', ['-c', noFile.text], { encoding: 'utf8' });
  assert.is(r.status, 1);
  assert.match(r.stdout, /^1\n/);
  assert.not.match(r.stdout, /not reached/);
  const f = failureOf(r.stdout, noFile);
  assert.equal(f, { origin: { file: 'a.md', line: 10 }, status: 1, command: 'false' });
});

test('every block of README.md and docs/*.md is sh, output, or marked', () => {
  const files = [
    'README.md',
    ...readdirSync(path.join(REPO, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  let run = 0;
  for (const f of files) run += parseBlocks(f, readFileSync(path.join(REPO, f), 'utf8')).filter((b) => b.action.kind === 'run').length;
  assert.ok(run >= 10, `${run} runnable blocks`);
});

test.run();
