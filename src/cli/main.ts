// The hako command: parse like runc, call the library, print like runc.
// This is the only place that prints or exits.
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, parseBoolOrAuto, UsageError, type GlobalOptions, type ParsedArgs, type CreateOptions as CliCreateOptions } from './args.js';
import type { CreateOptions } from '../container/create.js';
import { helpFor, usageErrorText, versionText } from './help.js';
import { parseSignal } from './signals.js';
import { leaveDeletedCwd, relativePathFlags } from './cwd.js';
import { HakoError, describe, systemReason } from '../errors.js';
import { Logger } from '../log.js';
import type { RuntimeContext } from '../container/context.js';
import { DEFAULT_ROOT } from '../container/store.js';
import { defaultRoot, identity, rootlessCgroups } from '../container/rootless.js';
import { stderr, stdout } from '../output.js';

// Commands that decide anything by --rootless (runc parses it only there,
// so a bad value does not break `state` or `list`).
const USES_ROOTLESS = new Set(['create', 'run', 'exec', 'ps', 'update', 'pause', 'resume', 'events', 'kill', 'delete']);

const VERSION = process.env.HAKO_VERSION ?? '0.0.0-dev';
const COMMIT = process.env.HAKO_COMMIT ?? 'unknown';
const SPEC_VERSION = '1.3.0';

function out(s: string): boolean {
  return stdout(s);
}

