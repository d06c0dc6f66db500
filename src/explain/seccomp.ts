// linux.seccomp summarised for `hako explain`: the profile's shape (its
// default action, how many syscall names each action gets) and what
// compileSeccomp made of it (the program's size, the flags seccomp(2)
// gets, the names libseccomp skipped). Pure: the compiled filter is
// create's own (src/seccomp/compile.ts).
import type { LinuxSeccomp } from '../spec/types.js';
import { resolveSeccomp, type CompiledSeccomp } from '../seccomp/compile.js';
import { seccompFlagNames } from './names.js';

export interface SeccompSummary {
  /** With its errno when the profile gives one: "SCMP_ACT_ERRNO(38)". */
  defaultAction: string;
  architectures: string[];
  /** Syscall names per action, as the profile lists them ("SCMP_ACT_ERRNO(1)" when an errno is given). */
  syscallsPerAction: Record<string, number>;
  /** libseccomp rules (a name with several argument conditions on one index counts once per condition; names under the default action none). */
  rules: number;
  /** runc's -ENOSYS stub in front of libseccomp's program. */
  enosysStub: boolean;
  /** The program loaded: BPF instructions (8 bytes each). */
  instructions: number;
  bytes: number;
  /** SECCOMP_FILTER_FLAG_* passed to seccomp(2). */
  flags: string[];
  /** Names libseccomp does not know, left out. */
  skipped: string[];
  /** SCMP_ACT_NOTIFY: where the listener goes. */
  listenerPath?: string;
}

function actionKey(action: string, errnoRet: number | undefined): string {
  return errnoRet === undefined ? action : `${action}(${errnoRet})`;
}

export function seccompSummary(s: LinuxSeccomp, compiled: CompiledSeccomp): SeccompSummary {
  const resolved = resolveSeccomp(s);
  const perAction: Record<string, number> = {};
  for (const sc of s.syscalls ?? []) {
    const k = actionKey(sc.action, sc.errnoRet);
    perAction[k] = (perAction[k] ?? 0) + sc.names.length;
  }
  return {
    defaultAction: actionKey(s.defaultAction, s.defaultErrnoRet),
    architectures: [...(s.architectures ?? [])],
    syscallsPerAction: perAction,
    rules: resolved.input.rules.length,
    enosysStub: resolved.enosysStub,
    instructions: compiled.bpf.length / 8,
    bytes: compiled.bpf.length,
    flags: seccompFlagNames(compiled.flags),
    skipped: [...compiled.skipped],
    ...(s.listenerPath ? { listenerPath: s.listenerPath } : {}),
  };
}
