// Argument parsing: the invocations podman/conmon and containerd make
// (CALLERS.md), runc's urfave/cli quirks, and runc's error messages.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  COMMANDS,
  DEFAULT_ROOT,
  GLOBAL_FLAGS,
  UsageError,
  findCommand,
  optionKey,
  parseArgs,
  parseBoolOrAuto,
  parseGoDuration,
  parseGoInt,
  formatGoDuration,
  goQuote,
  type ParsedArgs,
  type UsageErrorKind,
} from '../../src/cli/args.js';

const p = (...argv: string[]): ParsedArgs => parseArgs(argv);

function throwsUsage(argv: string[], message: string, kind?: UsageErrorKind, exitCode = 1): UsageError {
  try {
    parseArgs(argv);
  } catch (e) {
    assert.instance(e, UsageError, `${argv.join(' ')}: not a UsageError: ${String(e)}`);
    const u = e as UsageError;
    assert.is(u.message, message, argv.join(' '));
    if (kind !== undefined) assert.is(u.kind, kind, `kind for ${argv.join(' ')}`);
    assert.is(u.exitCode, exitCode);
    assert.not.match(u.message, /\n/, 'one-line message');
    return u;
  }
  assert.unreachable(`no error for: ${argv.join(' ')}`);
  throw new Error('unreachable');
}

// --- callers ---------------------------------------------------------------

test('containerd create', () => {
  const r = p(
    '--root',
    '/run/containerd/runc/default',
    '--log',
    '/x/log.json',
    '--log-format',
    'json',
    'create',
    '--bundle',
    '/b',
    '--pid-file',
    '/b/init.pid',
    'ID',
  );
  assert.is(r.command, 'create');
  assert.equal(r.global, {
    debug: false,
    log: '/x/log.json',
    logFormat: 'json',
    root: '/run/containerd/runc/default',
    criu: 'criu',
    systemdCgroup: false,
    rootless: 'auto',
  });
  assert.equal(r.positional, ['ID']);
  assert.is(r.help, false);
  assert.is(r.version, false);
  if (r.command !== 'create') throw new Error('narrowing');
  assert.equal(r.options, {
    bundle: '/b',
    consoleSocket: '',
    pidfdSocket: '',
    pidFile: '/b/init.pid',
    noPivot: false,
    noNewKeyring: false,
    preserveFds: 0,
  });
  assert.equal([...r.explicit.global].sort(), ['log', 'logFormat', 'root']);
  assert.equal([...r.explicit.options].sort(), ['bundle', 'pidFile']);
});

test('containerd create with tty and systemd cgroups', () => {
  const r = p(
    '--root',
    '/run/containerd/runc/k8s.io',
    '--log',
    '/b/log.json',
    '--log-format',
    'json',
    '--systemd-cgroup',
    'create',
    '--bundle',
    '/b',
    '--pid-file',
    '/b/init.pid',
    '--console-socket',
    '/tmp/pty1/pty.sock',
    'ID',
  );
  assert.is(r.global.systemdCgroup, true);
  if (r.command !== 'create') throw new Error('narrowing');
  assert.is(r.options.consoleSocket, '/tmp/pty1/pty.sock');
});

test('conmon create', () => {
  const r = p(
    '--log-format=json',
    '--log',
    '/r/oci-log',
    'create',
    '--bundle',
    '/b',
    '--pid-file',
    '/r/pidfile',
    '--console-socket',
    '/tmp/conmon-term.ABC',
    'ID',
  );
  assert.is(r.global.logFormat, 'json');
  assert.is(r.global.log, '/r/oci-log');
  assert.is(r.global.root, DEFAULT_ROOT);
  assert.not.ok(r.explicit.global.has('root'));
  if (r.command !== 'create') throw new Error('narrowing');
  assert.is(r.options.bundle, '/b');
  assert.is(r.options.pidFile, '/r/pidfile');
  assert.is(r.options.consoleSocket, '/tmp/conmon-term.ABC');
  assert.equal(r.positional, ['ID']);
});

test('conmon create with --preserve-fds and --no-pivot, systemd', () => {
  const r = p(
    '--systemd-cgroup',
    '--log-format=json',
    '--log',
    '/r/oci-log',
    'create',
    '--bundle',
    '/b',
    '--pid-file',
    '/r/pidfile',
    '--preserve-fds',
    '1',
    '--no-pivot',
    'ID',
  );
  assert.is(r.global.systemdCgroup, true);
  if (r.command !== 'create') throw new Error('narrowing');
  assert.is(r.options.preserveFds, 1);
  assert.is(r.options.noPivot, true);
  assert.equal(r.positional, ['ID']);
});

test('start, state, pause, resume, delete', () => {
  for (const c of ['start', 'state', 'pause', 'resume', 'delete'] as const) {
    const r = p(c, 'ID');
    assert.is(r.command, c);
    assert.equal(r.positional, ['ID']);
  }
  const d = p('--root', '/run/containerd/runc/default', 'delete', '--force', 'ID');
  if (d.command !== 'delete') throw new Error('narrowing');
  assert.is(d.options.force, true);
  const d2 = p('delete', '-f', 'ID');
  if (d2.command !== 'delete') throw new Error('narrowing');
  assert.is(d2.options.force, true);
  const d3 = p('delete', 'ID');
  if (d3.command !== 'delete') throw new Error('narrowing');
  assert.is(d3.options.force, false);
});