/** Go's tabwriter as runc's list uses it: minwidth 12, padding 3. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(12, ...rows.map((r) => (r[i] ?? '').length + 3)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('') + '\n').join('');
}

async function dispatch(p: ParsedArgs, ctx: RuntimeContext): Promise<number> {
  const id = p.positional[0] ?? '';
  switch (p.command) {
    case 'create': {
      const { create } = await import('../container/create.js');
      await create(ctx, id, { ...createOptions(p.options), systemdCgroup: p.global.systemdCgroup });
      return 0;
    }
    case 'run': {
      const { run } = await import('../container/run.js');
      return run(ctx, id, { ...createOptions(p.options), systemdCgroup: p.global.systemdCgroup, detach: p.options.detach, keep: p.options.keep });
    }
    case 'start': {
      const { start } = await import('../container/start.js');
      await start(ctx, id);
      return 0;
    }
    case 'state': {
      const { state } = await import('../container/query.js');
      // No newline after the closing brace: runc's has none.
      out(JSON.stringify(state(ctx, id), null, '  '));
      return 0;
    }
    case 'list': {
      const { list } = await import('../container/query.js');
      const { ownerName, ownerUid } = await import('../container/rootless.js');
      // runc's OWNER: whoever owns the state directory (so a rootless
      // user's containers show that user), "#uid" without a passwd entry.
      const all = list(ctx).map((s) => {
        const uid = ownerUid(path.join(ctx.root, s.id));
        return { ...s, owner: s.owner || (uid === undefined ? '' : ownerName(uid)) };
      });
      const o = p.options;
      if (o.quiet) {
        out(all.map((s) => s.id + '\n').join(''));
      } else if (o.format === 'json') {
        out(JSON.stringify(all.length ? all : null) + '\n');
      } else if (o.format === 'table' || o.format === '') {
        out(table([['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...all.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])]));
      } else {
        throw new HakoError(`invalid format option: ${o.format}`, 'usage');
      }
      return 0;
    }
    case 'kill': {
      const { killContainer } = await import('../container/kill.js');
      let sig: number;
      try {
        sig = parseSignal(p.positional[1] ?? 'SIGTERM');
      } catch (e) {
        throw new HakoError(describe(e), 'usage');
      }
      killContainer(ctx, id, sig, { all: p.options.all });
      return 0;
    }
    case 'delete': {
      const { deleteContainer } = await import('../container/delete.js');
      await deleteContainer(ctx, id, { force: p.options.force });
      return 0;
    }
    case 'spec': {
      const { defaultSpec, specJson } = await import('../spec/default.js');
      const dir = p.options.bundle || '.';
      bundleDirectory(dir);
      const file = path.join(dir, 'config.json');
      if (existsSync(file)) throw new HakoError(`File ${file} exists. Remove it first`, 'usage');
      try {
        writeFileSync(file, specJson(defaultSpec({ rootless: p.options.rootless })));
      } catch (e) {
        throw new HakoError(`cannot write ${file}: ${systemReason(e)}`);
      }
      return 0;
    }
    case 'features': {
      const { features } = await import('../features.js');
      const { criuUsable } = await import('../checkpoint/available.js');
      out(JSON.stringify(features({ checkpoint: criuUsable(p.global.criu) === true }), null, '    ') + '\n');
      return 0;
    }
    case 'exec': {
      const o = p.options;
      const { exec } = await import('../container/exec.js');
      try {
        return await exec(ctx, id, {
          args: p.positional.slice(1),
          processFile: o.process ? path.resolve(o.process) : undefined,
          cwd: o.cwd || undefined,
          env: o.env,
          tty: o.tty,
          user: o.user || undefined,
          additionalGids: o.additionalGids,
          caps: o.cap,
          noNewPrivs: o.noNewPrivs,
          apparmor: o.apparmor || undefined,
          processLabel: o.processLabel || undefined,
          consoleSocket: o.consoleSocket ? path.resolve(o.consoleSocket) : undefined,
          pidfdSocket: o.pidfdSocket ? path.resolve(o.pidfdSocket) : undefined,
          cgroup: o.cgroup,
          detach: o.detach,
          pidFile: o.pidFile ? path.resolve(o.pidFile) : undefined,
          preserveFds: Math.max(0, o.preserveFds),
          ignorePaused: o.ignorePaused,
        });
      } catch (e) {
        // runc's words and status for anything that keeps the process from
        // running; podman and Docker look for the cause's text in it.
        throw new HakoError(`exec failed: ${describe(e)}`, e instanceof HakoError ? e.kind : 'system', 255);
      }
    }
    case 'ps': {
      const { processes, pidsJson, psTable } = await import('../container/ps.js');
      const pids = processes(ctx, id);
      const format = p.options.format;
      if (format === 'json') out(pidsJson(pids));
      else if (format === 'table') out(psTable(pids, p.positional.slice(1)));
      else throw new HakoError('invalid format option', 'usage');
      return 0;
    }
    case 'pause':
    case 'resume': {
      const { pause, resume } = await import('../container/pause.js');
      (p.command === 'pause' ? pause : resume)(ctx, id);
      return 0;
    }
    case 'update': {
      const { updateRequest, UpdateFlagError } = await import('./update-flags.js');
      const { update, readResourcesDocument, STDIN_NAME } = await import('../container/update.js');
      let req;
      try {
        req = updateRequest(p.options, p.explicit.options);
      } catch (e) {
        throw e instanceof UpdateFlagError ? new HakoError(e.message, 'usage') : e;
      }
      for (const w of req.warnings) ctx.log('warn', w);
      const file = req.file;
      update(ctx, id, file === undefined ? req.resources : () => readResourcesDocument(file), {
        source: file === undefined ? 'update flags' : file === '-' ? STDIN_NAME : file,
      });
      return 0;
    }
    case 'events': {
      const { statsEvent, streamEvents } = await import('../container/events.js');
      if (p.options.stats) {
        out(statsEvent(ctx, id, p.options.interval) + '\n');
        return 0;
      }
      // A reader that goes away ends the stream (runc dies of EPIPE).
      const stop = new AbortController();
      await streamEvents(ctx, id, {
        intervalMs: p.options.interval,
        emit: (line) => {
          if (!out(line + '\n')) stop.abort();
        },
        signal: stop.signal,
      });
      return 0;
    }
    // checkpoint/restore (src/checkpoint/): criu does the work.
    case 'checkpoint': {
      const { checkpoint } = await import('../checkpoint/checkpoint.js');
      await checkpoint({ ...ctx, criu: p.global.criu }, id, p.options);
      return 0;
    }
    case 'restore': {
      const { restore } = await import('../checkpoint/restore.js');
      return restore({ ...ctx, criu: p.global.criu, systemdCgroup: p.global.systemdCgroup }, id, p.options);
    }
    case 'init':
      throw new HakoError('init is internal to runc; hako has no such step', 'usage');
    default:
      throw new HakoError(`unknown command ${String(p.command)}`, 'usage');
  }
}

/** spec's --bundle must be a directory that exists (runc's chdir into it fails otherwise). */
function bundleDirectory(dir: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    throw new HakoError(`bundle directory ${dir}: ${systemReason(e)}`);
  }
  if (!isDir) throw new HakoError(`bundle directory ${dir}: not a directory`);
}

