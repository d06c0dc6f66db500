// Flags and help text that several commands share, with runc's wording.
import { f } from '../parse.js';
import type { PathFlag } from '../command.js';

export const BUNDLE = f({
  name: 'bundle',
  aliases: ['b'],
  type: 'string',
  help: 'path to the root of the bundle directory, defaults to the current directory',
});
export const CONSOLE_SOCKET = f({
  name: 'console-socket',
  type: 'string',
  help: "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal",
});
// --pidfd-socket (runc 1.2): the process sends a pidfd of itself there
// (addon/launcher/pidfdsend.c).
export const PIDFD_SOCKET_INIT = f({
  name: 'pidfd-socket',
  type: 'string',
  help: 'path to an AF_UNIX socket which will receive a file descriptor referencing the init process',
});
export const PIDFD_SOCKET_EXEC = f({
  name: 'pidfd-socket',
  type: 'string',
  help: 'path to an AF_UNIX socket which will receive a file descriptor referencing the exec process',
});
export const PID_FILE = f({ name: 'pid-file', type: 'string', help: 'specify the file to write the process id to' });
export const NO_PIVOT = f({
  name: 'no-pivot',
  type: 'bool',
  help: 'do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk',
});
export const NO_NEW_KEYRING = f({
  name: 'no-new-keyring',
  type: 'bool',
  help: 'do not create a new session keyring for the container.  This will cause the container to inherit the calling processes session key',
});
export const PRESERVE_FDS = f({
  name: 'preserve-fds',
  type: 'int',
  help: 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)',
});
export const DETACH = f({ name: 'detach', aliases: ['d'], type: 'bool', help: "detach from the container's process" });
export const NO_SUBREAPER = f({
  name: 'no-subreaper',
  type: 'bool',
  help: 'disable the use of the subreaper used to reap reparented processes',
});
export const FORMAT = f({
  name: 'format',
  aliases: ['f'],
  type: 'string',
  default: 'table',
  help: 'select one of: table or json',
});
export const TCP_ESTABLISHED = f({ name: 'tcp-established', type: 'bool', help: 'allow open tcp connections' });
export const EXT_UNIX_SK = f({ name: 'ext-unix-sk', type: 'bool', help: 'allow external unix sockets' });
export const SHELL_JOB = f({ name: 'shell-job', type: 'bool', help: 'allow shell jobs' });
export const LAZY_PAGES = f({ name: 'lazy-pages', type: 'bool', help: 'use userfaultfd to lazily restore memory pages' });
export const FILE_LOCKS = f({ name: 'file-locks', type: 'bool', help: 'handle file locks, for safety' });
export const MANAGE_CGROUPS_MODE = f({
  name: 'manage-cgroups-mode',
  type: 'string',
  help: "cgroups mode: 'soft' (default), 'full' and 'strict'",
});
export const EMPTY_NS = f({
  name: 'empty-ns',
  type: 'stringArray',
  help: "create a namespace, but don't restore its properties",
});
export const AUTO_DEDUP = f({ name: 'auto-dedup', type: 'bool', help: 'enable auto deduplication of memory images' });
export const WORK_PATH = f({ name: 'work-path', type: 'string', help: 'path for saving work files and logs' });

export const CREATED_ID_ARGS = `<container-id>

Where "<container-id>" is your name for the instance of the container that you
are starting. The name you provide for the container instance must be unique on
your host.`;

export const BUNDLE_DESCRIPTION = (verb: string) => `The ${verb} command creates an instance of a container for a bundle. The bundle
is a directory with a specification file named "config.json" and a root
filesystem.

The specification file includes an args parameter. The args parameter is used
to specify command(s) that get run when the container is started. To change the
command(s) that get executed on start, edit the args parameter of the spec. See
"hako spec --help" for more explanation.`;

/** create's and run's flags that name files (src/cli/cwd.ts). */
export const CREATE_PATHS: readonly PathFlag[] = [
  ['bundle', '--bundle', '.'],
  ['pidFile', '--pid-file'],
  ['consoleSocket', '--console-socket'],
];