test('conmon exec', () => {
  const r = p('--log-format=json', '--log', '/r/exec-log', 'exec', '--pid-file', 'P', '--process', 'F', '--detach', 'ID');
  if (r.command !== 'exec') throw new Error('narrowing');
  assert.is(r.options.pidFile, 'P');
  assert.is(r.options.process, 'F');
  assert.is(r.options.detach, true);
  assert.is(r.options.tty, false);
  assert.is(r.options.noNewPrivs, undefined);
  assert.equal(r.positional, ['ID']);

  const t = p('exec', '--pid-file', 'P', '--process', 'F', '--detach', '--tty', '--console-socket', 'S', '--preserve-fds', '2', 'ID');
  if (t.command !== 'exec') throw new Error('narrowing');
  assert.is(t.options.tty, true);
  assert.is(t.options.consoleSocket, 'S');
  assert.is(t.options.preserveFds, 2);
});

test('containerd exec', () => {
  const r = p(
    '--root',
    '/run/containerd/runc/default',
    '--log',
    '/b/log.json',
    '--log-format',
    'json',
    'exec',
    '--process',
    '/tmp/runc-process123',
    '--detach',
    '--pid-file',
    '/b/abc.pid',
    'ID',
  );
  if (r.command !== 'exec') throw new Error('narrowing');
  assert.equal([r.options.process, r.options.detach, r.options.pidFile], ['/tmp/runc-process123', true, '/b/abc.pid']);
  assert.equal(r.positional, ['ID']);
});

test('kill as podman and containerd send it', () => {
  let r = p('kill', 'ID', '15');
  assert.equal(r.positional, ['ID', '15']);
  if (r.command !== 'kill') throw new Error('narrowing');
  assert.is(r.options.all, false);
  r = p('kill', '--all', 'ID', '10');
  if (r.command !== 'kill') throw new Error('narrowing');
  assert.is(r.options.all, true);
  assert.equal(r.positional, ['ID', '10']);
  r = p('kill', 'ID');
  assert.equal(r.positional, ['ID']);
  r = p('kill', '-a', 'ID', 'KILL');
  if (r.command !== 'kill') throw new Error('narrowing');
  assert.is(r.options.all, true);
});

test('update --resources=FILE', () => {
  const r = p('update', '--resources=/tmp/res.json', 'ID');
  if (r.command !== 'update') throw new Error('narrowing');
  assert.is(r.options.resources, '/tmp/res.json');
  assert.is(r.options.pidsLimit, 0);
  assert.is(r.options.memory, '');
  const s = p('update', '-r', '-', 'ID');
  if (s.command !== 'update') throw new Error('narrowing');
  assert.is(s.options.resources, '-');
});

test('update with individual flags', () => {
  const r = p(
    'update',
    '--memory',
    '512m',
    '--memory-swap',
    '-1',
    '--pids-limit',
    '-1',
    '--cpu-share',
    '512',
    '--cpu-quota',
    '-1',
    '--cpuset-cpus',
    '0-2',
    '--blkio-weight',
    '500',
    '--kernel-memory',
    '1',
    '--l3-cache-schema',
    'L3:0=f',
    'ID',
  );
  if (r.command !== 'update') throw new Error('narrowing');
  assert.is(r.options.memory, '512m');
  assert.is(r.options.memorySwap, '-1');
  assert.is(r.options.pidsLimit, -1);
  assert.is(r.options.cpuShare, '512');
  assert.is(r.options.cpuQuota, '-1');
  assert.is(r.options.cpusetCpus, '0-2');
  assert.is(r.options.blkioWeight, 500);
  assert.is(r.options.kernelMemory, '1');
  assert.is(r.options.l3CacheSchema, 'L3:0=f');
  assert.equal(r.positional, ['ID']);
});

test('ps --format json', () => {
  const r = p('ps', '--format', 'json', 'ID');
  if (r.command !== 'ps') throw new Error('narrowing');
  assert.is(r.options.format, 'json');
  assert.equal(r.positional, ['ID']);
  const t = p('ps', 'ID');
  if (t.command !== 'ps') throw new Error('narrowing');
  assert.is(t.options.format, 'table');
});

test('ps passes ps(1) options through (no reordering)', () => {
  const r = p('ps', 'ID', '-ef');
  assert.equal(r.positional, ['ID', '-ef']);
  const t = p('ps', '-f', 'json', 'ID', '-f', 'x');
  if (t.command !== 'ps') throw new Error('narrowing');
  assert.is(t.options.format, 'json');
  assert.equal(t.positional, ['ID', '-f', 'x']);
});

test('checkpoint as podman and containerd call it', () => {
  const h = p('checkpoint', '--help');
  assert.is(h.help, true);
  assert.is(h.helpFlag, true, 'the probe podman makes');
  assert.is(h.command, 'checkpoint');
  const topic = p('help', 'checkpoint');
  assert.is(topic.help, true);
  assert.is(topic.helpFlag, false, 'help <cmd> is not the probe');
  assert.is(topic.command, 'checkpoint');
  const r = p('checkpoint', '--image-path', '/d', '--work-path', '/w', '--leave-running', 'ID');
  if (r.command !== 'checkpoint') throw new Error('narrowing');
  assert.is(r.options.imagePath, '/d');
  assert.is(r.options.workPath, '/w');
  assert.is(r.options.leaveRunning, true);
  assert.is(r.options.statusFd, -1);
  assert.equal(r.options.emptyNs, []);
  assert.equal(r.positional, ['ID']);
  const e = p('checkpoint', '--empty-ns', 'network', '--empty-ns', 'ipc', '--status-fd', '5', 'ID');
  if (e.command !== 'checkpoint') throw new Error('narrowing');
  assert.equal(e.options.emptyNs, ['network', 'ipc']);
  assert.is(e.options.statusFd, 5);
});