/** The flags create and run share, with paths made absolute as runc does. */
function createOptions(o: CliCreateOptions): CreateOptions {
  return {
    bundle: o.bundle || '.',
    pidFile: o.pidFile ? path.resolve(o.pidFile) : undefined,
    noPivot: o.noPivot,
    noNewKeyring: o.noNewKeyring,
    preserveFds: Math.max(0, o.preserveFds),
    consoleSocket: o.consoleSocket ? path.resolve(o.consoleSocket) : undefined,
    pidfdSocket: o.pidfdSocket ? path.resolve(o.pidfdSocket) : undefined,
  };
}

// The caller's working directory was deleted (src/cli/cwd.ts): hako is in
// "/", and relative paths are refused.
let cwdDeleted = false;

function loggerFor(g: GlobalOptions): Logger {
  // A relative --log from a deleted directory is nowhere: stderr gets it all.
  const file = g.log && !(cwdDeleted && !g.log.startsWith('/')) ? g.log : undefined;
  return new Logger({ file, format: g.logFormat === 'json' ? 'json' : 'text', debug: g.debug });
}

async function main(argv: string[]): Promise<number> {
  cwdDeleted = leaveDeletedCwd();
  let p: ParsedArgs;
  // runc's default root: $XDG_RUNTIME_DIR/hako for an unprivileged user.
  const root0 = defaultRoot(process.env, identity(), DEFAULT_ROOT);
  try {
    p = parseArgs(argv, { defaultRoot: root0.root });
  } catch (e) {
    if (e instanceof UsageError) {
      const text = usageErrorText(e, { defaultRoot: root0.root });
      if (text) out(text);
      // Logged as the global flags say once they parsed (runc's Before
      // hook has run by then); plain text before.
      (e.global ? loggerFor(e.global) : new Logger({ format: 'text', debug: false })).error(e.message);
      return e.exitCode;
    }
    throw e;
  }
  if (p.version) {
    out(versionText(VERSION, [`commit: ${COMMIT}`, `spec: ${SPEC_VERSION}`]));
    return 0;
  }
  // podman asks `checkpoint --help` whether a runtime can checkpoint (exit 0
  // means yes): where criu cannot work, hako says so rather than print help.
  if (p.helpFlag && (p.command === 'checkpoint' || p.command === 'restore')) {
    const { criuUsable } = await import('../checkpoint/available.js');
    const usable = criuUsable(p.global.criu);
    if (usable !== true) {
      stderr(`hako: ${p.command} is not supported here: ${usable}\n`);
      return 1;
    }
  }
  if (p.help || p.command === 'help' || p.command === undefined) {
    out(helpFor(p, { defaultRoot: root0.root }));
    return 0;
  }
  const logger = loggerFor(p.global);
  const ctx: RuntimeContext = {
    root: path.resolve(p.global.root || DEFAULT_ROOT),
    debug: p.global.debug,
    log: logger.log,
  };
  try {
    if (root0.xdg && !p.explicit.global.has('root')) {
      // XDG: what is to stay in $XDG_RUNTIME_DIR gets the sticky bit, or
      // the session's cleanup may remove it (runc does the same).
      try {
        mkdirSync(ctx.root, { recursive: true, mode: 0o700 });
        chmodSync(ctx.root, 0o1700);
      } catch (e) {
        throw new HakoError(`state root ${ctx.root}: ${describe(e)}: the directory in $XDG_RUNTIME_DIR must be writable by the user`);
      }
    }
    const relative = cwdDeleted ? relativePathFlags(p) : [];
    if (relative.length) {
      throw new HakoError(`the working directory was deleted, so relative paths cannot be resolved: ${relative.join(', ')} (give absolute paths)`, 'usage');
    }
    if (p.command && USES_ROOTLESS.has(p.command)) {
      let flag: boolean | undefined;
      try {
        flag = parseBoolOrAuto(p.global.rootless);
      } catch (e) {
        throw new HakoError(`--rootless: ${describe(e)}`, 'usage');
      }
      ctx.rootless = rootlessCgroups(flag, identity());
    }
    return await dispatch(p, ctx);
  } catch (e) {
    logger.error(describe(e));
    return e instanceof HakoError ? e.exitCode : 1;
  }
}

// A write to a pipe nobody reads must fail with EPIPE, never kill hako
// half-way through an operation. Both engines ignore SIGPIPE at start, but
// Bun puts back the default action once the last listener of a signal is
// removed (the foreground signal forwarder does that), so keep one for good.
// A handler, unlike SIG_IGN, is not inherited by the launcher or hooks.
process.on('SIGPIPE', () => {});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    stderr(`hako: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
