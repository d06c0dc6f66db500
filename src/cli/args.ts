// runc-compatible command line parsing.
//
// runc 1.1.5 uses urfave/cli v1 on top of Go's `flag` package, and callers
// (podman/conmon, containerd's shim, scripts written against runc) depend on
// its exact behaviour, so this module reproduces it rather than following
// GNU getopt conventions:
//
//  * Global flags come before the command name; Go's flag parser stops at
//    the first non-flag argument, which is the command.
//  * `-flag` and `--flag` are the same; values are given as `--flag value`
//    or `--flag=value`. Booleans never take a separate value, only
//    `--flag=false`. There is no bundling of short flags (`-dt` is an error).
//  * Command flags may also appear after positional arguments: urfave moves
//    every argument naming a *defined* flag (plus the following argument as
//    its possible value, unless that is itself a defined flag) in front of
//    the others before handing them to Go's parser. This is urfave
//    v1.22.9's reorderArgs, the version the installed Debian runc is built
//    with. `exec` and `ps` switch this off (the arguments after the
//    container id belong to the process / to ps(1)).
//  * An alias used together with its long form is an error ("Cannot use two
//    forms of the same flag").
//  * Error messages are byte-for-byte those of Go's flag package and runc,
//    since callers and users may match on them.
//
// Everything here is pure: nothing is printed, nothing exits; problems are
// reported by throwing UsageError.

/** Which of runc's error paths a UsageError corresponds to; help.ts uses it
 * to reproduce what runc prints on stdout before exiting. */
export type UsageErrorKind =
  /** bad global flag: runc prints "Incorrect Usage. <msg>" and the app help */
  | 'global-flag'
  /** an alias used with its long form among the global flags: runc prints
   * "<msg>" and the app help */
  | 'global-conflict'
  /** bad command flag: "Incorrect Usage: <msg>" and the command's help */
  | 'flag'
  /** wrong number of arguments: "Incorrect Usage." and the command's help */
  | 'arity'
  /** no such command: only the message, exit status 3 */
  | 'unknown-command'
  /** a value that parses but is not acceptable: only the message */
  | 'value';

export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly kind: UsageErrorKind = 'value',
    /** The command whose help goes with this error (kinds 'flag', 'arity'). */
    readonly command?: string,
    /** runc exits 3 for an unknown command and 1 for everything else. */
    readonly exitCode: number = 1,
  ) {
    super(message);
  }

  /** The global flags, once they parsed: how to log this error. */
  global?: GlobalOptions;
}

// ---------------------------------------------------------------------------
// The declarative table.

export type FlagType = 'bool' | 'string' | 'int' | 'stringArray' | 'intArray' | 'duration';

export interface FlagSpec {
  /** Long name, without dashes. Also the basis of the option key (camelCase). */
  readonly name: string;
  /** Other names, in runc's order; one-letter names print as `-x`. */
  readonly aliases?: readonly string[];
  /**
   * bool: no value. string: any string. int: Go ParseInt base 0 (`10`,
   * `0x1f`, `0o17`, `017`, `1_000`), int64 range, and here additionally a
   * JS safe integer. intArray: repeatable, each a base-10 int64 (urfave's
   * Int64Slice). stringArray: repeatable. duration: Go duration syntax
   * (`5s`, `1m30s`, `250ms`), stored as milliseconds.
   */
  readonly type: FlagType;
  /** Value when the flag is absent; defaults to false / '' / 0 / [] by type. */
  readonly default?: boolean | string | number;
  /** Absent means `undefined` rather than a default: for flags whose mere
   * presence matters (runc uses context.IsSet for them). */
  readonly optional?: boolean;
  readonly help: string;
  /** Accepted but not listed in help (runc's obsolete flags). */
  readonly hidden?: boolean;
}

/** Argument count rules, checked in this order, each with runc's message. */
export interface Arity {
  readonly exact?: number;
  readonly min?: number;
  readonly max?: number;
}

export interface CommandSpec {
  readonly name: CommandName;
  readonly aliases?: readonly string[];
  /** One line, shown in the command list. */
  readonly usage: string;
  /** Text after "[command options]" in the USAGE section. */
  readonly argsUsage: string;
  readonly description?: string;
  readonly flags: readonly FlagSpec[];
  readonly arity: Arity;
  /** Flags are only recognised before the first positional argument. */
  readonly skipArgReorder?: boolean;
  /** No flags at all (not even --help): everything is positional. */
  readonly skipFlagParsing?: boolean;
  /** Not listed in help and not a help topic (internal commands). */
  readonly hidden?: boolean;
}

const f = <const T extends FlagSpec>(spec: T): T => spec;

// Flags shared by several commands, with runc's wording.
const BUNDLE = f({
  name: 'bundle',
  aliases: ['b'],
  type: 'string',
  help: 'path to the root of the bundle directory, defaults to the current directory',
});
const CONSOLE_SOCKET = f({
  name: 'console-socket',
  type: 'string',
  help: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal",
});
// --pidfd-socket (runc 1.2): the process sends a pidfd of itself there
// (addon/launcher/pidfdsend.c).
const PIDFD_SOCKET_INIT = f({
  name: 'pidfd-socket',
  type: 'string',
  help: 'path to an AF_UNIX socket which will receive a file descriptor referencing the init process',
});
const PIDFD_SOCKET_EXEC = f({
  name: 'pidfd-socket',
  type: 'string',
  help: 'path to an AF_UNIX socket which will receive a file descriptor referencing the exec process',
});
const PID_FILE = f({ name: 'pid-file', type: 'string', help: 'specify the file to write the process id to' });
const NO_PIVOT = f({
  name: 'no-pivot',
  type: 'bool',
  help: 'do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk',
});
const NO_NEW_KEYRING = f({
  name: 'no-new-keyring',
  type: 'bool',
  help: 'do not create a new session keyring for the container.  This will cause the container to inherit the calling processes session key',
});
const PRESERVE_FDS = f({
  name: 'preserve-fds',
  type: 'int',
  help: 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)',
});
const DETACH = f({ name: 'detach', aliases: ['d'], type: 'bool', help: "detach from the container's process" });
const NO_SUBREAPER = f({
  name: 'no-subreaper',
  type: 'bool',
  help: 'disable the use of the subreaper used to reap reparented processes',
});
const FORMAT = f({
  name: 'format',
  aliases: ['f'],
  type: 'string',
  default: 'table',
  help: 'select one of: table or json',
});
const TCP_ESTABLISHED = f({ name: 'tcp-established', type: 'bool', help: 'allow open tcp connections' });
const EXT_UNIX_SK = f({ name: 'ext-unix-sk', type: 'bool', help: 'allow external unix sockets' });
const SHELL_JOB = f({ name: 'shell-job', type: 'bool', help: 'allow shell jobs' });
const LAZY_PAGES = f({ name: 'lazy-pages', type: 'bool', help: 'use userfaultfd to lazily restore memory pages' });
const FILE_LOCKS = f({ name: 'file-locks', type: 'bool', help: 'handle file locks, for safety' });
const MANAGE_CGROUPS_MODE = f({
  name: 'manage-cgroups-mode',
  type: 'string',
  help: "cgroups mode: 'soft' (default), 'full' and 'strict'",
});
const EMPTY_NS = f({
  name: 'empty-ns',
  type: 'stringArray',
  help: "create a namespace, but don't restore its properties",
});
const AUTO_DEDUP = f({ name: 'auto-dedup', type: 'bool', help: 'enable auto deduplication of memory images' });
const WORK_PATH = f({ name: 'work-path', type: 'string', help: 'path for saving work files and logs' });

