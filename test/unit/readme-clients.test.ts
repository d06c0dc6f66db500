// The README's client snippets are the ones docs/*.md show, and those are
// checked against what the client suites run (podman-docs.test.ts, and the
// containerd and Docker suites read their docs): so the README cannot drift
// from what is tested.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../helpers.js';

const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
const docs = ['podman.md', 'containerd.md', 'docker.md'].map((f) => readFileSync(path.join(REPO, 'docs', f), 'utf8')).join('\n');

function section(text: string, heading: string): string {
  const start = text.indexOf(`\n## ${heading}`);
  assert.ok(start >= 0, `README has a "${heading}" section`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
}

test("every snippet of the README's client section is in docs/, verbatim", () => {
  const s = section(readme, 'With podman, containerd, Kubernetes, CRI-O and Docker');
  const blocks = [...s.matchAll(/```\w*\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.ok(blocks.length >= 7, `found ${blocks.length} snippets`);
  for (const b of blocks) {
    // A snippet may be part of a longer one in docs/ (the RuntimeClass comes
    // with a Pod there): a substring is enough.
    assert.ok(docs.includes(b), `README snippet not found verbatim in docs/:\n${b}`);
  }
});

test.run();