test('restore', () => {
  const r = p('restore', '-b', '/b', '-d', '--image-path', '/d', '--pid-file', '/p', '--lsm-profile', 'apparmor:x', 'ID');
  if (r.command !== 'restore') throw new Error('narrowing');
  assert.is(r.options.bundle, '/b');
  assert.is(r.options.detach, true);
  assert.is(r.options.lsmProfile, 'apparmor:x');
  assert.equal(r.positional, ['ID']);
});

test('run, spec, list, events, features', () => {
  const r = p('run', '-b', '/b', '-d', '--keep', '--no-subreaper', 'ID');
  if (r.command !== 'run') throw new Error('narrowing');
  assert.equal([r.options.bundle, r.options.detach, r.options.keep, r.options.noSubreaper], ['/b', true, true, true]);
  const s = p('spec', '--rootless', '-b', '/b');
  if (s.command !== 'spec') throw new Error('narrowing');
  assert.equal([s.options.rootless, s.options.bundle], [true, '/b']);
  assert.equal(s.positional, []);
  const l = p('list', '-f', 'json', '-q');
  if (l.command !== 'list') throw new Error('narrowing');
  assert.equal([l.options.format, l.options.quiet], ['json', true]);
  const e = p('events', '--stats', '--interval', '1m30s', 'ID');
  if (e.command !== 'events') throw new Error('narrowing');
  assert.equal([e.options.stats, e.options.interval], [true, 90_000]);
  const e2 = p('events', 'ID');
  if (e2.command !== 'events') throw new Error('narrowing');
  assert.is(e2.options.interval, 5000);
  assert.is(p('features').command, 'features');
});

test('exec with process args: flags after the id belong to the process', () => {
  const r = p('exec', '-t', 'ID', 'sh', '-c', 'echo hi', '--tty', '-e', 'X=1');
  if (r.command !== 'exec') throw new Error('narrowing');
  assert.is(r.options.tty, true);
  assert.equal(r.options.env, []);
  assert.equal(r.positional, ['ID', 'sh', '-c', 'echo hi', '--tty', '-e', 'X=1']);
  // runc passes a "--" after the id on to the process.
  assert.equal(p('exec', 'ID', '--', 'ls').positional, ['ID', '--', 'ls']);
  assert.equal(p('exec', '--', 'ID', 'ls').positional, ['ID', 'ls']);
});

