// linux.seccomp → the BPF program and seccomp(2) flags the launcher loads.
//
// resolveSeccomp is the whole policy, pure and unit-tested: OCI names become
// libseccomp's numbers, and runc's rules decide which libseccomp rules exist.
// compileSeccomp hands the result to libseccomp (through the addon), puts
// runc's -ENOSYS stub in front and checks what the kernel supports.
import type { LinuxSeccomp, LinuxSeccompAction } from '../spec/types.js';
import { PlanError } from '../launch/plan-error.js';
import { toUint64 } from '../spec/numbers.js';
import { native } from '../native.js';
import { encode, INSN_SIZE } from './bpf.js';
import { ACT, ACT_DATA_MAX, ACTIONS, ARCHES, BPF_MAXINSNS, ENOSYS, EPERM, FILTER_FLAG, FLAGS, OPERATORS, withData } from './consts.js';
import { enosysStub, type ArchInfo } from './enosys.js';

const AT = '/linux/seccomp';

/** One comparison; libseccomp ANDs the comparisons of one rule. */
export interface SeccompArgInput {
  index: number;
  /** libseccomp's scmp_compare. */
  op: number;
  value: bigint;
  valueTwo: bigint;
}

export interface SeccompRuleInput {
  name: string;
  /** SCMP_ACT_* code, with the errno or tracer message in its low 16 bits. */
  action: number;
  args: SeccompArgInput[];
}

/** What the addon's seccompCompile takes: the profile as plain numbers. */
export interface CompiledInput {
  /** SCMP_ACT_* code of the default action, errno included. */
  defaultAction: number;
  /** libseccomp architecture names, besides the native one that is always in. */
  architectures: string[];
  rules: SeccompRuleInput[];
  /** Every syscall name of the profile: bounds the -ENOSYS stub. */
  syscallNames: string[];
  /** Ask libseccomp for a binary tree of syscalls (long profiles). */
  binaryTree: boolean;
}

/** What the addon's seccompCompile returns. */
export interface AddonCompiled {
  /** libseccomp's program (struct sock_filter[], host byte order). */
  bpf: Buffer;
  /** Rule names libseccomp knows on no architecture, once each. */
  skipped: string[];
  /** The filter's architectures, native first. */
  archs: ArchInfo[];
}

export interface ResolvedSeccomp {
  input: CompiledInput;
  /** For each rule of input.rules, the JSON pointer of the syscalls entry it comes from. */
  ruleSources: string[];
  /** For each of input.architectures, its JSON pointer. */
  archSources: string[];
  /** SECCOMP_FILTER_FLAG_* bits to pass to seccomp(2), each with the pointer that asked for it. */
  flags: Array<{ bit: number; name: string; pointer: string }>;
  /**
   * runc's default when the profile has no `flags` at all: SPEC_ALLOW, if
   * the kernel has it. Not an error when it does not.
   */
  defaultSpecAllow: boolean;
  /** Some rule notifies a seccomp agent: the load needs NEW_LISTENER and the fd goes to listenerPath. */
  notify: boolean;
  /** Put the -ENOSYS stub in front (runc's patchbpf rule). */
  enosysStub: boolean;
}

export interface CompiledSeccomp {
  /** The program for SECCOMP_BPF: whole instructions, at most BPF_MAXINSNS. */
  bpf: Buffer;
  /** SECCOMP_FILTER_FLAG_* for SECCOMP_FLAGS (NEW_LISTENER included when notify). */
  flags: number;
  /** Syscall names libseccomp does not know, skipped as runc does (log them at debug level). */
  skipped: string[];
  /** The load returns a listener fd that must go to `listenerPath` (see notify.ts). */
  notify: boolean;
}

