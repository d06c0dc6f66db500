// The command table (src/cli/commands/index.ts): one file per command,
// each with its own help. (function-length.test.ts keeps src/ in small functions.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COMMANDS } from '../../src/cli/args.js';
import { commandHelp } from '../../src/cli/help.js';

// runc's command set plus help; init is runc's internal step (hidden here).
const RUNC_COMMANDS = [
  'checkpoint',
  'create',
  'delete',
  'events',
  'exec',
  'features',
  'help',
  'init',
  'kill',
  'list',
  'pause',
  'ps',
  'restore',
  'resume',
  'run',
  'spec',
  'start',
  'state',
  'update',
];
// hako's own, beyond runc's.
const HAKO_COMMANDS = ['explain'];

test("the table has runc command set (and hako's own), each name once", () => {
  assert.equal(COMMANDS.map((c) => c.name).sort(), [...RUNC_COMMANDS, ...HAKO_COMMANDS].sort());
});

test('every command lives in its own file, which exports it', async () => {
  for (const c of COMMANDS) {
    const mod = (await import(`../../src/cli/commands/${c.name}.js`)) as Record<string, unknown>;
    assert.ok(Object.values(mod).includes(c), `src/cli/commands/${c.name}.ts exports the "${c.name}" entry`);
  }
});

test('every command has its own help text', () => {
  const seen = new Set<string>();
  for (const c of COMMANDS) {
    assert.ok(c.usage.length > 0, `${c.name}: usage`);
    if (c.hidden) continue;
    const h = commandHelp(c.name);
    assert.ok(h.startsWith(`NAME:\n   hako ${c.name} - ${c.usage}\n`), c.name);
    assert.not.ok(seen.has(h), `${c.name}: help of its own`);
    seen.add(h);
  }
});

test('every command but help runs; help is answered before anything runs', () => {
  for (const c of COMMANDS) assert.is(typeof c.run === 'function', c.name !== 'help', c.name);
});

test('checkpoint and restore refuse the --help probe; others print help', () => {
  for (const c of COMMANDS) {
    assert.is(c.onHelpFlag !== undefined, c.name === 'checkpoint' || c.name === 'restore', c.name);
  }
});

test.run();
