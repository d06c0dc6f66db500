// docs/podman.md shows the exact configuration the podman suite runs with.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO } from '../helpers.js';
import { containersConf, storageConf } from '../clients/podman-env.js';

const doc = readFileSync(path.join(REPO, 'docs/podman.md'), 'utf8');
const DIR = '/tmp/hako-podman-XXXXXX';
const HAKO = '/usr/local/bin/hako';

test("docs/podman.md has the suite's containers.conf, verbatim", () => {
  assert.ok(doc.includes('```toml\n' + containersConf(DIR, HAKO) + '```\n'), 'containers.conf in docs/podman.md differs from test/clients/podman-env.ts');
});

test("docs/podman.md has the suite's storage.conf, verbatim", () => {
  assert.ok(doc.includes('```toml\n' + storageConf(DIR) + '```\n'), 'storage.conf in docs/podman.md differs from test/clients/podman-env.ts');
});

test.run();