/** Default for --root; runc's is /run/runc. */
export const DEFAULT_ROOT = '/run/hako';

export const GLOBAL_FLAGS = [
  f({ name: 'debug', type: 'bool', help: 'enable debug logging' }),
  f({ name: 'log', type: 'string', help: "set the log file to write hako logs to (default is '/dev/stderr')" }),
  f({
    name: 'log-format',
    type: 'string',
    default: 'text',
    help: "set the log format ('text' (default), or 'json')",
  }),
  f({
    name: 'root',
    type: 'string',
    default: DEFAULT_ROOT,
    help: 'root directory for storage of container state (this should be located in tmpfs)',
  }),
  f({
    name: 'criu',
    type: 'string',
    default: 'criu',
    help: 'path to the criu binary used for checkpoint and restore',
  }),
  f({
    name: 'systemd-cgroup',
    type: 'bool',
    help: 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name" for e.g. "system.slice:hako:434234"',
  }),
  f({
    name: 'rootless',
    type: 'string',
    default: 'auto',
    help: "ignore cgroup permission errors ('true', 'false', or 'auto')",
  }),
] as const satisfies readonly FlagSpec[];

// urfave adds these to the app (help and version) and to every command
// (help only); they are part of reordering and of the alias-conflict check.
export const HELP_FLAG = f({ name: 'help', aliases: ['h'], type: 'bool', help: 'show help' });
export const VERSION_FLAG = f({ name: 'version', aliases: ['v'], type: 'bool', help: 'print the version' });

export const CHECKPOINT_FLAGS = [
  f({ name: 'image-path', type: 'string', help: 'path for saving criu image files' }),
  WORK_PATH,
  f({ name: 'parent-path', type: 'string', help: 'path for previous criu image files in pre-dump' }),
  f({ name: 'leave-running', type: 'bool', help: 'leave the process running after checkpointing' }),
  TCP_ESTABLISHED,
  EXT_UNIX_SK,
  SHELL_JOB,
  LAZY_PAGES,
  f({
    name: 'status-fd',
    type: 'int',
    default: -1,
    help: 'criu writes \\0 to this FD once lazy-pages is ready',
  }),
  f({ name: 'page-server', type: 'string', help: 'ADDRESS:PORT of the page server' }),
  FILE_LOCKS,
  f({
    name: 'pre-dump',
    type: 'bool',
    help: "dump container's memory information only, leave the container running after this",
  }),
  MANAGE_CGROUPS_MODE,
  EMPTY_NS,
  AUTO_DEDUP,
] as const satisfies readonly FlagSpec[];

export const CREATE_FLAGS = [
  BUNDLE,
  CONSOLE_SOCKET,
  PIDFD_SOCKET_INIT,
  PID_FILE,
  NO_PIVOT,
  NO_NEW_KEYRING,
  PRESERVE_FDS,
] as const satisfies readonly FlagSpec[];

export const DELETE_FLAGS = [
  f({
    name: 'force',
    aliases: ['f'],
    type: 'bool',
    help: 'Forcibly deletes the container if it is still running (uses SIGKILL)',
  }),
] as const satisfies readonly FlagSpec[];

export const EVENTS_FLAGS = [
  f({ name: 'interval', type: 'duration', default: 5000, help: 'set the stats collection interval' }),
  f({ name: 'stats', type: 'bool', help: "display the container's stats then exit" }),
] as const satisfies readonly FlagSpec[];

export const EXEC_FLAGS = [
  CONSOLE_SOCKET,
  PIDFD_SOCKET_EXEC,
  f({ name: 'cwd', type: 'string', help: 'current working directory in the container' }),
  f({ name: 'env', aliases: ['e'], type: 'stringArray', help: 'set environment variables' }),
  f({ name: 'tty', aliases: ['t'], type: 'bool', help: 'allocate a pseudo-TTY' }),
  f({ name: 'user', aliases: ['u'], type: 'string', help: 'UID (format: <uid>[:<gid>])' }),
  f({ name: 'additional-gids', aliases: ['g'], type: 'intArray', help: 'additional gids' }),
  f({ name: 'process', aliases: ['p'], type: 'string', help: 'path to the process.json' }),
  DETACH,
  PID_FILE,
  f({
    name: 'process-label',
    type: 'string',
    help: 'set the asm process label for the process commonly used with selinux',
  }),
  f({ name: 'apparmor', type: 'string', help: 'set the apparmor profile for the process' }),
  // runc only overrides process.noNewPrivileges when the flag is given
  // (context.IsSet), so absent must stay distinguishable from false.
  f({
    name: 'no-new-privs',
    type: 'bool',
    optional: true,
    help: 'set the no new privileges value for the process',
  }),
  f({
    name: 'cap',
    aliases: ['c'],
    type: 'stringArray',
    help: 'add a capability to the bounding set for the process',
  }),
  PRESERVE_FDS,
  f({
    name: 'cgroup',
    type: 'stringArray',
    help: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>.',
  }),
  f({ name: 'ignore-paused', type: 'bool', help: 'allow exec in a paused container' }),
] as const satisfies readonly FlagSpec[];