test('exec repeatable flags (one form each)', () => {
  const r = p(
    'exec',
    '-e',
    'A=1',
    '-e',
    'B=2',
    '-c',
    'CAP_SYS_ADMIN',
    '-c',
    'CAP_NET_ADMIN',
    '-g',
    '10',
    '-g',
    '-0',
    '--user',
    '1000:1000',
    '--cwd',
    '/tmp',
    '--cgroup',
    'cpu:/x',
    '--cgroup',
    'memory:/y',
    '--no-new-privs=false',
    '--ignore-paused',
    '--apparmor',
    'prof',
    '--process-label',
    'lbl',
    '--pidfd-socket',
    '/s',
    'ID',
    'true',
  );
  if (r.command !== 'exec') throw new Error('narrowing');
  assert.equal(r.options.env, ['A=1', 'B=2']);
  assert.equal(r.options.cap, ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN']);
  assert.equal(r.options.additionalGids, [10, 0]);
  assert.equal(r.options.cgroup, ['cpu:/x', 'memory:/y']);
  assert.is(r.options.user, '1000:1000');
  assert.is(r.options.cwd, '/tmp');
  assert.is(r.options.noNewPrivs, false);
  assert.ok(r.explicit.options.has('noNewPrivs'));
  assert.is(r.options.ignorePaused, true);
  assert.is(r.options.apparmor, 'prof');
  assert.is(r.options.processLabel, 'lbl');
  assert.is(r.options.pidfdSocket, '/s');
  assert.equal(r.positional, ['ID', 'true']);
});

// --- flag syntax -------------------------------------------------------------

test('single-dash long flags and = forms', () => {
  for (const argv of [
    ['create', '-bundle', '/b', 'ID'],
    ['create', '--bundle=/b', 'ID'],
    ['create', '-bundle=/b', 'ID'],
    ['create', '-b=/b', 'ID'],
    ['create', '--b', '/b', 'ID'],
  ]) {
    const r = parseArgs(argv);
    if (r.command !== 'create') throw new Error('narrowing');
    assert.is(r.options.bundle, '/b', argv.join(' '));
    assert.equal(r.positional, ['ID']);
  }
  const g = p('-root=/r', '-log-format', 'json', '-debug', 'state', 'ID');
  assert.equal([g.global.root, g.global.logFormat, g.global.debug], ['/r', 'json', true]);
});

test('values may look like flags; = values may contain =', () => {
  let r = p('create', '--pid-file', '--bundle', 'ID');
  if (r.command !== 'create') throw new Error('narrowing');
  assert.is(r.options.pidFile, '--bundle');
  assert.is(r.options.bundle, '');
  r = p('create', '--bundle', '--', 'ID');
  if (r.command !== 'create') throw new Error('narrowing');
  assert.is(r.options.bundle, '--');
  assert.equal(r.positional, ['ID']);
  r = p('create', '--console-socket=a=b', 'ID');
  if (r.command !== 'create') throw new Error('narrowing');
  assert.is(r.options.consoleSocket, 'a=b');
  r = p('create', '--bundle=', 'ID');
  if (r.command !== 'create') throw new Error('narrowing');
  assert.is(r.options.bundle, '');
  assert.ok(r.explicit.options.has('bundle'));
});

test('boolean flags: =true/false and Go spellings, never a separate value', () => {
  for (const [v, want] of [
    ['true', true],
    ['1', true],
    ['t', true],
    ['T', true],
    ['TRUE', true],
    ['True', true],
    ['false', false],
    ['0', false],
    ['f', false],
    ['F', false],
    ['FALSE', false],
    ['False', false],
  ] as const) {
    const r = p('run', `--detach=${v}`, 'ID');
    if (r.command !== 'run') throw new Error('narrowing');
    assert.is(r.options.detach, want, v);
  }
  // "true" after a boolean flag is a positional argument.
  throwsUsage(['create', '--no-pivot', 'true', 'ID'], 'hako: "create" requires exactly 1 argument(s)', 'arity');
  throwsUsage(['create', '--no-pivot=yes', 'ID'], 'invalid boolean value "yes" for -no-pivot: parse error', 'flag');
  throwsUsage(['--systemd-cgroup=yes', 'state', 'ID'], 'invalid boolean value "yes" for -systemd-cgroup: parse error', 'global-flag');
  const g = p('--debug=false', 'state', 'ID');
  assert.is(g.global.debug, false);
  assert.ok(g.explicit.global.has('debug'));
});

test('last value wins for repeated scalar flags', () => {
  const r = p('create', '--bundle', '/a', '--bundle', '/b', 'ID');
  if (r.command !== 'create') throw new Error('narrowing');
  assert.is(r.options.bundle, '/b');
  const d = p('delete', '-force=0', '--force', 'ID');
  if (d.command !== 'delete') throw new Error('narrowing');
  assert.is(d.options.force, true);
});

test('a flag and its alias together: runc\'s "two forms" error', () => {
  throwsUsage(['create', '--bundle', '/a', '-b', '/b', 'ID'], 'Cannot use two forms of the same flag: b bundle', 'flag');
  throwsUsage(['create', '-b', '/a', '--bundle', '/b', 'ID'], 'Cannot use two forms of the same flag: b bundle', 'flag');
  throwsUsage(['exec', '-e', 'A', '--env', 'B', 'ID', 'ls'], 'Cannot use two forms of the same flag: e env', 'flag');
  throwsUsage(['create', '--help', '-h', 'ID'], 'Cannot use two forms of the same flag: h help', 'flag');
  throwsUsage(['-v', '-version'], 'Cannot use two forms of the same flag: v version', 'global-conflict');
});

test('no bundling of short flags', () => {
  throwsUsage(['exec', '-dt', 'ID', 'ls'], 'flag provided but not defined: -dt', 'flag');
});

test('"--" ends flags', () => {
  let r = p('create', '--', 'ID');
  assert.equal(r.positional, ['ID']);
  r = p('create', '--', '--weird');
  assert.equal(r.positional, ['--weird']);
  r = p('state', '--', '-x');
  assert.equal(r.positional, ['-x']);
  // Before the command, "--" ends the global flags.
  r = p('--root', '/r', '--', 'state', 'ID');
  assert.is(r.command, 'state');
  assert.is(r.global.root, '/r');
  // Arguments on both sides of "--" are positional.
  throwsUsage(['create', 'a', '--', 'b'], 'hako: "create" requires exactly 1 argument(s)', 'arity');
  r = p('kill', 'ID', '--', '-9');
  assert.equal(r.positional, ['ID', '-9']);
});

test('"-" is a positional argument', () => {
  assert.equal(p('create', '-').positional, ['-']);
});

test('command flags after positional args are moved in front (urfave reorder)', () => {
  let r = p('create', 'ID', '--bundle', '/b');
  if (r.command !== 'create') throw new Error('narrowing');
  assert.is(r.options.bundle, '/b');
  assert.equal(r.positional, ['ID']);
  r = p('kill', 'ID', 'URG', '--all');
  if (r.command !== 'kill') throw new Error('narrowing');
  assert.is(r.options.all, true);
  assert.equal(r.positional, ['ID', 'URG']);
  // state ID --help shows help
  const h = p('state', 'ID', '--help');
  assert.is(h.help, true);
  assert.is(h.command, 'state');
  // Undefined flag-like args stay where they are: "kill ID -9" is signal "-9".
  assert.equal(p('kill', 'ID', '-9').positional, ['ID', '-9']);
  // A non-flag following a *boolean* flag is taken along with it, as urfave
  // does not know the flag type: "kill ID --all 9" means container 9,
  // signal ID. Faithful to runc, surprising for humans.
  r = p('kill', 'ID', '--all', '9');
  assert.equal(r.positional, ['9', 'ID']);
  r = p('kill', 'a', '-a', 'b');
  assert.equal(r.command === 'kill' && r.options.all, true);
  // ... and "b" moved in front of "a" with it.
  assert.equal(r.positional, ['b', 'a']);
  // so "create ID --no-pivot true" has two positionals, like in runc
  throwsUsage(['create', 'ID', '--no-pivot', 'true'], 'hako: "create" requires exactly 1 argument(s)', 'arity');
});

test('reorder: unknown flags after a positional are positional (and then rejected by arity)', () => {
  throwsUsage(['create', 'ID', '--bogus'], 'hako: "create" requires exactly 1 argument(s)', 'arity');
  throwsUsage(['create', '--bogus', 'ID'], 'flag provided but not defined: -bogus', 'flag');
});

test('global flags after the command are command flags (unknown there)', () => {
  throwsUsage(['state', '--root', '/r', 'ID'], 'flag provided but not defined: -root', 'flag');
  throwsUsage(['create', '--debug', 'ID'], 'flag provided but not defined: -debug', 'flag');
});

// --- errors ------------------------------------------------------------------

test('unknown flags', () => {
  throwsUsage(['create', '-x', 'ID'], 'flag provided but not defined: -x', 'flag');
  throwsUsage(['create', '--x', 'ID'], 'flag provided but not defined: -x', 'flag');
  throwsUsage(['--foo', 'list'], 'flag provided but not defined: -foo', 'global-flag');
  throwsUsage(['help', '--foo'], 'flag provided but not defined: -foo', 'flag');
  // runc 1.1.5 has no --pidfd-socket for restore
  throwsUsage(['restore', '--pidfd-socket', 's', 'ID'], 'flag provided but not defined: -pidfd-socket', 'flag');
  const u = throwsUsage(['create', '--nope', 'ID'], 'flag provided but not defined: -nope');
  assert.is(u.command, 'create');
});

test('bad flag syntax', () => {
  throwsUsage(['create', '---bundle', 'x', 'ID'], 'bad flag syntax: ---bundle', 'flag');
  throwsUsage(['create', '--=x', 'ID'], 'bad flag syntax: --=x', 'flag');
  throwsUsage(['create', '-=x', 'ID'], 'bad flag syntax: -=x', 'flag');
  throwsUsage(['---x', 'state', 'ID'], 'bad flag syntax: ---x', 'global-flag');
});

test('missing flag values', () => {
  throwsUsage(['create', '--bundle'], 'flag needs an argument: -bundle', 'flag');
  throwsUsage(['spec', '-b'], 'flag needs an argument: -b', 'flag');
  throwsUsage(['--root'], 'flag needs an argument: -root', 'global-flag');
  throwsUsage(['update', '--kernel-memory'], 'flag needs an argument: -kernel-memory', 'flag');
});

test('int flags are validated like Go (base 0, int64)', () => {
  throwsUsage(['create', '--preserve-fds', 'x', 'ID'], 'invalid value "x" for flag -preserve-fds: parse error', 'flag');
  throwsUsage(['create', '--preserve-fds', ' 1', 'ID'], 'invalid value " 1" for flag -preserve-fds: parse error', 'flag');
  throwsUsage(['create', '--preserve-fds', '', 'ID'], 'invalid value "" for flag -preserve-fds: parse error', 'flag');
  throwsUsage(['create', '--preserve-fds', '1.5', 'ID'], 'invalid value "1.5" for flag -preserve-fds: parse error', 'flag');
  throwsUsage(
    ['create', '--preserve-fds', '99999999999999999999', 'ID'],
    'invalid value "99999999999999999999" for flag -preserve-fds: value out of range',
    'flag',
  );
  throwsUsage(['update', '--pids-limit', 'x', 'ID'], 'invalid value "x" for flag -pids-limit: parse error', 'flag');
  throwsUsage(['update', '--blkio-weight', 'x', 'ID'], 'invalid value "x" for flag -blkio-weight: parse error', 'flag');
  throwsUsage(['checkpoint', '--status-fd', 'x', 'ID'], 'invalid value "x" for flag -status-fd: parse error', 'flag');
  const val = (s: string) => {
    const r = p('create', '--preserve-fds', s, 'ID');
    if (r.command !== 'create') throw new Error('narrowing');
    return r.options.preserveFds;
  };
  assert.is(val('3'), 3);
  assert.is(val('+3'), 3);
  assert.is(val('-1'), -1);
  assert.is(val('0x10'), 16);
  assert.is(val('010'), 8);
  assert.is(val('0o10'), 8);
  assert.is(val('0b101'), 5);
  assert.is(val('1_0'), 10);
  assert.is(val('0_7'), 7);
});

test('intArray flags are base-10 (urfave Int64Slice) with strconv messages', () => {
  throwsUsage(['exec', '-g', 'x', 'ID', 'ls'], 'invalid value "x" for flag -g: strconv.ParseInt: parsing "x": invalid syntax', 'flag');
  throwsUsage(['exec', '-g', '0x1', 'ID', 'ls'], 'invalid value "0x1" for flag -g: strconv.ParseInt: parsing "0x1": invalid syntax', 'flag');
  throwsUsage(['exec', '-g', '1_0', 'ID', 'ls'], 'invalid value "1_0" for flag -g: strconv.ParseInt: parsing "1_0": invalid syntax', 'flag');
  const r = p('exec', '-g', '+5', '-g', '010', 'ID', 'ls');
  if (r.command !== 'exec') throw new Error('narrowing');
  assert.equal(r.options.additionalGids, [5, 10]);
});

test('duration flags', () => {
  throwsUsage(['events', '--interval', 'bad', 'ID'], 'invalid value "bad" for flag -interval: parse error', 'flag');
  throwsUsage(['events', '--interval', '5', 'ID'], 'invalid value "5" for flag -interval: parse error', 'flag');
  const iv = (s: string) => {
    const r = p('events', `--interval=${s}`, 'ID');
    if (r.command !== 'events') throw new Error('narrowing');
    return r.options.interval;
  };
  assert.is(iv('1.5h'), 5_400_000);
  assert.is(iv('-1s'), -1000);
  assert.is(iv('0'), 0);
  assert.is(iv('250ms'), 250);
});

test("arity errors use runc's wording with the program name", () => {
  for (const c of ['create', 'start', 'state', 'delete', 'pause', 'resume', 'events', 'update', 'checkpoint', 'restore', 'run']) {
    const u = throwsUsage([c], `hako: "${c}" requires exactly 1 argument(s)`, 'arity');
    assert.is(u.command, c);
    throwsUsage([c, 'a', 'b'], `hako: "${c}" requires exactly 1 argument(s)`, 'arity');
  }
  throwsUsage(['ps'], 'hako: "ps" requires a minimum of 1 argument(s)', 'arity');
  throwsUsage(['exec'], 'hako: "exec" requires a minimum of 1 argument(s)', 'arity');
  throwsUsage(['exec', '-p', 'F'], 'hako: "exec" requires a minimum of 1 argument(s)', 'arity');
  throwsUsage(['kill'], 'hako: "kill" requires a minimum of 1 argument(s)', 'arity');
  throwsUsage(['kill', 'a', 'b', 'c'], 'hako: "kill" requires a maximum of 2 argument(s)', 'arity');
  throwsUsage(['list', 'x'], 'hako: "list" requires exactly 0 argument(s)', 'arity');
  throwsUsage(['spec', 'x'], 'hako: "spec" requires exactly 0 argument(s)', 'arity');
  throwsUsage(['features', 'x'], 'hako: "features" requires exactly 0 argument(s)', 'arity');
  // exec with only the id parses (runc complains later, after the lookup)
  assert.equal(p('exec', 'ID').positional, ['ID']);
  // prog is configurable (runc uses os.Args[0])
  try {
    parseArgs(['start'], { prog: '/usr/bin/hako' });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, '/usr/bin/hako: "start" requires exactly 1 argument(s)');
  }
});

