#!/usr/bin/env node
// The `hako` command of the npm package (package.json "bin"): the CLI on
// the Node that runs npm. A checkout's `make build` makes bin/hako instead,
// a Bun single executable that starts faster (README, "Install").
import { readFileSync } from 'node:fs';

// What the bundle's build writes into bin/hako (scripts/bundle.mjs).
process.env.HAKO_VERSION ??= JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
await import('../out/src/cli/main.js');