export const KILL_FLAGS = [
  f({
    name: 'all',
    aliases: ['a'],
    type: 'bool',
    help: 'send the specified signal to all processes inside the container',
  }),
] as const satisfies readonly FlagSpec[];

export const LIST_FLAGS = [
  FORMAT,
  f({ name: 'quiet', aliases: ['q'], type: 'bool', help: 'display only container IDs' }),
] as const satisfies readonly FlagSpec[];

export const PS_FLAGS = [FORMAT] as const satisfies readonly FlagSpec[];

export const RESTORE_FLAGS = [
  CONSOLE_SOCKET,
  f({ name: 'image-path', type: 'string', help: 'path to criu image files for restoring' }),
  WORK_PATH,
  TCP_ESTABLISHED,
  EXT_UNIX_SK,
  SHELL_JOB,
  FILE_LOCKS,
  MANAGE_CGROUPS_MODE,
  f({ name: 'bundle', aliases: ['b'], type: 'string', help: 'path to the root of the bundle directory' }),
  DETACH,
  PID_FILE,
  NO_SUBREAPER,
  NO_PIVOT,
  EMPTY_NS,
  AUTO_DEDUP,
  LAZY_PAGES,
  f({
    name: 'lsm-profile',
    type: 'string',
    help: 'Specify an LSM profile to be used during restore in the form of TYPE:NAME.',
  }),
  f({
    name: 'lsm-mount-context',
    type: 'string',
    help: 'Specify an LSM mount context to be used during restore.',
  }),
] as const satisfies readonly FlagSpec[];

export const RUN_FLAGS = [
  BUNDLE,
  CONSOLE_SOCKET,
  PIDFD_SOCKET_INIT,
  DETACH,
  f({ name: 'keep', type: 'bool', help: 'do not delete the container after it exits' }),
  PID_FILE,
  NO_SUBREAPER,
  NO_PIVOT,
  NO_NEW_KEYRING,
  PRESERVE_FDS,
] as const satisfies readonly FlagSpec[];

export const SPEC_FLAGS = [
  f({ name: 'bundle', aliases: ['b'], type: 'string', help: 'path to the root of the bundle directory' }),
  f({ name: 'rootless', type: 'bool', help: 'generate a configuration for a rootless container' }),
] as const satisfies readonly FlagSpec[];

// The numeric-looking update flags are strings in runc: they are parsed
// later with unit suffixes (memory: "512m") or as uint64, and "-1" means
// unlimited. Only blkio-weight and pids-limit are real int flags.
export const UPDATE_FLAGS = [
  f({
    name: 'resources',
    aliases: ['r'],
    type: 'string',
    help: `path to the file containing the resources to update or '-' to read from the standard input

The accepted format is as follow (unchanged values can be omitted):

{
  "memory": {
    "limit": 0,
    "reservation": 0,
    "swap": 0
  },
  "cpu": {
    "shares": 0,
    "quota": 0,
    "period": 0,
    "realtimeRuntime": 0,
    "realtimePeriod": 0,
    "cpus": "",
    "mems": ""
  },
  "blockIO": {
    "weight": 0
  }
}

Note: if data is to be read from a file or the standard input, all
other options are ignored.`,
  }),
  f({ name: 'blkio-weight', type: 'int', help: 'Specifies per cgroup weight, range is from 10 to 1000' }),
  f({
    name: 'cpu-period',
    type: 'string',
    help: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default',
  }),
  f({
    name: 'cpu-quota',
    type: 'string',
    help: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period',
  }),
  f({ name: 'cpu-share', type: 'string', help: 'CPU shares (relative weight vs. other containers)' }),
  f({
    name: 'cpu-rt-period',
    type: 'string',
    help: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default',
  }),
  f({
    name: 'cpu-rt-runtime',
    type: 'string',
    help: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period',
  }),
  f({ name: 'cpuset-cpus', type: 'string', help: 'CPU(s) to use' }),
  f({ name: 'cpuset-mems', type: 'string', help: 'Memory node(s) to use' }),
  // Obsolete in runc 1.1 (ignored with a warning) and hidden from help,
  // but still accepted so old callers do not fail on them.
  f({ name: 'kernel-memory', type: 'string', hidden: true, help: '(obsoleted; do not use)' }),
  f({ name: 'kernel-memory-tcp', type: 'string', hidden: true, help: '(obsoleted; do not use)' }),
  f({ name: 'memory', type: 'string', help: 'Memory limit (in bytes)' }),
  f({ name: 'memory-reservation', type: 'string', help: 'Memory reservation or soft_limit (in bytes)' }),
  f({
    name: 'memory-swap',
    type: 'string',
    help: "Total memory usage (memory + swap); set '-1' to enable unlimited swap",
  }),
  f({ name: 'pids-limit', type: 'int', help: 'Maximum number of pids allowed in the container' }),
  f({ name: 'l3-cache-schema', type: 'string', help: 'The string of Intel RDT/CAT L3 cache schema' }),
  f({ name: 'mem-bw-schema', type: 'string', help: 'The string of Intel RDT/MBA memory bandwidth schema' }),
] as const satisfies readonly FlagSpec[];

export const NO_FLAGS = [] as const satisfies readonly FlagSpec[];

// ---------------------------------------------------------------------------
// Typed option objects. The interfaces are spelled out for readability; the
// assertions below make the compiler check them against the table.

export interface GlobalOptions {
  debug: boolean;
  /** Log file; '' means stderr. */
  log: string;
  logFormat: 'text' | 'json';
  /** As given (runc makes it absolute with the cwd before use). */
  root: string;
  criu: string;
  systemdCgroup: boolean;
  /** 'true' | 'false' | 'auto' as given; see parseBoolOrAuto. runc only
   * parses it when it needs it, so a bad value is not a parse error. */
  rootless: string;
}

export interface CheckpointOptions {
  imagePath: string;
  workPath: string;
  parentPath: string;
  leaveRunning: boolean;
  tcpEstablished: boolean;
  extUnixSk: boolean;
  shellJob: boolean;
  lazyPages: boolean;
  /** -1 when not given. */
  statusFd: number;
  pageServer: string;
  fileLocks: boolean;
  preDump: boolean;
  manageCgroupsMode: string;
  emptyNs: string[];
  autoDedup: boolean;
}

