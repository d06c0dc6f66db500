// Typed access to the N-API addon (addon/binding) and the path of the
// launcher binary (addon/launcher), both built by node-gyp into
// build/Release.
//
// The addon is loaded on first use only: `hako state`, `list`, `spec` and
// `--version` never need it, and dlopen-ing a shared object linked against
// libseccomp is a measurable part of their startup. It is loaded with
// process.dlopen, not require: Bun's require resolves the path through its
// module resolver, which reads every directory from / down to the addon's
// and the executable's (about 1 ms and 1.5 MiB of every command that locks
// a container), and node:module and node:url cost their own loading.

import { existsSync, realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { AddonCompiled, CompiledInput } from './seccomp/compile.js';

export type FlockOp = 'sh' | 'ex' | 'un';

/** How a child ended: exactly one of exitCode and signal is a number. */
export interface WaitResult {
  pid: number;
  exitCode: number | null;
  signal: number | null;
}

/** An exit watch of the addon's (opaque). */
export type ExitWatchHandle = { readonly __exitWatch: unique symbol };

export interface Winsize {
  rows: number;
  cols: number;
}

export interface RecvFdResult {
  /** The received fd (close-on-exec), or -1 when the message carried none. */
  fd: number;
  /** The payload that came with it; empty at end of stream. */
  data: Buffer;
}

/** One pending SCMP_ACT_NOTIFY syscall (struct seccomp_notif). */
export interface SeccompNotif {
  /** What the answer names; unique for the listener's life. */
  id: bigint;
  /** The calling thread, in the pid namespace of whoever received the listener. */
  pid: number;
  flags: number;
  /** Syscall number for `arch`. */
  nr: number;
  /** AUDIT_ARCH_* of the call. */
  arch: number;
  instructionPointer: bigint;
  /** The six raw arguments. */
  args: bigint[];
}

/** The answer to a notification: exactly one way out of the syscall. */
export interface SeccompNotifResponse {
  /** A positive errno: the syscall fails with it. */
  error?: number;
  /** The syscall's return value when `error` is unset or 0. */
  val?: bigint;
  /** Run the syscall as the process asked (SECCOMP_USER_NOTIF_FLAG_CONTINUE, Linux 5.5); excludes error and val. */
  continue?: boolean;
}

export interface Rlimit {
  /** RLIM_INFINITY is 2^64-1, hence bigint. */
  soft: bigint;
  hard: bigint;
}

/** Values from the headers the addon was compiled against. */
export interface NativeConstants {
  readonly O_RDONLY: number;
  readonly O_WRONLY: number;
  readonly O_RDWR: number;
  readonly O_CREAT: number;
  readonly O_EXCL: number;
  readonly O_NOCTTY: number;
  readonly O_TRUNC: number;
  readonly O_APPEND: number;
  readonly O_NONBLOCK: number;
  readonly O_DIRECTORY: number;
  readonly O_NOFOLLOW: number;
  readonly O_CLOEXEC: number;
  readonly O_PATH: number;
  readonly POLLIN: number;
  readonly POLLOUT: number;
  readonly POLLERR: number;
  readonly POLLHUP: number;
  readonly POLLNVAL: number;
  readonly RLIMIT_CPU: number;
  readonly RLIMIT_FSIZE: number;
  readonly RLIMIT_DATA: number;
  readonly RLIMIT_STACK: number;
  readonly RLIMIT_CORE: number;
  readonly RLIMIT_RSS: number;
  readonly RLIMIT_NPROC: number;
  readonly RLIMIT_NOFILE: number;
  readonly RLIMIT_MEMLOCK: number;
  readonly RLIMIT_AS: number;
  readonly RLIMIT_LOCKS: number;
  readonly RLIMIT_SIGPENDING: number;
  readonly RLIMIT_MSGQUEUE: number;
  readonly RLIMIT_NICE: number;
  readonly RLIMIT_RTPRIO: number;
  readonly RLIMIT_RTTIME: number;
  readonly RLIM_INFINITY: bigint;
}

/**
 * The addon's functions. Each one throws a {@link NativeError} when the
 * syscall fails and a TypeError when an argument has the wrong type (fds,
 * pids and signals must be integers). Blocking calls block the JS thread
 * unless said otherwise.
 */
export interface Native {
  /** flock(2). Returns false only when `nonblock` and another holder has it. */
  flock(fd: number, op: FlockOp, nonblock?: boolean): boolean;
  /** mkfifo(3); the process umask applies to `mode`. */
  mkfifo(path: string, mode: number): void;

  /** pidfd_open(2), flags 0; the pidfd is close-on-exec. */
  pidfdOpen(pid: number): number;
  /** pidfd_send_signal(2): signals exactly that process, even if its pid was reused. */
  pidfdSendSignal(pidfd: number, sig: number): void;
  /** waitpid(2); null when `nohang` and the child has not exited. ECHILD throws. */
  waitpid(pid: number, nohang?: boolean): WaitResult | null;
  /**
   * Blocking waitpid(2) on a libuv threadpool thread (EINTR retried), for
   * children libuv did not spawn, such as a container init cloned with
   * CLONE_PARENT. Rejects with a NativeError (ECHILD...).
   */
  waitpidAsync(pid: number): Promise<WaitResult>;
  /**
   * Calls `callback` once, on the event loop, when the pidfd turns readable
   * (its process exited). Node only (a uv_poll): Bun has no libuv. The watch
   * holds the event loop open until exitWatchRef(w, false) or exitUnwatch.
   */
  exitWatch(pidfd: number, callback: () => void): ExitWatchHandle;
  exitWatchRef(watch: ExitWatchHandle, on: boolean): void;
  /** Stops and frees the watch (never use it again); the pidfd stays open. */
  exitUnwatch(watch: ExitWatchHandle): void;
  /** prctl(PR_SET_CHILD_SUBREAPER). */
  setChildSubreaper(on: boolean): void;
  /** prctl(PR_GET_CHILD_SUBREAPER). */
  getChildSubreaper(): boolean;
  /** kill(2), errors with codes (ESRCH, EPERM). */
  kill(pid: number, sig: number): void;
  /** getrlimit(2); `resource` from constants.RLIMIT_*. */
  getrlimit(resource: number): Rlimit;

  /**
   * open(2) with raw flags (constants.O_*), nothing added: pass O_CLOEXEC
   * unless the fd is meant to be inherited. `mode` defaults to 0o666.
   */
  openPath(path: string, flags: number, mode?: number): number;
  /** close(2). */
  close(fd: number): void;
  /** Opens the directory, fsyncs it and closes it: makes a rename in it durable. */
  fsyncDir(path: string): void;
  /**
   * Detaches (umount2 MNT_DETACH) the mount at `rel` beneath the directory
   * `root` if it is mount `mntId` (/proc/self/mountinfo's id, checked with
   * statx STATX_MNT_ID on the fd openat2 RESOLVE_IN_ROOT gave, without
   * following any symlink). false, nothing unmounted: it is not there.
   */
  unmountBeneath(root: string, rel: string, mntId: number): boolean;
  /** poll(2) on one fd: revents, 0 on timeout; a negative timeout waits forever. */
  poll(fd: number, events: number, timeoutMs?: number): number;
  /** Sets or clears O_NONBLOCK (default: sets). */
  setNonblock(fd: number, on?: boolean): void;
  /**
   * Copies inFd to the pty master and the master to outFd on a threadpool
   * thread (inFd -1: nothing to send). `done` resolves once the master hung
   * up and its output was written, or once a byte was written to `stopFd`
   * (the caller then closes it). The master is made non-blocking.
   */
  ptyProxy(master: number, inFd: number, outFd: number): { done: Promise<void>; stopFd: number };

  /** The current termios of a tty, as opaque bytes for restoreTermios. */
  getTermios(fd: number): Buffer;
  /** Puts the tty in raw mode (cfmakeraw) and returns the settings before. */
  makeRaw(fd: number): Buffer;
  /** tcsetattr(TCSANOW) with bytes from makeRaw or getTermios. */
  restoreTermios(fd: number, saved: Buffer): void;
  getWinsize(fd: number): Winsize;
  setWinsize(fd: number, rows: number, cols: number): void;

  /** socketpair(AF_UNIX, type | SOCK_CLOEXEC); type defaults to 'stream'. */
  socketpair(type?: 'stream' | 'seqpacket' | 'dgram'): [number, number];
  /** Sends `fd` (SCM_RIGHTS) with `data`, which must not be empty. */
  sendFd(sockFd: number, fd: number, data: Buffer): void;
  /**
   * One recvmsg(2) of at most `maxData` bytes (default 4096) with at most one
   * fd kept (extras are closed). Blocks unless the socket is non-blocking.
   */
  recvFd(sockFd: number, maxData?: number): RecvFdResult;

  /** The kernel takes seccomp filters and libseccomp can build one here. */
  seccompAvailable(): boolean;
  /** The loaded libseccomp's version, "major.minor.micro". */
  seccompVersion(): string;
  /**
   * Whether seccomp(2) accepts these SECCOMP_FILTER_FLAG_* bits (probed
   * without loading anything; WAIT_KILLABLE_RECV is probed with NEW_LISTENER).
   */
  seccompFlagSupported(flags: number): boolean;
  /**
   * Builds the filter with libseccomp and exports it as BPF. Names libseccomp
   * does not know are skipped and listed. Throws an Error with a one-line
   * message, and `rule` or `architecture` (the index into the input) when one
   * entry was refused; a TypeError for a malformed input.
   */
  seccompCompile(input: CompiledInput): AddonCompiled;
  /** The same filter as libseccomp's pseudo filter code text, for debugging. */
  seccompExportPfc(input: CompiledInput): string;
  /** SCMP_ACT_*, SCMP_CMP_*, SECCOMP_FILTER_FLAG_* and a few AUDIT_ARCH_* from the headers. */
  readonly seccompConstants: Readonly<Record<string, number>>;
  /** A blocking connect(2) to a unix stream socket by path; the fd is close-on-exec. */
  connectUnix(path: string): number;

  /**
   * The next notification of a seccomp listener: poll(2) for up to
   * `timeoutMs` (default -1, for ever), then SECCOMP_IOCTL_NOTIF_RECV. null
   * when nothing came in time; ESRCH once no process uses the filter (its
   * listener has nothing more to say); ENOENT when the caller vanished
   * between the poll and the receive.
   */
  seccompNotifRecv(fd: number, timeoutMs?: number): SeccompNotif | null;
  /** SECCOMP_IOCTL_NOTIF_SEND. ENOENT: the process died or its syscall was interrupted. */
  seccompNotifRespond(fd: number, id: bigint, response: SeccompNotifResponse): void;
  /** SECCOMP_IOCTL_NOTIF_ID_VALID: the notification is still waiting for its answer. */
  seccompNotifIdValid(fd: number, id: bigint): boolean;

  /**
   * bpf(BPF_PROG_LOAD) of a BPF_PROG_TYPE_CGROUP_DEVICE program (struct
   * bpf_insn bytes, src/cgroups/devices-bpf.ts); the fd is close-on-exec. A
   * verifier refusal throws with the verifier's reason in the message and
   * the whole log in `log`. Needs CAP_BPF or CAP_SYS_ADMIN.
   */
  bpfLoadDeviceFilter(insns: Buffer, license: string): number;
  /** Ids of the BPF_CGROUP_DEVICE programs attached to the cgroup dir fd itself. */
  bpfQueryDeviceFilters(cgroupFd: number): number[];
  /** A close-on-exec fd for a loaded program, by id. */
  bpfProgFdById(id: number): number;
  /**
   * bpf(BPF_PROG_ATTACH, BPF_CGROUP_DEVICE) with BPF_F_ALLOW_MULTI; with
   * `replaceFd`, BPF_F_REPLACE swaps that attached program for this one.
   */
  bpfAttachDeviceFilter(cgroupFd: number, progFd: number, replaceFd?: number): void;
  /** bpf(BPF_PROG_DETACH, BPF_CGROUP_DEVICE) of one program. */
  bpfDetachDeviceFilter(cgroupFd: number, progFd: number): void;

  /**
   * A NETLINK_ROUTE socket (close-on-exec) in our network namespace, or in
   * the one `netnsFd` names (made by a short-lived thread of the addon that
   * joins it; nothing else runs there).
   */
  netlinkSocket(netnsFd?: number): number;
  /**
   * Sends one netlink request (NLM_F_ACK or NLM_F_DUMP set, its seq the
   * caller's) and returns the replies before the ACK or NLMSG_DONE, whole
   * messages. A NLMSG_ERROR answer throws a NativeError (syscall "netlink").
   */
  netlinkTalk(sock: number, request: Uint8Array): Uint8Array[];

  readonly constants: NativeConstants;
}

/** What every failing addon call throws, shaped like Node's fs errors. */
export interface NativeError extends Error {
  /** 'EAGAIN', 'ENOENT', ... */
  code: string;
  /** The kernel's errno, positive (unlike Node's negated libuv values). */
  errno: number;
  syscall: string;
  path?: string;
}

export function isNativeError(err: unknown, code?: string): err is NativeError {
  if (!(err instanceof Error)) return false;
  const e = err as Partial<NativeError>;
  if (typeof e.code !== 'string' || typeof e.errno !== 'number' || typeof e.syscall !== 'string') {
    return false;
  }
  return code === undefined || e.code === code;
}

// Where build/Release is: relative to this module in the tsc output
// (out/src/native.js) and in the bundle (dist/hako.mjs, dist/chunks/). The
// single executable (bin/hako, `bun build --compile`) has its modules in
// Bun's virtual file system: scripts/bundle.mjs writes the checkout's
// build/Release into it (so a copy of bin/hako anywhere finds it), and
// relative to the executable's real path covers a checkout moved whole.
const BUILD_DIRS = ['../../build/Release/', '../build/Release/'];
declare const __HAKO_RELEASE_DIR__: string | undefined;

// In order, made only as far as needed: the first one is the usual answer,
// and the last costs a realpath of the executable on every command.
function* candidates(file: string): Generator<string> {
  if (typeof __HAKO_RELEASE_DIR__ === 'string') yield resolve(__HAKO_RELEASE_DIR__, file);
  const url = import.meta.url;
  // A file: URL's path, percent-decoded (what fileURLToPath gives on Linux).
  if (url.startsWith('file:')) for (const d of BUILD_DIRS) yield decodeURIComponent(new URL(d + file, url).pathname);
  yield resolve(dirname(realpathSync(process.execPath)), '../build/Release', file);
}

function locate(file: string, envVar: string): string {
  const override = process.env[envVar];
  if (override) return resolve(override);
  const tried: string[] = [];
  for (const candidate of candidates(file)) {
    if (existsSync(candidate)) return candidate;
    tried.push(candidate);
  }
  throw new Error(`${file} not found (looked in ${tried.join(', ')}); run \`npm run native\` or set ${envVar}`);
}

/** Absolute path of the addon; HAKO_ADDON overrides. */
export function addonPath(): string {
  return locate('hako_addon.node', 'HAKO_ADDON');
}

/** Absolute path of the launcher binary; HAKO_LAUNCHER overrides. */
export function launcherPath(): string {
  return locate('hako-launcher', 'HAKO_LAUNCHER');
}

let loaded: Native | undefined;

/** The addon, loaded on the first call. */
export function native(): Native {
  if (loaded === undefined) {
    const m = { exports: {} as Native };
    process.dlopen(m, addonPath());
    loaded = m.exports;
  }
  return loaded;
}