test('empty id is an argument (validated later)', () => {
  assert.equal(p('state', '').positional, ['']);
});

test("unknown command: runc's message and exit status 3", () => {
  throwsUsage(['foo'], "No help topic for 'foo'", 'unknown-command', 3);
  throwsUsage(['--root', '/r', 'foo', 'bar'], "No help topic for 'foo'", 'unknown-command', 3);
  throwsUsage(['help', 'foo'], "No help topic for 'foo'", 'unknown-command', 3);
  throwsUsage(['help', 'init'], "No help topic for 'init'", 'unknown-command', 3);
  throwsUsage(['CREATE', 'ID'], "No help topic for 'CREATE'", 'unknown-command', 3);
});

test('--log-format: text or json, checked after help/version like runc', () => {
  throwsUsage(['--log-format', 'xml', 'state', 'ID'], 'invalid log-format: xml', 'value');
  assert.is(p('--log-format', 'xml', '--help').help, true);
  assert.is(p('--log-format', 'xml', '-v').version, true);
  assert.is(p('--log-format', '', 'state', 'ID').global.logFormat, 'text');
  assert.is(p('--log-format', 'text', 'state', 'ID').global.logFormat, 'text');
});

test('--rootless is kept as a string; parseBoolOrAuto', () => {
  assert.is(p('--rootless', 'maybe', 'state', 'ID').global.rootless, 'maybe');
  assert.is(parseBoolOrAuto('auto'), undefined);
  assert.is(parseBoolOrAuto('AUTO'), undefined);
  assert.is(parseBoolOrAuto(''), undefined);
  assert.is(parseBoolOrAuto('true'), true);
  assert.is(parseBoolOrAuto('0'), false);
  assert.throws(
    () => parseBoolOrAuto('maybe'),
    (e: unknown) => e instanceof UsageError && /"maybe"/.test(e.message),
  );
});

