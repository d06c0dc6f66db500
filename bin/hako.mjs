#!/usr/bin/env node
// The `hako` command of the npm package (package.json "bin"): the CLI on
// the Node that runs npm. A checkout's `make build` makes bin/hako instead,
// a Bun single executable that starts faster (README, "Install").
import '../out/src/cli/main.js';
