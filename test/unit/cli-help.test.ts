// Help, usage-error and version text (src/cli/help.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COMMANDS, UsageError, parseArgs } from '../../src/cli/args.js';
import { appHelp, commandHelp, flagLabel, flagUsage, helpFor, usageErrorText, versionText } from '../../src/cli/help.js';

const usageError = (argv: string[]): UsageError => {
  try {
    parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
};

test('app help lists visible commands and global options, says hako', () => {
  const h = appHelp();
  assert.match(h, /^NAME:\n {3}hako - Open Container Initiative runtime\n/);
  assert.match(h, /\nUSAGE:\n {3}hako \[global options\] command \[command options\] \[arguments\.\.\.\]\n/);
  assert.match(h, /\nCOMMANDS:\n/);
  for (const c of COMMANDS) {
    if (c.hidden) {
      assert.not.match(h, new RegExp(`\\n {3}${c.name} `), c.name);
    } else {
      assert.ok(h.includes(`\n   ${[c.name, ...(c.aliases ?? [])].join(', ')}  `), c.name);
    }
  }
  assert.ok(h.includes('\n   help, h     Shows a list of commands or help for one command\n'));
  assert.match(h, /\nGLOBAL OPTIONS:\n/);
  assert.ok(h.includes('   --debug             enable debug logging\n'));
  assert.ok(h.includes("   --log-format value  set the log format ('text' (default), or 'json') (default: \"text\")\n"));
  assert.ok(h.includes('(default: "/run/hako")'));
  assert.ok(h.includes('   --help, -h          show help\n'));
  assert.ok(h.includes('   --version, -v       print the version\n'));
  assert.not.match(h, /\brunc (run|spec|list)\b/, 'no runc command examples');
  assert.not.match(h, /VERSION:/);
  assert.ok(h.endsWith('\n'));
  assert.not.match(h, / +\n/, 'no trailing spaces');
});

test('app help options', () => {
  const h = appHelp({ prog: 'runc-compat', version: '0.1.0\nspec: 1.0.2', defaultRoot: '/run/user/1000/hako' });
  assert.match(h, /^NAME:\n {3}runc-compat - /);
  assert.ok(h.includes('\nVERSION:\n   0.1.0\nspec: 1.0.2\n'));
  assert.ok(h.includes('(default: "/run/user/1000/hako")'));
});

test('command help: layout like runc', () => {
  const h = commandHelp('create');
  assert.ok(h.startsWith('NAME:\n   hako create - create a container\n\nUSAGE:\n   hako create [command options] <container-id>\n'));
  assert.ok(h.includes('\nDESCRIPTION:\n   The create command creates an instance of a container for a bundle.'));
  assert.ok(h.includes('\nOPTIONS:\n   --bundle value, -b value  path to the root of the bundle directory, defaults to the current directory\n'));
  assert.ok(h.includes('   --no-pivot                do not use pivot root'));
  assert.ok(h.includes('   --preserve-fds value      Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total) (default: 0)\n'));
  assert.not.match(h, / +\n/, 'no trailing spaces');
});

test('command help for flagless commands has no OPTIONS', () => {
  const h = commandHelp('start');
  assert.ok(h.startsWith('NAME:\n   hako start - executes the user defined process in a created container\n\nUSAGE:\n   hako start <container-id>\n'));
  assert.not.match(h, /OPTIONS:/);
  assert.ok(commandHelp('features').includes('   hako features [arguments...]\n'));
});

test('command help for every visible command; hidden flags hidden', () => {
  for (const c of COMMANDS) {
    if (c.hidden) continue;
    const h = commandHelp(c.name);
    assert.ok(h.includes(`   hako ${c.name} - ${c.usage}\n`), c.name);
    assert.not.match(h, / +\n/, `${c.name}: no trailing spaces`);
    assert.ok(h.endsWith('\n') && !h.endsWith('\n\n'), `${c.name}: ends with one newline`);
    for (const fl of c.flags)
      assert.is(h.includes(`--${fl.name} `) || h.includes(`--${fl.name}\n`) || h.includes(`--${fl.name},`), !fl.hidden, `${c.name} --${fl.name}`);
  }
  const u = commandHelp('update');
  assert.not.match(u, /kernel-memory/);
  // multi-line --resources help is indented under its column
  assert.ok(u.includes('   --resources value, -r value  path to the file containing the resources'));
  assert.ok(u.includes('\n                                {\n'));
  assert.ok(u.includes('   --pids-limit value           Maximum number of pids allowed in the container (default: 0)\n'));
  assert.ok(commandHelp('events').includes('(default: 5s)'));
  assert.ok(commandHelp('checkpoint').includes('--status-fd value            criu writes \\0 to this FD once lazy-pages is ready (default: -1)'));
  assert.ok(commandHelp('list').includes('(default: "table")'));
  assert.ok(commandHelp('list').includes('   hako list [command options]\n\nWhere the given root'));
  assert.ok(commandHelp('h').includes('hako help - Shows a list of commands or help for one command'));
});

test('command help for unknown or hidden commands', () => {
  for (const n of ['foo', 'init']) {
    assert.throws(
      () => commandHelp(n),
      (e: unknown) => e instanceof UsageError && e.message === `No help topic for '${n}'` && e.exitCode === 3,
    );
  }
});

test('flagLabel and flagUsage', () => {
  assert.is(flagLabel({ name: 'bundle', aliases: ['b'], type: 'string', help: '' }), '--bundle value, -b value');
  assert.is(flagLabel({ name: 'detach', aliases: ['d'], type: 'bool', help: '' }), '--detach, -d');
  assert.is(flagLabel({ name: 'x', type: 'int', help: '' }), '-x value');
  assert.is(flagUsage({ name: 'a', type: 'string', help: 'h' }), 'h');
  assert.is(flagUsage({ name: 'a', type: 'string', default: 'x', help: 'h' }), 'h (default: "x")');
  assert.is(flagUsage({ name: 'a', type: 'int', help: 'h' }), 'h (default: 0)');
  assert.is(flagUsage({ name: 'a', type: 'bool', help: 'h' }), 'h');
  assert.is(flagUsage({ name: 'a', type: 'bool', optional: true, help: 'h' }), 'h');
});

test('helpFor a parse result', () => {
  assert.is(helpFor(parseArgs(['--help'])), appHelp());
  assert.is(helpFor(parseArgs([])), appHelp());
  assert.is(helpFor(parseArgs(['help', 'kill'])), commandHelp('kill'));
  assert.is(helpFor(parseArgs(['kill', '--help'])), commandHelp('kill'));
  assert.is(helpFor(parseArgs(['checkpoint', '--help'])), commandHelp('checkpoint'));
});

test('usageErrorText reproduces runc stdout', () => {
  assert.is(usageErrorText(usageError(['create', '-x', 'ID'])), `Incorrect Usage: flag provided but not defined: -x\n\n${commandHelp('create')}`);
  assert.is(usageErrorText(usageError(['create'])), `Incorrect Usage.\n\n${commandHelp('create')}`);
  assert.is(usageErrorText(usageError(['--foo', 'list'])), `Incorrect Usage. flag provided but not defined: -foo\n\n${appHelp()}`);
  assert.is(usageErrorText(usageError(['-v', '--version'])), `Cannot use two forms of the same flag: v version\n${appHelp()}`);
  assert.is(usageErrorText(usageError(['foo'])), '');
  assert.is(usageErrorText(usageError(['--log-format', 'x', 'list'])), '');
  assert.is(usageErrorText(new UsageError('x')), '');
});

test('versionText: podman shows the first line', () => {
  assert.is(versionText('0.1.0', ['commit: abc', 'spec: 1.0.2']), 'hako version 0.1.0\ncommit: abc\nspec: 1.0.2\n');
  assert.is(versionText('0.1.0'), 'hako version 0.1.0\n');
});

test.run();
