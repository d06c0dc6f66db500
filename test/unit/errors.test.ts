// The one error type and its one translation point (src/errors.ts): inner
// errors keep their kind and get the container named; a placed HakoError
// passes unchanged; anything else is described on one line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HakoError, type InnerError, atLocation, inContainer, pointerToken, toHakoError } from '../../src/errors.js';
import { PlanError } from '../../src/launch/plan-error.js';
import { SpecError } from '../../src/spec/spec-error.js';
import { CgroupError, settingError } from '../../src/cgroups/cgroup-error.js';
import { ExecRequestError } from '../../src/launch/exec-plan.js';
import { LaunchError } from '../../src/launch/launcher.js';
import { HookError } from '../../src/hooks/run.js';
import { SubCgroupError } from '../../src/container/sub-cgroup.js';
import { WriteError } from '../../src/container/store.js';
import { UpdateFlagError } from '../../src/cli/update-flags.js';

const c = inContainer('c1');

test('atLocation: file, pointer, reason; the whole document without a pointer', () => {
  assert.is(atLocation('config.json', '/process/args', 'must not be empty'), 'config.json: /process/args: must not be empty');
  assert.is(atLocation('process.json', '', 'not JSON'), 'process.json: not JSON');
  assert.is(pointerToken('a/b~c'), 'a~1b~0c');
});

test('every document error is worded by atLocation', () => {
  assert.is(new PlanError('/linux/sysctl/x', 'bad').message, 'config.json: /linux/sysctl/x: bad');
  assert.is(new SpecError('config.json', '', 'not JSON').message, 'config.json: not JSON');
  assert.is(new SpecError('state.json', '/pid', 'must be an integer').message, 'state.json: /pid: must be an integer');
  assert.is(settingError('--resources', '/memory/limit', 'too small').message, '--resources: /memory/limit: too small');
});

test('inner errors carry their kind', () => {
  const kinds: [InnerError, string][] = [
    [new PlanError('/x', 'y'), 'config'],
    [new SpecError('config.json', '/x', 'y'), 'config'],
    [new CgroupError('a setting'), 'config'],
    [new CgroupError('the kernel said no', 'EBUSY'), 'system'],
    [new ExecRequestError('no command'), 'usage'],
    [new SubCgroupError('invalid --cgroup argument: a:b:c'), 'usage'],
    [new UpdateFlagError('bad flag'), 'usage'],
    [new LaunchError('exec: no such file'), 'system'],
    [new HookError('prestart', 0, 'prestart hook #0 (/x): exit status 1'), 'system'],
    [new WriteError('/run/x/state.json', Object.assign(new Error('x'), { code: 'ENOSPC' })), 'system'],
  ];
  for (const [e, kind] of kinds) {
    assert.ok(e instanceof HakoError, e.name);
    assert.is(e.kind, kind, e.name);
  }
});

test('toHakoError: an inner error gets the prefix and keeps its kind', () => {
  const h = toHakoError(new PlanError('/root/path', 'missing'), c);
  assert.is(h.constructor, HakoError);
  assert.is(h.message, 'container "c1": config.json: /root/path: missing');
  assert.is(h.kind, 'config');
  assert.is(h.exitCode, 1);
  assert.is(toHakoError(new CgroupError('x'), c, { kind: 'usage' }).kind, 'usage');
});

test('toHakoError: a placed HakoError passes unchanged', () => {
  const e = new HakoError('container "c1" does not exist', 'not-found');
  assert.is(toHakoError(e, c), e);
  assert.is(toHakoError(e, c, { kind: 'usage' }), e);
});

test('toHakoError: anything else is described on one line, fallback kind', () => {
  const errno = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), { code: 'ENOENT' });
  const h = toHakoError(errno, c);
  assert.is(h.message, 'container "c1": open /x: no such file or directory');
  assert.is(h.kind, 'system');
  assert.is(toHakoError(new Error('two\nlines'), undefined, { fallback: 'config' }).message, 'two; lines');
  assert.is(toHakoError(new Error('x'), undefined, { fallback: 'config' }).kind, 'config');
  // `kind` is for inner errors only: an unexpected failure stays a system error.
  assert.is(toHakoError(new Error('x'), c, { kind: 'usage' }).kind, 'system');
  assert.is(toHakoError('a string').message, 'a string');
});

test.run();