export interface CreateOptions {
  bundle: string;
  consoleSocket: string;
  pidfdSocket: string;
  /** As given; runc makes it absolute (against the original cwd). */
  pidFile: string;
  noPivot: boolean;
  noNewKeyring: boolean;
  /** Can be negative, as in runc (which then passes none). */
  preserveFds: number;
}

export interface DeleteOptions {
  force: boolean;
}

export interface EventsOptions {
  /** Milliseconds (Go duration syntax on the command line); may be <= 0,
   * which runc rejects later with "duration interval must be greater than 0". */
  interval: number;
  stats: boolean;
}

export interface ExecOptions {
  consoleSocket: string;
  pidfdSocket: string;
  cwd: string;
  env: string[];
  tty: boolean;
  user: string;
  additionalGids: number[];
  process: string;
  detach: boolean;
  pidFile: string;
  processLabel: string;
  apparmor: string;
  /** undefined when not given: keep process.noNewPrivileges of the spec. */
  noNewPrivs: boolean | undefined;
  cap: string[];
  preserveFds: number;
  cgroup: string[];
  ignorePaused: boolean;
}

export interface KillOptions {
  all: boolean;
}

export interface ListOptions {
  /** 'table' (default) or 'json'; not validated here (runc checks later). */
  format: string;
  quiet: boolean;
}

export interface PsOptions {
  /** 'table' (default) or 'json'; not validated here (runc checks later). */
  format: string;
}

export interface RestoreOptions {
  consoleSocket: string;
  imagePath: string;
  workPath: string;
  tcpEstablished: boolean;
  extUnixSk: boolean;
  shellJob: boolean;
  fileLocks: boolean;
  manageCgroupsMode: string;
  bundle: string;
  detach: boolean;
  pidFile: string;
  noSubreaper: boolean;
  noPivot: boolean;
  emptyNs: string[];
  autoDedup: boolean;
  lazyPages: boolean;
  lsmProfile: string;
  lsmMountContext: string;
}

export interface RunOptions {
  bundle: string;
  consoleSocket: string;
  pidfdSocket: string;
  detach: boolean;
  keep: boolean;
  pidFile: string;
  noSubreaper: boolean;
  noPivot: boolean;
  noNewKeyring: boolean;
  preserveFds: number;
}

export interface SpecOptions {
  bundle: string;
  rootless: boolean;
}

export interface UpdateOptions {
  resources: string;
  blkioWeight: number;
  cpuPeriod: string;
  cpuQuota: string;
  cpuShare: string;
  cpuRtPeriod: string;
  cpuRtRuntime: string;
  cpusetCpus: string;
  cpusetMems: string;
  kernelMemory: string;
  kernelMemoryTcp: string;
  memory: string;
  memoryReservation: string;
  memorySwap: string;
  pidsLimit: number;
  l3CacheSchema: string;
  memBwSchema: string;
}

/** Commands without flags. */
export type NoOptions = Record<string, never>;

export interface CommandOptionsMap {
  checkpoint: CheckpointOptions;
  create: CreateOptions;
  delete: DeleteOptions;
  events: EventsOptions;
  exec: ExecOptions;
  init: NoOptions;
  kill: KillOptions;
  list: ListOptions;
  pause: NoOptions;
  ps: PsOptions;
  restore: RestoreOptions;
  resume: NoOptions;
  run: RunOptions;
  spec: SpecOptions;
  start: NoOptions;
  state: NoOptions;
  update: UpdateOptions;
  features: NoOptions;
  help: NoOptions;
}

export type CommandName = keyof CommandOptionsMap;

// Compile-time check that each interface matches its flag table.
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type ValueOf<T extends FlagType> = T extends 'bool'
  ? boolean
  : T extends 'string'
    ? string
    : T extends 'int' | 'duration'
      ? number
      : T extends 'stringArray'
        ? string[]
        : T extends 'intArray'
          ? number[]
          : never;
type OptionsOf<F extends readonly FlagSpec[]> = {
  [S in F[number] as Camel<S['name']>]: S extends { readonly optional: true }
    ? ValueOf<S['type']> | undefined
    : ValueOf<S['type']>;
};
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
type Flat<T> = { [K in keyof T]: T[K] };
export type _TableMatchesInterfaces = [
  Assert<Equal<CheckpointOptions, OptionsOf<typeof CHECKPOINT_FLAGS>>>,
  Assert<Equal<CreateOptions, OptionsOf<typeof CREATE_FLAGS>>>,
  Assert<Equal<DeleteOptions, OptionsOf<typeof DELETE_FLAGS>>>,
  Assert<Equal<EventsOptions, OptionsOf<typeof EVENTS_FLAGS>>>,
  Assert<Equal<ExecOptions, OptionsOf<typeof EXEC_FLAGS>>>,
  Assert<Equal<KillOptions, OptionsOf<typeof KILL_FLAGS>>>,
  Assert<Equal<ListOptions, OptionsOf<typeof LIST_FLAGS>>>,
  Assert<Equal<PsOptions, OptionsOf<typeof PS_FLAGS>>>,
  Assert<Equal<RestoreOptions, OptionsOf<typeof RESTORE_FLAGS>>>,
  Assert<Equal<RunOptions, OptionsOf<typeof RUN_FLAGS>>>,
  Assert<Equal<SpecOptions, OptionsOf<typeof SPEC_FLAGS>>>,
  Assert<Equal<UpdateOptions, OptionsOf<typeof UPDATE_FLAGS>>>,
  Assert<Equal<Flat<Omit<GlobalOptions, 'logFormat'> & { logFormat: string }>, OptionsOf<typeof GLOBAL_FLAGS>>>,
];

// ---------------------------------------------------------------------------
// Commands, in runc's order (which is also the order of the help listing).

const CREATED_ID_ARGS = `<container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.`;

const BUNDLE_DESCRIPTION = (verb: string) => `The ${verb} command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem.

The specification file includes an args parameter. The args parameter is used
to specify command(s) that get run when the container is started. To change the
command(s) that get executed on start, edit the args parameter of the spec. See
"hako spec --help" for more explanation.`;

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'checkpoint',
    usage: 'checkpoint a running container (with criu)',
    argsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
