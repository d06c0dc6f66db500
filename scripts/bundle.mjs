#!/usr/bin/env node
// Bundles the CLI into one file (dist/hako.mjs) so a command loads one
// module instead of dozens, and writes bin/hako, which names its engine by
// absolute path: podman calls some commands with no PATH at all.
import { build } from 'esbuild';
import { chmodSync, mkdirSync, writeFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const engine = realpathSync(process.env.HAKO_ENGINE || process.execPath);

let commit = process.env.HAKO_COMMIT || '';
if (!commit) {
  try {
    commit = execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (dirty) commit += '-dirty';
  } catch {
    commit = 'unknown';
  }
}
const pkg = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(join(root, 'package.json'), 'utf8')));

await build({
  entryPoints: [join(root, 'src/cli/main.ts')],
  outfile: join(root, 'dist/hako.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  splitting: false,
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  define: {
    'process.env.HAKO_VERSION': JSON.stringify(pkg.version),
    'process.env.HAKO_COMMIT': JSON.stringify(commit),
  },
  // The addon is loaded at run time from build/Release, never bundled.
  external: ['*.node'],
  logLevel: 'warning',
});

mkdirSync(join(root, 'bin'), { recursive: true });
const bin = join(root, 'bin/hako');
writeFileSync(bin, `#!${engine}\nimport '../dist/hako.mjs';\n`);
chmodSync(bin, 0o755);