test('defaultRoot option; explicit --root wins', () => {
  assert.is(parseArgs(['state', 'ID'], { defaultRoot: '/run/user/1000/hako' }).global.root, '/run/user/1000/hako');
  assert.is(parseArgs(['--root', '/r', 'state', 'ID'], { defaultRoot: '/x' }).global.root, '/r');
});

// --- help and version ----------------------------------------------------------

test('help requests', () => {
  const cases: Array<[string[], string | undefined]> = [
    [[], undefined],
    [[''], undefined],
    [['--help'], undefined],
    [['-h'], undefined],
    [['--help', 'create'], undefined],
    [['-h', '-v'], undefined],
    [['-v', '-h'], undefined],
    [['help'], undefined],
    [['h'], undefined],
    [['--root', '/r', 'help'], undefined],
    [['help', 'create'], 'create'],
    [['help', 'create', 'extra'], 'create'],
    [['h', 'kill'], 'kill'],
    [['help', 'h'], 'help'],
    [['help', '-h'], 'help'],
    [['create', '--help'], 'create'],
    [['create', '-h', 'x'], 'create'],
    [['create', '-h=1', 'x'], 'create'],
    [['state', 'x', '--help'], 'state'],
    [['exec', '--help'], 'exec'],
    [['exec', '-h', 'ID', 'ls'], 'exec'],
    [['create', '--help'], 'create'],
    [['checkpoint', '--help'], 'checkpoint'],
  ];
  for (const [argv, cmd] of cases) {
    const r = parseArgs(argv);
    assert.is(r.help, true, argv.join(' '));
    assert.is(r.version, false, argv.join(' '));
    assert.is(r.command, cmd, argv.join(' '));
  }
  // help with a command comes with that command's default options
  const r = p('help', 'create');
  if (r.command !== 'create') throw new Error('narrowing');
  assert.is(r.options.preserveFds, 0);
  // --help=false is not a help request
  assert.is(p('--help=0', 'state', 'ID').help, false);
  assert.is(p('create', '--help=false', 'ID').help, false);
  throwsUsage(['create', '--help=maybe', 'ID'], 'invalid boolean value "maybe" for -help: parse error', 'flag');
  // exec's process args may contain --help
  assert.is(p('exec', 'ID', 'ls', '--help').help, false);
});