// The actions that take a 16-bit value: an errno, or a message for the tracer.
const DATA_ACTIONS = new Set<LinuxSeccompAction>(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE']);
// Actions that let the syscall run (possibly after a tracer looked): runc
// adds no -ENOSYS stub under them, since unknown syscalls are not refused.
const PERMISSIVE = new Set<LinuxSeccompAction>(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE']);

// Linux syscalls take at most six arguments.
const MAX_ARGS = 6;

// runc asks libseccomp for a binary tree above this many rules. libseccomp
// up to 2.5.4 builds a wrong tree for a filter without rules, and a short
// list gains nothing from it.
const BINARY_TREE_MIN_RULES = 32;

function action(name: LinuxSeccompAction, errnoRet: number | undefined, pointer: string, errnoPointer: string): number {
  const code = ACTIONS[name];
  if (code === undefined) throw new PlanError(pointer, `unknown seccomp action ${JSON.stringify(name)}`);
  if (!DATA_ACTIONS.has(name)) {
    // "When the action doesn't support an errno, the runtime MUST print an
    // error and fail" (config-linux.md).
    if (errnoRet !== undefined) throw new PlanError(errnoPointer, `applies only to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not ${name}`);
    return code;
  }
  // Unset means EPERM, for the tracer message too (runc's choice).
  const data = errnoRet ?? EPERM;
  if (!Number.isInteger(data) || data < 0 || data > ACT_DATA_MAX) {
    throw new PlanError(errnoPointer, `must be an integer from 0 to ${ACT_DATA_MAX} (seccomp returns 16 bits)`);
  }
  return withData(code, data);
}

/** The pure part: the profile as libseccomp input, validated, with JSON paths for every error. */
export function resolveSeccomp(s: LinuxSeccomp): ResolvedSeccomp {
  if (s.defaultAction === 'SCMP_ACT_NOTIFY') {
    // runc refuses it. The handover itself would survive it (the launcher
    // makes no syscall for it, see addon/launcher/seccomp.c), but the agent
    // would have to answer every syscall of the setup after the load, which
    // are hako's own business: such a profile would work nowhere else.
    throw new PlanError(`${AT}/defaultAction`, 'SCMP_ACT_NOTIFY cannot be the default action');
  }
  const defaultAction = action(s.defaultAction, s.defaultErrnoRet, `${AT}/defaultAction`, `${AT}/defaultErrnoRet`);

  const architectures: string[] = [];
  const archSources: string[] = [];
  (s.architectures ?? []).forEach((a, i) => {
    const name = ARCHES[a];
    if (name === undefined) throw new PlanError(`${AT}/architectures/${i}`, `unknown architecture ${JSON.stringify(a)}`);
    if (architectures.includes(name)) return;
    architectures.push(name);
    archSources.push(`${AT}/architectures/${i}`);
  });

  const flags: ResolvedSeccomp['flags'] = [];
  (s.flags ?? []).forEach((f, i) => {
    const bit = FLAGS[f];
    if (bit === undefined) throw new PlanError(`${AT}/flags/${i}`, `unknown seccomp flag ${JSON.stringify(f)}`);
    if (bit !== 0 && !flags.some((x) => x.bit === bit)) flags.push({ bit, name: f, pointer: `${AT}/flags/${i}` });
  });

  const rules: SeccompRuleInput[] = [];
  const ruleSources: string[] = [];
  const syscallNames: string[] = [];
  let notify = false;
  (s.syscalls ?? []).forEach((sc, i) => {
    const at = `${AT}/syscalls/${i}`;
    const act = action(sc.action, sc.errnoRet, `${at}/action`, `${at}/errnoRet`);
    if (!Array.isArray(sc.names) || sc.names.length === 0) throw new PlanError(`${at}/names`, 'must name at least one syscall');
    const args: SeccompArgInput[] = (sc.args ?? []).map((a, j) => {
      const op = OPERATORS[a.op];
      if (op === undefined) throw new PlanError(`${at}/args/${j}/op`, `unknown operator ${JSON.stringify(a.op)}`);
      if (!Number.isInteger(a.index) || a.index < 0 || a.index >= MAX_ARGS) {
        throw new PlanError(`${at}/args/${j}/index`, `must be an argument index from 0 to ${MAX_ARGS - 1}`);
      }
      return { index: a.index, op, value: toUint64(a.value), valueTwo: toUint64(a.valueTwo ?? 0) };
    });
    // libseccomp ANDs the comparisons of a rule, and takes at most one per
    // argument. Several on the same argument were once each a rule of their
    // own (ORed), and runc keeps that meaning: with a repeated index, every
    // comparison becomes a separate rule.
    const repeated = new Set(args.map((a) => a.index)).size !== args.length;
    const argSets = repeated ? args.map((a) => [a]) : [args];
    sc.names.forEach((name, j) => {
      if (typeof name !== 'string' || name === '') throw new PlanError(`${at}/names/${j}`, 'must be a syscall name');
      // NOTIFY for write is fine, as in crun: runc refuses it because its
      // init write(2)s the listener's number to its parent after the load,
      // and hako's launcher makes no syscall for the handover at all.
      if (sc.action === 'SCMP_ACT_NOTIFY') notify = true;
      syscallNames.push(name);
      // libseccomp refuses a rule that repeats the default action; runc
      // drops it silently, since it changes nothing.
      if (act === defaultAction) return;
      for (const set of argSets) {
        rules.push({ name, action: act, args: set.map((a) => ({ ...a })) });
        ruleSources.push(at);
      }
    });
  });
  if (notify && !s.listenerPath) {
    // runc only fails once the filter is loaded; say so before anything runs.
    throw new PlanError(`${AT}/listenerPath`, 'is required when a rule uses SCMP_ACT_NOTIFY');
  }
  if (notify) flags.push({ bit: FILTER_FLAG.NEW_LISTENER, name: 'SCMP_ACT_NOTIFY', pointer: `${AT}/syscalls` });
  else {
    // The kernel takes WAIT_KILLABLE_RECV only with a listener, and without
    // one it has nothing to change: drop it rather than fail the load.
    const i = flags.findIndex((f) => f.bit === FILTER_FLAG.WAIT_KILLABLE_RECV);
    if (i >= 0) flags.splice(i, 1);
  }

  return {
    input: {
      defaultAction,
      architectures,
      rules,
      syscallNames,
      binaryTree: rules.length > BINARY_TREE_MIN_RULES,
    },
    ruleSources,
    archSources,
    flags,
    defaultSpecAllow: s.flags === undefined,
    notify,
    // runc skips the stub under permissive defaults, and it would be a no-op
    // when the default already answers ENOSYS.
    enosysStub: !PERMISSIVE.has(s.defaultAction) && defaultAction !== withData(ACT.ERRNO, ENOSYS),
  };
}

/** What compileSeccomp needs from the addon; tests may substitute it. */
export interface SeccompBackend {
  seccompCompile(input: CompiledInput): AddonCompiled;
  seccompFlagSupported(flags: number): boolean;
}

/**
 * The program and flags for the launcher. Throws a PlanError naming the
 * JSON path when libseccomp or the kernel refuses part of the profile.
 */
export function compileSeccomp(s: LinuxSeccomp, backend: SeccompBackend = native()): CompiledSeccomp {
  const r = resolveSeccomp(s);
  let flags = 0;
  for (const f of r.flags) {
    if (!backend.seccompFlagSupported(f.bit)) {
      throw new PlanError(f.pointer, `${f.name} is not supported by this kernel`);
    }
    flags |= f.bit;
  }
  if (r.defaultSpecAllow && backend.seccompFlagSupported(FILTER_FLAG.SPEC_ALLOW)) flags |= FILTER_FLAG.SPEC_ALLOW;

  let out: AddonCompiled;
  try {
    out = backend.seccompCompile(r.input);
  } catch (e) {
    throw addonError(e, r);
  }
  const stub = r.enosysStub ? encode(enosysStub(out.archs)) : Buffer.alloc(0);
  const bpf = Buffer.concat([stub, out.bpf]);
  const count = bpf.length / INSN_SIZE;
  if (!Number.isInteger(count) || count === 0) throw new PlanError(AT, `libseccomp produced a malformed program (${bpf.length} bytes)`);
  if (count > BPF_MAXINSNS) {
    throw new PlanError(AT, `the filter needs ${count} BPF instructions, more than the kernel's limit of ${BPF_MAXINSNS}`);
  }
  return { bpf, flags, skipped: out.skipped, notify: r.notify };
}

function addonError(e: unknown, r: ResolvedSeccomp): unknown {
  if (!(e instanceof Error)) return e;
  const info = e as Error & { rule?: number; architecture?: number };
  if (typeof info.rule === 'number' && r.ruleSources[info.rule] !== undefined) {
    return new PlanError(r.ruleSources[info.rule]!, e.message);
  }
  if (typeof info.architecture === 'number' && r.archSources[info.architecture] !== undefined) {
    return new PlanError(r.archSources[info.architecture]!, e.message);
  }
  if (e instanceof TypeError) return e; // our own bug: keep the stack
  return new PlanError(AT, e.message);
}
