// Hooks that run in the runtime's namespaces (prestart, createRuntime,
// poststart, poststop): the container state on stdin, the hook's own args
// and env, a timeout. Output is captured, like runc, and shown on failure.
import { spawn } from 'node:child_process';
import type { Hook } from '../spec/types.js';
import { describe, InnerError } from '../errors.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

import type { HookKind } from './kinds.js';

export type { HookKind };

/** A hook failed (a system error); the operation names the container. */
export class HookError extends InnerError {
  constructor(
    readonly hook: HookKind,
    readonly index: number,
    message: string,
  ) {
    super(message, 'system');
    this.name = 'HookError';
  }
}

function envObject(env: readonly string[] | undefined): Record<string, string> {
  const o: Record<string, string> = {};
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) o[e.slice(0, i)] = e.slice(i + 1);
  }
  return o;
}

function tail(b: Buffer): string {
  const s = b
    .toString('utf8')
    .trim()
    .replace(/\s*\n\s*/g, ' | ');
  return s.length > 300 ? '…' + s.slice(-300) : s;
}

export function runHook(kind: HookKind, index: number, hook: Hook, stateJson: string): Promise<void> {
  const which = `${kind} hook #${index} (${hook.path})`;
  return new Promise((resolve, reject) => {
    const args = hook.args?.length ? hook.args : [hook.path];
    const child = spawn(hook.path, args.slice(1), {
      argv0: args[0],
      env: envObject(hook.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    // A hook that ignores stdin may exit before we finish writing it.
    child.stdin.on('error', () => {});
    child.stdin.end(stateJson);
    let timedOut = false;
    // Timers hold 2^31-1 ms (24.8 days); the engines turn a longer one
    // into 1 ms, with a warning on stderr. A longer timeout is none.
    const timer =
      hook.timeout && hook.timeout > 0 && hook.timeout * 1000 <= MAX_TIMER_MS
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, hook.timeout * 1000)
        : null;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new HookError(kind, index, `${which}: ${describe(e)}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (timedOut) return reject(new HookError(kind, index, `${which}: timed out after ${hook.timeout}s`));
      if (code === 0) return resolve();
      const why = signal ? `killed by ${signal}` : `exit status ${code}`;
      const o = tail(Buffer.concat(out));
      const e = tail(Buffer.concat(err));
      reject(new HookError(kind, index, `${which}: ${why}${o ? `, stdout: ${o}` : ''}${e ? `, stderr: ${e}` : ''}`));
    });
  });
}

/** Runs hooks in order; the first failure stops the rest and is thrown. */
export async function runHooks(kind: HookKind, hooks: readonly Hook[] | undefined, stateJson: string): Promise<void> {
  for (const [i, h] of (hooks ?? []).entries()) await runHook(kind, i, h, stateJson);
}

/** Runs every hook; failures are returned (poststop: warn and go on). */
export async function runHooksAll(kind: HookKind, hooks: readonly Hook[] | undefined, stateJson: string): Promise<HookError[]> {
  const errors: HookError[] = [];
  for (const [i, h] of (hooks ?? []).entries()) {
    try {
      await runHook(kind, i, h, stateJson);
    } catch (e) {
      errors.push(e as HookError);
    }
  }
  return errors;
}