checkpointed.`,
    description: 'The checkpoint command saves the state of the container instance.',
    flags: CHECKPOINT_FLAGS,
    arity: { exact: 1 },
  },
  {
    name: 'create',
    usage: 'create a container',
    argsUsage: CREATED_ID_ARGS,
    description: BUNDLE_DESCRIPTION('create'),
    flags: CREATE_FLAGS,
    arity: { exact: 1 },
  },
  {
    name: 'delete',
    usage: 'delete any resources held by the container often used with detached container',
    argsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container.

EXAMPLE:
For example, if the container id is "ubuntu01" and hako list currently shows the
status of "ubuntu01" as "stopped" the following will delete resources held for
"ubuntu01" removing "ubuntu01" from the hako list of containers:

       # hako delete ubuntu01`,
    flags: DELETE_FLAGS,
    arity: { exact: 1 },
  },
  {
    name: 'events',
    usage: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
    argsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container.`,
    description: `The events command displays information about the container. By default the
information is displayed once every 5 seconds.`,
    flags: EVENTS_FLAGS,
    arity: { exact: 1 },
  },
  {
    name: 'exec',
    usage: 'execute new process inside the container',
    argsUsage: `<container-id> <command> [command options]  || -p process.json <container-id>

Where "<container-id>" is the name for the instance of the container and
"<command>" is the command to be executed in the container.
"<command>" can't be empty unless a "-p" flag provided.

EXAMPLE:
For example, if the container is configured to run the linux ps command the
following will output a list of processes running in the container:

       # hako exec <container-id> ps`,
    flags: EXEC_FLAGS,
    // "<command> can't be empty unless -p" is checked by runc only after
    // looking the container up, so it is left to the exec command.
    arity: { min: 1 },
    skipArgReorder: true,
  },
  {
    name: 'init',
    usage: 'initialize the namespaces and launch the process (do not call it outside of hako)',
    argsUsage: '',
    flags: NO_FLAGS,
    arity: {},
    skipFlagParsing: true,
    hidden: true,
  },
  {
    name: 'kill',
    usage: "kill sends the specified signal (default: SIGTERM) to the container's init process",
    argsUsage: `<container-id> [signal]

Where "<container-id>" is the name for the instance of the container and
"[signal]" is the signal to be sent to the init process.

EXAMPLE:
For example, if the container id is "ubuntu01" the following will send a "KILL"
signal to the init process of the "ubuntu01" container:

       # hako kill ubuntu01 KILL`,
    flags: KILL_FLAGS,
    arity: { min: 1, max: 2 },
  },
  {
    name: 'list',
    usage: 'lists containers started by hako with the given root',
    argsUsage: `

Where the given root is specified via the global option "--root"
(default: "${DEFAULT_ROOT}").

EXAMPLE 1:
To list containers created via the default "--root":
       # hako list

EXAMPLE 2:
To list containers created using a non-default value for "--root":
       # hako --root value list`,
    flags: LIST_FLAGS,
    arity: { exact: 0 },
  },
  {
    name: 'pause',
    usage: 'pause suspends all processes inside the container',
    argsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
paused.`,
    description: `The pause command suspends all processes in the instance of the container.

Use hako list to identify instances of containers and their current status.`,
    flags: NO_FLAGS,
    arity: { exact: 1 },
  },
  {
    name: 'ps',
    usage: 'ps displays the processes running inside a container',
    argsUsage: '<container-id> [ps options]',
    flags: PS_FLAGS,
    arity: { min: 1 },
    skipArgReorder: true,
  },
  {
    name: 'restore',
    usage: 'restore a container from a previous checkpoint (with criu)',
    argsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
restored.`,
    description: `Restores the saved state of the container instance that was previously saved
using the hako checkpoint command.`,
    flags: RESTORE_FLAGS,
    arity: { exact: 1 },
  },
  {
    name: 'resume',
    usage: 'resumes all processes that have been previously paused',
    argsUsage: `<container-id>

Where "<container-id>" is the name for the instance of the container to be
resumed.`,
    description: `The resume command resumes all processes in the instance of the container.

Use hako list to identify instances of containers and their current status.`,
    flags: NO_FLAGS,
    arity: { exact: 1 },
  },
  {
    name: 'run',
    usage: 'create and run a container',
    argsUsage: CREATED_ID_ARGS,
    description: BUNDLE_DESCRIPTION('run'),
    flags: RUN_FLAGS,
    arity: { exact: 1 },
  },
  {
    name: 'spec',
    usage: 'create a new specification file',
    argsUsage: '',
    description: `The spec command creates the new specification file named "config.json" for
the bundle.

The spec generated is just a starter file. Editing of the spec is required to
achieve desired results. For example, the newly generated spec includes an args
parameter that is initially set to call the "sh" command when the container is
started. Calling "sh" may work for an ubuntu container or busybox, but will not
work for containers that do not include the "sh" program.

EXAMPLE:
  To run docker's hello-world container one needs to set the args parameter
in the spec to call hello. This can be done using the sed command or a text
editor. The following commands create a bundle for hello-world, change the
default args parameter in the spec from "sh" to "/hello", then run the hello
command in a new hello-world container named container1:

    mkdir hello
    cd hello
    docker pull hello-world
    docker export $(docker create hello-world) > hello-world.tar
    mkdir rootfs
    tar -C rootfs -xf hello-world.tar
    hako spec
    sed -i 's;"sh";"/hello";' config.json
    hako run container1

In the run command above, "container1" is the name for the instance of the
container that you are starting. The name you provide for the container instance
must be unique on your host.

You can pass the parameter --rootless to this command to generate a spec file
for a rootless container. --rootless is not needed when you execute hako as
root in a user namespace created by an unprivileged user.`,
    flags: SPEC_FLAGS,
    arity: { exact: 0 },
  },
  {
    name: 'start',
    usage: 'executes the user defined process in a created container',
    argsUsage: CREATED_ID_ARGS,
    description: 'The start command executes the user defined process in a created container.',
    flags: NO_FLAGS,
    arity: { exact: 1 },
  },
  {
    name: 'state',
    usage: 'output the state of a container',
    argsUsage: `<container-id>

Where "<container-id>" is your name for the instance of the container.`,
    description: `The state command outputs current state information for the
instance of a container.`,
    flags: NO_FLAGS,
    arity: { exact: 1 },
  },
  {
    name: 'update',
    usage: 'update container resource constraints',
    argsUsage: '<container-id>',
    flags: UPDATE_FLAGS,
    arity: { exact: 1 },
  },
  {
    name: 'features',
    usage: 'show the enabled features',
    argsUsage: '',
    description: `Show the enabled features.
   The result is parsable as a JSON.
   See https://pkg.go.dev/github.com/opencontainers/runc/types/features for the type definition.
   The types are experimental and subject to change.`,
    flags: NO_FLAGS,
    arity: { exact: 0 },
  },
  {
    name: 'help',
    aliases: ['h'],
    usage: 'Shows a list of commands or help for one command',
    argsUsage: '[command]',
    flags: NO_FLAGS,
    arity: {},
  },
];