test('version requests', () => {
  for (const argv of [['--version'], ['-v'], ['--version', 'state', 'x'], ['-v', 'bogus']]) {
    const r = parseArgs(argv);
    assert.is(r.version, true, argv.join(' '));
    assert.is(r.help, false);
    assert.is(r.command, undefined);
  }
  // a command's -v is not defined
  throwsUsage(['state', '-v', 'ID'], 'flag provided but not defined: -v', 'flag');
});

// --- init ------------------------------------------------------------------------

test('init takes everything verbatim', () => {
  const r = p('init', '--help', '-x', 'a');
  assert.is(r.command, 'init');
  assert.is(r.help, false);
  assert.equal(r.positional, ['--help', '-x', 'a']);
  assert.equal(p('init').positional, []);
});

// --- the table -------------------------------------------------------------------

// The command set itself: cli-commands.test.ts.
test("every command's flags are consistent, and it parses", () => {
  for (const c of COMMANDS) {
    const seen = new Set<string>();
    for (const fl of c.flags) {
      for (const n of [fl.name, ...(fl.aliases ?? [])]) {
        assert.not.ok(seen.has(n), `${c.name}: duplicate flag name ${n}`);
        assert.not.ok(n === 'help' || n === 'h', `${c.name}: help is implicit`);
        seen.add(n);
      }
      assert.ok(fl.help.length > 0, `${c.name} --${fl.name} has help`);
    }
    // every command parses with its flags all given, with its defaults otherwise
    const r = parseArgs(c.skipFlagParsing ? [c.name] : [c.name, '--help']);
    assert.is(r.command, c.name);
  }
  assert.is(findCommand('h')?.name, 'help');
  assert.is(findCommand('init'), undefined);
  assert.is(findCommand('init', { includeHidden: true })?.name, 'init');
  assert.equal(
    GLOBAL_FLAGS.map((x) => x.name),
    ['debug', 'log', 'log-format', 'root', 'criu', 'systemd-cgroup', 'rootless'],
  );
});

test('runc 1.1.5 flag sets per command', () => {
  const flagsOf = (name: string) => findCommand(name, { includeHidden: true })!.flags.map((x) => [x.name, ...(x.aliases ?? [])].join('/'));
  assert.equal(flagsOf('exec'), [
    'console-socket',
    'pidfd-socket',
    'cwd',
    'env/e',
    'tty/t',
    'user/u',
    'additional-gids/g',
    'process/p',
    'detach/d',
    'pid-file',
    'process-label',
    'apparmor',
    'no-new-privs',
    'cap/c',
    'preserve-fds',
    'cgroup',
    'ignore-paused',
  ]);
  assert.equal(flagsOf('update'), [
    'resources/r',
    'blkio-weight',
    'cpu-period',
    'cpu-quota',
    'cpu-share',
    'cpu-rt-period',
    'cpu-rt-runtime',
    'cpuset-cpus',
    'cpuset-mems',
    'kernel-memory',
    'kernel-memory-tcp',
    'memory',
    'memory-reservation',
    'memory-swap',
    'pids-limit',
    'l3-cache-schema',
    'mem-bw-schema',
  ]);
  assert.equal(flagsOf('create'), ['bundle/b', 'console-socket', 'pidfd-socket', 'pid-file', 'no-pivot', 'no-new-keyring', 'preserve-fds']);
  assert.equal(flagsOf('run'), [
    'bundle/b',
    'console-socket',
    'pidfd-socket',
    'detach/d',
    'keep',
    'pid-file',
    'no-subreaper',
    'no-pivot',
    'no-new-keyring',
    'preserve-fds',
  ]);
  assert.equal(flagsOf('delete'), ['force/f']);
  assert.equal(flagsOf('kill'), ['all/a']);
  assert.equal(flagsOf('list'), ['format/f', 'quiet/q']);
  assert.equal(flagsOf('ps'), ['format/f']);
  assert.equal(flagsOf('events'), ['interval', 'stats']);
  assert.equal(flagsOf('spec'), ['bundle/b', 'rootless']);
  assert.equal(flagsOf('checkpoint'), [
    'image-path',
    'work-path',
    'parent-path',
    'leave-running',
    'tcp-established',
    'ext-unix-sk',
    'shell-job',
    'lazy-pages',
    'status-fd',
    'page-server',
    'file-locks',
    'pre-dump',
    'manage-cgroups-mode',
    'empty-ns',
    'auto-dedup',
  ]);
  assert.equal(flagsOf('restore'), [
    'console-socket',
    'image-path',
    'work-path',
    'tcp-established',
    'ext-unix-sk',
    'shell-job',
    'file-locks',
    'manage-cgroups-mode',
    'bundle/b',
    'detach/d',
    'pid-file',
    'no-subreaper',
    'no-pivot',
    'empty-ns',
    'auto-dedup',
    'lazy-pages',
    'lsm-profile',
    'lsm-mount-context',
  ]);
  for (const c of ['start', 'state', 'pause', 'resume', 'features', 'init', 'help']) assert.equal(flagsOf(c), [], c);
});

