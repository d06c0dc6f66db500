#!/usr/bin/env node
// Bundles the CLI (dist/hako.mjs, with the parts only some commands need in
// dist/chunks/, loaded by their dynamic imports) and makes bin/hako from it:
// a single executable, or a script naming its engine by absolute path
// (podman calls some commands with no PATH at all).
import { build } from 'esbuild';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

let commit = process.env.HAKO_COMMIT || '';
if (!commit) {
  try {
    commit = execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (dirty) commit += '-dirty';
  } catch {
    commit = 'unknown';
  }
}
const pkg = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(join(root, 'package.json'), 'utf8')));

// Split at main.ts's dynamic imports: every command pays for loading what it
// loads, and `state`, `start`, `kill` or `delete` need neither the
// config.json validator (a third of the code) nor seccomp, the plan or the
// systemd driver. Measured on the compiled form: about 2 ms less per command
// than one module (bench/README.md). Old chunks go first (their names carry
// hashes).
rmSync(join(root, 'dist'), { recursive: true, force: true });
await build({
  entryPoints: { hako: join(root, 'src/cli/main.ts') },
  outdir: join(root, 'dist'),
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  splitting: true,
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  define: {
    'process.env.HAKO_VERSION': JSON.stringify(pkg.version),
    'process.env.HAKO_COMMIT': JSON.stringify(commit),
    // Where the addon and the launcher are (src/native.ts).
    __HAKO_RELEASE_DIR__: JSON.stringify(join(root, 'build/Release')),
  },
  // The addon is loaded at run time from build/Release, never bundled.
  external: ['*.node'],
  logLevel: 'warning',
});

// bin/hako. By default a single executable made by `bun build --compile`
// with the code as precompiled bytecode: the engine's start-up and the
// parsing of our code are most of a command's time (bench/README.md), and
// this form starts in a fraction of either script form. HAKO_ENGINE=node
// (or a path to a node binary, or to bun) makes bin/hako a script naming
// that engine instead, to compare them or where no bun package exists for
// the machine. The compiled form finds the addon and the launcher in this
// checkout's build/Release (src/native.ts).
mkdirSync(join(root, 'bin'), { recursive: true });
const bin = join(root, 'bin/hako');
const wanted = process.env.HAKO_ENGINE || 'bun-compile';
// Bun comes from tools/bun (its own manifest: the hako-runtime package
// does not depend on it).
const bunPkg = join(root, 'tools/bun/node_modules/@oven', `bun-linux-${process.arch === 'arm64' ? 'aarch64' : 'x64'}`, 'bin/bun');

if (wanted === 'bun-compile' && existsSync(bunPkg)) {
  // Written next to bin/hako and renamed over it: a running container's
  // hako (foreground run) keeps its old executable.
  const tmp = `${bin}.${process.pid}.tmp`;
  // --splitting keeps the chunks separate modules inside the executable.
  // The autoload flags: a Bun executable otherwise reads .env and
  // bunfig.toml from its working directory (the bundle, under containerd's
  // shim) at start, and either could set HAKO_ADDON or preload a script:
  // code run as root, chosen by whoever writes that directory.
  const noAutoload = ['--no-compile-autoload-dotenv', '--no-compile-autoload-bunfig', '--no-compile-autoload-tsconfig', '--no-compile-autoload-package-json'];
  // --compile-jit-policy: JavaScriptCore's tier-up thresholds times 1000.
  // A hako command runs each function a few times and exits; compiling the
  // busier ones (the argument parser, Bun's node:fs set-up, the validator)
  // with the baseline JIT cost more than it saved: about 1.5 ms of CPU and
  // 100 page faults per command, 7 ms per create (bench/README.md). The
  // long-lived modes (a foreground run or exec forwarding output, events)
  // spend their time in system calls, not in JavaScript. bin/hako (the
  // entry) turns the JIT off altogether (src/cli/entry.c); this is for the
  // engine started some other way.
  const jit = ['--compile-jit-policy=1000'];
  execFileSync(
    bunPkg,
    ['build', '--compile', '--bytecode', '--format=esm', '--splitting', '--target=bun', ...noAutoload, ...jit, '--outfile', tmp, join(root, 'dist/hako.mjs')],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  // The executable is bin/hako-engine; bin/hako is a small C program that
  // execs it (src/cli/entry.c): Bun refuses to start in a deleted working
  // directory, and hako must not.
  const engineBin = join(root, 'bin/hako-engine');
  renameSync(tmp, engineBin);
  buildEntry(engineBin, bin);
} else {
  if (wanted === 'bun-compile') {
    console.warn(`bundle: ${bunPkg} is missing (no bun package for ${process.platform}-${process.arch}?): bin/hako runs on ${process.execPath}`);
  }
  const engine = realpathSync(wanted === 'bun-compile' ? process.execPath : wanted === 'node' ? process.execPath : wanted === 'bun' ? bunPkg : wanted);
  const tmp = `${bin}.${process.pid}.tmp`;
  if (/(^|\/)bun[^/]*$/.test(engine)) {
    // bun as a script runner loads .env and bunfig.toml from the working
    // directory (see above); a shebang line carries one flag only.
    const q = (x) => `'${x.replace(/'/g, `'\\''`)}'`;
    writeFileSync(tmp, `#!/bin/sh\nexec ${q(engine)} --no-env-file --config=/dev/null ${q(join(root, 'dist/hako.mjs'))} "$@"\n`);
  } else {
    writeFileSync(tmp, `#!${engine}\nimport '../dist/hako.mjs';\n`);
  }
  chmodSync(tmp, 0o755);
  renameSync(tmp, bin);
}

// bin/hako from src/cli/entry.c: static, without a C library (its
// comment says why and what the flags are for).
function buildEntry(engineBin, out) {
  const tmp = `${out}.${process.pid}.tmp`;
  const flags = [
    '-O2',
    '-static',
    '-nostdlib',
    '-ffreestanding',
    '-fno-stack-protector',
    '-fno-tree-loop-distribute-patterns',
    '-fno-pie',
    '-no-pie',
    '-Wall',
    '-Wextra',
    '-Werror',
  ];
  execFileSync('cc', [...flags, `-DHAKO_ENGINE_PATH=${JSON.stringify(engineBin)}`, '-o', tmp, join(root, 'src/cli/entry.c')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  renameSync(tmp, out);
}