/** Looks a command up by name or alias, as the command line names it. */
export function findCommand(name: string, opts: { includeHidden?: boolean } = {}): CommandSpec | undefined {
  return COMMANDS.find(
    (c) => (c.name === name || (c.aliases ?? []).includes(name)) && (!c.hidden || opts.includeHidden === true),
  );
}

/** camelCase key of a flag in the option objects: 'pid-file' -> 'pidFile'. */
export function optionKey(flagName: string): string {
  return flagName.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

// ---------------------------------------------------------------------------
// Go-compatible value parsing.

/** Go's %q for the strings we are likely to see (error messages quote the
 * offending value this way). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\t':
        out += '\\t';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\x07':
        out += '\\a';
        break;
      case '\b':
        out += '\\b';
        break;
      case '\f':
        out += '\\f';
        break;
      case '\v':
        out += '\\v';
        break;
      default:
        if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
        else out += ch;
    }
  }
  return out + '"';
}

/** strconv.ParseBool */
export function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/**
 * strconv.ParseInt(s, base, 64) for base 0 (Go literal syntax: prefixes
 * 0x/0o/0b, a leading 0 meaning octal, `_` between digits) or base 10.
 * Returns the value, or 'syntax' / 'range' like Go's ErrSyntax / ErrRange.
 */
export function parseGoInt(s: string, base: 0 | 10 = 0): bigint | 'syntax' | 'range' {
  const s0 = s;
  if (s === '') return 'syntax';
  let neg = false;
  if (s[0] === '+') s = s.slice(1);
  else if (s[0] === '-') {
    neg = true;
    s = s.slice(1);
  }
  if (s === '') return 'syntax';
  let radix = 10;
  const base0 = base === 0;
  if (base0 && s[0] === '0') {
    const p = s.length >= 3 ? s[1]!.toLowerCase() : '';
    if (p === 'b' || p === 'o' || p === 'x') {
      radix = p === 'b' ? 2 : p === 'o' ? 8 : 16;
      s = s.slice(2);
    } else {
      radix = 8;
      s = s.slice(1);
    }
  }
  // Go returns ErrRange as soon as the unsigned value overflows 64 bits,
  // even if an invalid character follows; keep the same precedence.
  const UINT64_MAX = (1n << 64n) - 1n;
  let n = 0n;
  let underscores = false;
  for (const ch of s) {
    if (ch === '_' && base0) {
      underscores = true;
      continue;
    }
    const d = /[0-9]/.test(ch) ? ch.charCodeAt(0) - 48 : /[a-z]/i.test(ch) ? ch.toLowerCase().charCodeAt(0) - 87 : 99;
    if (d >= radix) return 'syntax';
    n = n * BigInt(radix) + BigInt(d);
    if (n > UINT64_MAX) return 'range';
  }
  if (underscores && !underscoreOK(s0)) return 'syntax';
  const v = neg ? -n : n;
  if (v < INT64_MIN || v > INT64_MAX) return 'range';
  return v;
}

// Go's strconv.underscoreOK: underscores only between digits (a base
// prefix counts as a digit), never first or last.
function underscoreOK(s: string): boolean {
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(s[1]!.toLowerCase())) {
    i = 2;
    saw = '0';
    hex = s[1]!.toLowerCase() === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= '0' && c <= '9') || (hex && /[a-f]/i.test(c))) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5
  'μs': 1e-3, // U+03BC
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** time.ParseDuration, in milliseconds; undefined when Go would fail. */
export function parseGoDuration(s: string): number | undefined {
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  const re = /^([0-9]*)(?:\.([0-9]*))?([^0-9.]*)/u;
  while (s !== '') {
    const m = re.exec(s);
    if (!m) return undefined;
    const [all, int = '', frac, unit = ''] = m;
    if (int === '' && (frac === undefined || frac === '')) return undefined; // no digits
    if (unit === '') return undefined; // missing unit
    const scale = DURATION_UNITS[unit];
    if (scale === undefined) return undefined;
    total += Number(`${int || '0'}.${frac || '0'}`) * scale;
    s = s.slice(all.length);
  }
  // Go's Duration is int64 nanoseconds.
  if (total * 1e6 > 9.223372036854775807e18) return undefined;
  return neg ? -total : total;
}

/** time.Duration.String for a millisecond value (used for help defaults). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) {
    if (rest >= 1) return `${sign}${trimNum(rest)}ms`;
    if (rest >= 1e-3) return `${sign}${trimNum(rest * 1e3)}µs`;
    return `${sign}${trimNum(rest * 1e6)}ns`;
  }
  let out = '';
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  out += `${trimNum(rest / 1000)}s`;
  return sign + out;
}

function trimNum(n: number): string {
  return String(Number(n.toFixed(9)));
}

/**
 * runc's parseBoolOrAuto for --rootless: undefined means "auto" (also for
 * ''), otherwise strconv.ParseBool.
 */
