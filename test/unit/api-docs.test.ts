// The library's API reference (`make docs`) is complete: TypeDoc, run on
// src/index.ts with docs/api/typedoc.json, finds every exported symbol and
// its members documented, every type it names exported or listed there as
// intentionally not, and every {@link} resolvable. Any warning fails.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO } from '../helpers.js';

test('TypeDoc documents the package entry point without a warning', () => {
  const typedoc = path.join(REPO, 'node_modules/typedoc/bin/typedoc');
  // --emit none: only the checks, nothing written.
  const r = spawnSync(process.execPath, [typedoc, '--options', 'docs/api/typedoc.json', '--treatWarningsAsErrors', '--emit', 'none'], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  if (r.error) throw r.error;
  assert.is(r.status, 0, `typedoc exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
});

test.run();