test('option objects are fresh per parse (no shared default arrays)', () => {
  const a = p('exec', 'ID', 'ls');
  if (a.command !== 'exec') throw new Error('narrowing');
  a.options.env.push('X=1');
  const b = p('exec', 'ID', 'ls');
  if (b.command !== 'exec') throw new Error('narrowing');
  assert.equal(b.options.env, []);
});

test('argv is not modified', () => {
  const argv = ['--root', '/r', 'create', 'ID', '--bundle', '/b'];
  const copy = [...argv];
  parseArgs(argv);
  assert.equal(argv, copy);
});

// --- helpers ---------------------------------------------------------------------

test('optionKey', () => {
  assert.is(optionKey('pid-file'), 'pidFile');
  assert.is(optionKey('l3-cache-schema'), 'l3CacheSchema');
  assert.is(optionKey('kernel-memory-tcp'), 'kernelMemoryTcp');
  assert.is(optionKey('debug'), 'debug');
});

test('parseGoInt', () => {
  assert.is(parseGoInt('9223372036854775807'), 9223372036854775807n);
  assert.is(parseGoInt('-9223372036854775808'), -9223372036854775808n);
  assert.is(parseGoInt('9223372036854775808'), 'range');
  assert.is(parseGoInt('-9223372036854775809'), 'range');
  assert.is(parseGoInt('99999999999999999999x'), 'range');
  assert.is(parseGoInt('0x'), 'syntax');
  assert.is(parseGoInt('0'), 0n);
  assert.is(parseGoInt('-0'), 0n);
  assert.is(parseGoInt('00'), 0n);
  assert.is(parseGoInt('08'), 'syntax');
  assert.is(parseGoInt('0X1F'), 31n);
  assert.is(parseGoInt('0x_1f'), 31n);
  assert.is(parseGoInt('_1'), 'syntax');
  assert.is(parseGoInt('1_'), 'syntax');
  assert.is(parseGoInt('1__0'), 'syntax');
  assert.is(parseGoInt('+-1'), 'syntax');
  assert.is(parseGoInt('+'), 'syntax');
  assert.is(parseGoInt('010', 10), 10n);
  assert.is(parseGoInt('0x10', 10), 'syntax');
});

test('parseGoDuration and formatGoDuration', () => {
  assert.is(parseGoDuration('5s'), 5000);
  assert.is(parseGoDuration('1h2m3s'), 3_723_000);
  assert.is(parseGoDuration('1.5s'), 1500);
  assert.is(parseGoDuration('.5s'), 500);
  assert.is(parseGoDuration('5.s'), 5000);
  assert.is(parseGoDuration('100us'), 0.1);
  assert.is(parseGoDuration('100µs'), 0.1);
  assert.is(parseGoDuration('1000000ns'), 1);
  assert.is(parseGoDuration('+5m'), 300_000);
  assert.is(parseGoDuration('-0'), 0);
  assert.is(parseGoDuration(''), undefined);
  assert.is(parseGoDuration('.s'), undefined);
  assert.is(parseGoDuration('5'), undefined);
  assert.is(parseGoDuration('5x'), undefined);
  assert.is(parseGoDuration('s'), undefined);
  assert.is(parseGoDuration('3000000h'), undefined);
  assert.is(formatGoDuration(5000), '5s');
  assert.is(formatGoDuration(0), '0s');
  assert.is(formatGoDuration(90_000), '1m30s');
  assert.is(formatGoDuration(3_723_000), '1h2m3s');
  assert.is(formatGoDuration(3_600_000), '1h0m0s');
  assert.is(formatGoDuration(1500), '1.5s');
  assert.is(formatGoDuration(250), '250ms');
});

test('goQuote', () => {
  assert.is(goQuote('FOO'), '"FOO"');
  assert.is(goQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.is(goQuote('\n\t\x01'), '"\\n\\t\\x01"');
  assert.is(goQuote(''), '""');
});

test('UsageError', () => {
  const e = new UsageError('boom');
  assert.instance(e, Error);
  assert.is(e.name, 'UsageError');
  assert.is(e.kind, 'value');
  assert.is(e.exitCode, 1);
  assert.is(e.command, undefined);
});

test.run();