export function parseBoolOrAuto(s: string): boolean | undefined {
  if (s === '' || s.toLowerCase() === 'auto') return undefined;
  const b = parseGoBool(s);
  if (b === undefined) throw new UsageError(`strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
  return b;
}

// ---------------------------------------------------------------------------
// The parser.

type Value = boolean | string | number | string[] | number[];

interface FlagSetState {
  values: Map<FlagSpec, Value>;
  /** Names that were set, per flag, in the order they were first seen. */
  visited: Map<FlagSpec, Set<string>>;
  rest: string[];
  error?: string;
}

function namesOf(spec: FlagSpec): string[] {
  return [spec.name, ...(spec.aliases ?? [])];
}

function lookupTable(specs: readonly FlagSpec[]): Map<string, FlagSpec> {
  const m = new Map<string, FlagSpec>();
  for (const s of specs) for (const n of namesOf(s)) m.set(n, s);
  return m;
}

/** Go's flag.FlagSet.Parse: flags up to the first non-flag or "--". */
function goFlagParse(specs: readonly FlagSpec[], argv: readonly string[]): FlagSetState {
  const lookup = lookupTable(specs);
  const st: FlagSetState = { values: new Map(), visited: new Map(), rest: [] };
  const args = [...argv];
  const fail = (msg: string): FlagSetState => ({ ...st, rest: args, error: msg });
  while (args.length > 0) {
    const s = args[0]!;
    if (s.length < 2 || s[0] !== '-') break;
    let minuses = 1;
    if (s[1] === '-') {
      minuses = 2;
      if (s.length === 2) {
        args.shift();
        break;
      }
    }
    let name = s.slice(minuses);
    if (name.length === 0 || name[0] === '-' || name[0] === '=') return fail(`bad flag syntax: ${s}`);
    args.shift();
    let hasValue = false;
    let value = '';
    const eq = name.indexOf('=', 1);
    if (eq > 0) {
      value = name.slice(eq + 1);
      hasValue = true;
      name = name.slice(0, eq);
    }
    const spec = lookup.get(name);
    if (spec === undefined) return fail(`flag provided but not defined: -${name}`);
    if (spec.type === 'bool') {
      if (hasValue) {
        const b = parseGoBool(value);
        if (b === undefined) return fail(`invalid boolean value ${goQuote(value)} for -${name}: parse error`);
        st.values.set(spec, b);
      } else {
        st.values.set(spec, true);
      }
    } else {
      if (!hasValue && args.length > 0) {
        value = args.shift()!;
        hasValue = true;
      }
      if (!hasValue) return fail(`flag needs an argument: -${name}`);
      const problem = setValue(st, spec, value);
      if (problem !== undefined) return fail(`invalid value ${goQuote(value)} for flag -${name}: ${problem}`);
    }
    let seen = st.visited.get(spec);
    if (seen === undefined) st.visited.set(spec, (seen = new Set()));
    seen.add(name);
  }
  st.rest = args;
  return st;
}

/** Stores a non-bool value; returns Go's reason text when it is invalid. */
function setValue(st: FlagSetState, spec: FlagSpec, value: string): string | undefined {
  switch (spec.type) {
    case 'string':
      st.values.set(spec, value);
      return undefined;
    case 'stringArray': {
      const prev = (st.values.get(spec) as string[] | undefined) ?? [];
      st.values.set(spec, [...prev, value]);
      return undefined;
    }
    case 'int': {
      const n = parseGoInt(value, 0);
      if (n === 'syntax') return 'parse error';
      // Beyond 2^53 a JS number would silently change the value.
      if (n === 'range' || n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
        return 'value out of range';
      }
      st.values.set(spec, Number(n));
      return undefined;
    }
    case 'intArray': {
      // urfave's Int64Slice returns the strconv error itself.
      const n = parseGoInt(value, 10);
      if (n === 'syntax') return `strconv.ParseInt: parsing ${goQuote(value)}: invalid syntax`;
      if (n === 'range' || n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
        return `strconv.ParseInt: parsing ${goQuote(value)}: value out of range`;
      }
      const prev = (st.values.get(spec) as number[] | undefined) ?? [];
      st.values.set(spec, [...prev, Number(n)]);
      return undefined;
    }
    case 'duration': {
      const d = parseGoDuration(value);
      if (d === undefined) return 'parse error';
      st.values.set(spec, d);
      return undefined;
    }
    case 'bool':
      throw new Error('unreachable: bool flags take no separate value');
  }
}

/** urfave's normalizeFlags: a flag may be given under one of its names only. */
function aliasConflict(specs: readonly FlagSpec[], st: FlagSetState): string | undefined {
  for (const spec of specs) {
    const seen = st.visited.get(spec);
    if (seen === undefined || seen.size < 2) continue;
    const used = namesOf(spec).filter((n) => seen.has(n));
    return `Cannot use two forms of the same flag: ${used[1]} ${used[0]}`;
  }
  return undefined;
}

/** urfave v1.22.9's argIsFlag: does arg name one of the defined flags? */
function argIsFlag(lookup: Map<string, FlagSpec>, arg: string): boolean {
  if (arg === '-' || arg === '--' || !arg.startsWith('-')) return false;
  // Same string surgery as urfave: drop the first two dashes of "--x", or
  // the first dash of "-x", then anything from "=".
  let a = arg;
  if (a.startsWith('--')) a = a.replace('-', '').replace('-', '');
  if (a.startsWith('-')) a = a.replace('-', '');
  a = a.split('=')[0]!;
  return lookup.has(a);
}

/** urfave v1.22.9's reorderArgs: defined flags (with their possible value)
 * first, the rest after, "--" and what follows it last. */
function reorderArgs(specs: readonly FlagSpec[], args: readonly string[]): string[] {
  const lookup = lookupTable(specs);
  const reordered: string[] = [];
  let remaining: string[] = [];
  let mayBeValue = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (mayBeValue && !argIsFlag(lookup, arg)) {
      mayBeValue = false;
      reordered.push(arg);
    } else if (arg === '--') {
      remaining = ['--', ...remaining, ...args.slice(i + 1)];
      break;
    } else if (argIsFlag(lookup, arg)) {
      reordered.push(arg);
      mayBeValue = !arg.includes('=');
    } else {
      remaining.push(arg);
    }
  }
  return [...reordered, ...remaining];
}

function defaultValue(spec: FlagSpec): Value | undefined {
  if (spec.optional) return undefined;
  if (spec.default !== undefined) return spec.default;
  switch (spec.type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'int':
    case 'duration':
      return 0;
    case 'stringArray':
    case 'intArray':
      return [];
  }
}

function buildOptions(
  specs: readonly FlagSpec[],
  st: FlagSetState | undefined,
): { options: Record<string, Value | undefined>; explicit: Set<string> } {
  const options: Record<string, Value | undefined> = {};
  const explicit = new Set<string>();
  for (const spec of specs) {
    const key = optionKey(spec.name);
    const v = st?.values.get(spec);
    // Arrays are copied so callers can never mutate shared defaults.
    const d = defaultValue(spec);
    options[key] = v !== undefined ? v : Array.isArray(d) ? ([...d] as Value) : d;
    if (st?.visited.has(spec)) explicit.add(key);
  }
  return { options, explicit };
}

function checkArity(cmd: CommandSpec, n: number, prog: string): void {
  const { exact, min, max } = cmd.arity;
  let msg: string | undefined;
  if (exact !== undefined && n !== exact) msg = `requires exactly ${exact} argument(s)`;
  else if (min !== undefined && n < min) msg = `requires a minimum of ${min} argument(s)`;
  else if (max !== undefined && n > max) msg = `requires a maximum of ${max} argument(s)`;
  // runc's wording, including os.Args[0] as prefix.
  if (msg !== undefined) throw new UsageError(`${prog}: "${cmd.name}" ${msg}`, 'arity', cmd.name);
}

export interface ParseOptions {
  /** Program name for messages that runc prefixes with os.Args[0]. */
  prog?: string;
  /** Default for --root (e.g. derived from XDG_RUNTIME_DIR by the caller). */
  defaultRoot?: string;
}

interface ParsedBase {
  global: GlobalOptions;
  /** Positional arguments of the command (after its flags). */
  positional: string[];
  /**
   * Help was asked for (`--help`, `-h`, `help [cmd]`, `<cmd> --help`, or no
   * command at all): print help for `command`, or the app's help when
   * command is undefined, and exit 0.
   */
  help: boolean;
  /** Help came from the command's own `--help`/`-h` (`<cmd> --help`), not
   * from `help <cmd>`: podman's probe for checkpoint support asks that way. */
  helpFlag: boolean;
  /** `--version`/`-v` was given: print the version and exit 0. */
  version: boolean;
  /** Option keys (camelCase) that were given explicitly, like urfave's
   * IsSet: runc's root default and exec's --tty/--no-new-privs use it. */
  explicit: { global: ReadonlySet<string>; options: ReadonlySet<string> };
}

export type ParsedCommand = {
  [K in CommandName]: { command: K; options: CommandOptionsMap[K] };
}[CommandName];

export type ParsedArgs = ParsedBase & (ParsedCommand | { command: undefined; options: NoOptions });

const GLOBAL_SET: readonly FlagSpec[] = [...GLOBAL_FLAGS, HELP_FLAG, VERSION_FLAG];

/**
 * Parses argv (without node and script paths) the way runc 1.1.5 does.
 * Throws UsageError; on success the caller either prints help/version or
 * runs `command` with `options` and `positional`.
 */
export function parseArgs(argv: readonly string[], opts: ParseOptions = {}): ParsedArgs {
  const prog = opts.prog ?? 'hako';
  const gst = goFlagParse(GLOBAL_SET, argv);
  // urfave checks alias conflicts before reporting the parse error.
  const conflict = aliasConflict(GLOBAL_SET, gst);
  if (conflict !== undefined) throw new UsageError(conflict, 'global-conflict');
  if (gst.error !== undefined) throw new UsageError(gst.error, 'global-flag');

  const g = buildOptions(GLOBAL_FLAGS, gst);
  const globalExplicit = g.explicit;
  if (!globalExplicit.has('root') && opts.defaultRoot !== undefined) g.options.root = opts.defaultRoot;
  const global = g.options as unknown as GlobalOptions;
  const base = {
    global,
    positional: [] as string[],
    help: false,
    helpFlag: false,
    version: false,
    explicit: { global: globalExplicit, options: new Set<string>() as ReadonlySet<string> },
  };
  const appHelp = (): ParsedArgs => ({ ...base, help: true, command: undefined, options: {} });

  // Order as in urfave's App.Run: help, then version, then the Before hook
  // (runc validates --log-format there), then the command.
  if (gst.values.get(HELP_FLAG) === true) return appHelp();
  if (gst.values.get(VERSION_FLAG) === true) return { ...base, version: true, command: undefined, options: {} };

  const logFormat = global.logFormat as string;
  if (logFormat === '') global.logFormat = 'text';
  else if (logFormat !== 'text' && logFormat !== 'json') {
    throw new UsageError(`invalid log-format: ${logFormat}`);
  }

  // From here on runc has set up its logging: an error is logged as the
  // flags say (main.ts), in JSON with --log-format json.
  try {
    return parseCommand(gst.rest, base, prog);
  } catch (e) {
    if (e instanceof UsageError) e.global = global;
    throw e;
  }
}

function parseCommand(rest: readonly string[], base: ParsedBase, prog: string): ParsedArgs {
  const appHelp = (): ParsedArgs => ({ ...base, help: true, command: undefined, options: {} });
  const globalExplicit = base.explicit.global;
  const [name, ...cmdArgs] = rest;
  // No command (or an empty one): urfave shows the app's help, exit 0.
  if (name === undefined || name === '') return appHelp();
  const cmd = findCommand(name, { includeHidden: true });
  if (cmd === undefined) throw new UsageError(`No help topic for '${name}'`, 'unknown-command', undefined, 3);

  if (cmd.skipFlagParsing) {
    const { options } = buildOptions(cmd.flags, undefined);
    return { ...base, command: cmd.name, options, positional: [...cmdArgs] } as unknown as ParsedArgs;
  }

  const specs = [...cmd.flags, HELP_FLAG];
  const st = goFlagParse(specs, cmd.skipArgReorder ? cmdArgs : reorderArgs(specs, cmdArgs));
  if (st.error !== undefined) throw new UsageError(st.error, 'flag', cmd.name);
  const conflictC = aliasConflict(specs, st);
  if (conflictC !== undefined) throw new UsageError(conflictC, 'flag', cmd.name);
  const { options, explicit } = buildOptions(cmd.flags, st);
  const parsed = {
    ...base,
    command: cmd.name,
    options,
    positional: st.rest,
    explicit: { global: globalExplicit, options: explicit },
  } as unknown as ParsedArgs;

  if (st.values.get(HELP_FLAG) === true) return { ...parsed, help: true, helpFlag: true };

  if (cmd.name === 'help') {
    const topic = st.rest[0];
    if (topic === undefined || topic === '') return appHelp();
    const t = findCommand(topic);
    if (t === undefined) throw new UsageError(`No help topic for '${topic}'`, 'unknown-command', undefined, 3);
    const { options: topicOptions } = buildOptions(t.flags, undefined);
    return { ...base, help: true, command: t.name, options: topicOptions } as unknown as ParsedArgs;
  }

  checkArity(cmd, st.rest.length, prog);
  return parsed;
}
