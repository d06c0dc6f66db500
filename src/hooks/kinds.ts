// The hook kinds hako runs, and the container status each one is told.

import type { ContainerStatus } from '../spec/types.js';

/** Every hook kind of config.md, in lifecycle order; all of them are run (features lists these). */
export const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;

export type HookKind = (typeof HOOK_KINDS)[number];

/**
 * The `status` in the state a hook reads on stdin.
 *
 * prestart, createRuntime and createContainer say "creating". runtime.md
 * defines "created" as the state after the create operation has finished,
 * and these hooks are steps of that operation: the lifecycle lists them
 * before create returns, and a failing one makes create fail and the
 * container go away. So while they run the container is still being
 * created. runc says the same (StateCreating for all three, in
 * process_linux.go and rootfs_linux.go), and so do the tools built on it.
 * runtime-tools' hooks_stdin test expects "created" for prestart; it dates
 * from spec 1.0.0, when prestart ran at start, after create had returned.
 *
 * startContainer runs after create has returned, at start, before the
 * user's program: "created" (runc: StateCreated). poststart: "running";
 * poststop: "stopped".
 */
export const HOOK_STATUS: Readonly<Record<HookKind, ContainerStatus>> = {
  prestart: 'creating',
  createRuntime: 'creating',
  createContainer: 'creating',
  startContainer: 'created',
  poststart: 'running',
  poststop: 'stopped',
};
