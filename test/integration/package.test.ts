// hako as an npm package, as a new user gets it (issue 14): `npm pack` of
// the checkout, `npm install` of that tarball into an empty project (its
// install script builds the addon and the launcher with node-gyp: about a
// minute), then a container run through the library from TypeScript
// compiled with `strict` (and the package's .d.ts checked: skipLibCheck
// off), from plain JavaScript, and through the package's `hako` command.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Env, REPO, uniqueId } from '../helpers.js';
import { parseBlocks } from '../docs-blocks.js';

const t = suite('package');
let env: Env;
let app: string;
t.before(() => {
  env = new Env();
  app = path.join(env.dir, 'app');
});
t.after(() => env.cleanup());

const FIXTURES = path.join(REPO, 'test/fixtures/package');

/** Runs a command to its end; its output in the message when it fails. */
function sh(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, ...opts });
  if (r.error) throw r.error;
  assert.is(r.status, 0, `${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return String(r.stdout);
}

t('npm pack, then npm install of the tarball builds the addon and the launcher', () => {
  // --ignore-scripts: `make build` has just built out/ (prepack would build
  // it again, the same).
  sh('npm', ['pack', '--ignore-scripts', '--pack-destination', env.dir], { cwd: REPO });
  const tarball = readdirSync(env.dir).find((f) => /^hako-runtime-.*\.tgz$/.test(f));
  assert.ok(tarball, 'a hako-runtime tarball');
  sh('mkdir', ['-p', app]);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(env.dir, tarball!)], { cwd: app });
  const pkg = path.join(app, 'node_modules/hako-runtime');
  for (const f of ['build/Release/hako_addon.node', 'build/Release/hako-launcher', 'out/src/index.js', 'out/src/index.d.ts']) {
    assert.ok(existsSync(path.join(pkg, f)), `${f} in the installed package`);
  }
  // Nothing of the checkout's but what users need.
  for (const f of ['test', 'src', 'bundles', 'out/test']) assert.not.ok(existsSync(path.join(pkg, f)), `no ${f}/ in the package`);
  // Bun compiles the checkout's bin/hako (tools/bun); the package never uses it.
  assert.not.ok(existsSync(path.join(app, 'node_modules/@oven')), 'Bun is not installed with the package');
});

/** A bundle whose init sleeps; the programs exec in it, kill it, wait for it. */
function sleeper(): string {
  return env.bundle((c) => {
    c.process.args = ['sleep', '1000'];
    c.process.terminal = false;
  });
}

const EXPECTED = {
  out: 'from exec\n',
  execStatus: { exitCode: 5, signal: null },
  running: 'running',
  initStatus: { exitCode: null, signal: 'SIGKILL' },
  kind: 'not-found',
};

t('a TypeScript program compiled with strict runs a container through the API', () => {
  copyFileSync(path.join(FIXTURES, 'consumer.ts'), path.join(app, 'consumer.ts'));
  // Node's types come from the checkout's @types/node, as a user's own.
  const tsconfig = JSON.parse(readFileSync(path.join(FIXTURES, 'tsconfig.json'), 'utf8'));
  tsconfig.compilerOptions.typeRoots = [path.join(REPO, 'node_modules/@types')];
  writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify(tsconfig));
  sh(path.join(REPO, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: app });
  const out = sh('node', ['consumer.js', env.root, sleeper(), uniqueId('pkg-ts')], { cwd: app });
  assert.equal(JSON.parse(out), EXPECTED);
});

t('a JavaScript program runs a container through the API', () => {
  copyFileSync(path.join(FIXTURES, 'consumer.mjs'), path.join(app, 'consumer.mjs'));
  const out = sh('node', ['consumer.mjs', env.root, sleeper(), uniqueId('pkg-js')], { cwd: app });
  assert.equal(JSON.parse(out), EXPECTED);
});

/** README's library examples (run and wait; exec with output captured; stats and events; update): the ```ts blocks it says this test runs. */
function readmeExamples(): string[] {
  const blocks = parseBlocks('README.md', readFileSync(path.join(REPO, 'README.md'), 'utf8'));
  return blocks.filter((b) => b.lang === 'ts' && b.action.kind === 'skip' && b.action.reason.includes('package.test.ts')).map((b) => b.body);
}

t("README's library examples compile with strict and run", () => {
  const examples = readmeExamples();
  assert.is(examples.length, 4);
  const exitBundle = env.bundle((c) => {
    c.process.args = ['true'];
    c.process.terminal = false;
  });
  // Their paths, made this test's own.
  const local = (src: string) =>
    src
      .replaceAll("'/run/hako'", JSON.stringify(env.root))
      .replaceAll("'/srv/bundle'", JSON.stringify(exitBundle))
      .replaceAll("'/srv/sleeper'", JSON.stringify(sleeper()));
  const files = examples.map((src, i) => {
    writeFileSync(path.join(app, `example${i + 1}.ts`), local(src));
    return `example${i + 1}.ts`;
  });
  const tsconfig = JSON.parse(readFileSync(path.join(FIXTURES, 'tsconfig.json'), 'utf8'));
  tsconfig.compilerOptions.typeRoots = [path.join(REPO, 'node_modules/@types')];
  tsconfig.files = files;
  writeFileSync(path.join(app, 'tsconfig.examples.json'), JSON.stringify(tsconfig));
  sh(path.join(REPO, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.examples.json'], { cwd: app });
  // console.log's objects without colour, whatever uvu's environment says.
  const plain: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete plain.FORCE_COLOR;
  assert.is(sh('node', ['example1.js'], { cwd: app, env: plain }), 'job1 ended: { exitCode: 0, signal: null }\n');
  assert.match(sh('node', ['example2.js'], { cwd: app, env: plain }), /out: '[^']+\\n',\s+err: '',\s+status: \{ exitCode: 0, signal: null \}/);
  // stats, then events until the first stats event aborts the stream.
  assert.match(sh('node', ['example3.js'], { cwd: app, env: plain }), /^processes: 1\nmemory in use: [1-9]\d* bytes\n$/);
  // update, read back through stats.
  assert.is(sh('node', ['example4.js'], { cwd: app, env: plain }), 'limits: 268435456 64\n');
});

t("the package's hako command runs a container", () => {
  const bin = path.join(app, 'node_modules/.bin/hako');
  const version = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version;
  assert.match(sh(bin, ['--version']), new RegExp(`^hako version ${version.replace(/\./g, '\\.')}\n`));
  const b = env.bundle((c) => {
    c.process.args = ['echo', 'hi from the package'];
    c.process.terminal = false;
  });
  assert.is(sh(bin, ['--root', env.root, 'run', '--bundle', b, uniqueId('pkg-bin')]), 'hi from the package\n');
});

t.run();
