// One conversation with criu as runc has it: `criu swrk 3`, the far end of
// a SOCK_SEQPACKET socketpair as its fd 3, one request out, then responses
// in (notifications answered with notify_success) until the final one.
// criu opens the images and work directories through /proc/OUR_PID/fd/N,
// so those fds stay ours; only the socket, the stdio and `extraFds` (at 4,
// 5, ... for inherit_fd) are criu's.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeSync } from 'node:fs';
import { native } from '../native.js';
import { decodeResp, encodeReq, REQ, REQ_NAMES, type CriuReq, type CriuResp } from './rpc.js';

/** criu failed or could not be run: one line, saying why. */
export class CriuError extends Error {
  override readonly name = 'CriuError';
}

export interface Notification {
  script: string;
  pid: number;
  /** An fd that came with it (orphan-pts-master), or -1; closed after the handler. */
  fd: number;
}

export interface SwrkOptions {
  /** The criu binary (--criu). */
  criu: string;
  /** criu's stdin, stdout, stderr: fds of ours ('ignore' for /dev/null; stderr is collected when 'pipe'). */
  stdio: [number | 'ignore', number | 'ignore', number | 'pipe'];
  /** More fds for criu, at 4, 5, ... (namespaces given by path, for inherit_fd). */
  extraFds?: number[];
  /** criu runs and has not read the request yet: restore puts it in the container's cgroup here. */
  started?: (pid: number, req: CriuReq) => void;
  notify?: (n: Notification) => Promise<void> | void;
  /** The log criu writes (image or work directory), whose last error is quoted. */
  logFile?: string;
}

// runc's receive buffer: a response never comes near it.
const MAX_MESSAGE = 10 * 4096;

/** Sends `req` and returns criu's final response; throws CriuError when criu fails. */
export async function criuSwrk(req: CriuReq, o: SwrkOptions): Promise<CriuResp> {
  const n = native();
  const [ours, theirs] = n.socketpair('seqpacket');
  let child: ChildProcess;
  let stderr = '';
  try {
    child = spawn(o.criu, ['swrk', '3'], { stdio: [...o.stdio, theirs, ...(o.extraFds ?? [])] });
  } finally {
    n.close(theirs);
  }
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-8192)));
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (e) => resolve(`cannot run ${o.criu}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    child.on('close', (code, signal) => resolve(signal ? `criu killed by ${signal}` : (code ?? 0)));
  });
  let done = false;
  try {
    if (child.pid === undefined) throw new CriuError(String(await exited));
    o.started?.(child.pid, req);
    writeSync(ours, encodeReq(req));
    const resp = await converse(
      ours,
      req,
      o,
      () => exited,
      () => stderr,
    );
    done = true;
    return resp;
  } finally {
    n.close(ours);
    // The request is answered (or failed): criu exits once its socket
    // closes (a pre-dump waits for a next request until then).
    const status = await exited;
    if (done && status !== 0 && req.type !== REQ.PRE_DUMP) {
      // biome-ignore lint/correctness/noUnsafeFinally: criu's exit status is the answer when the exchange itself went through
      throw new CriuError(`criu exited with ${typeof status === 'number' ? `status ${status}` : status}${hint(o, stderr)}`);
    }
  }
}

async function converse(sock: number, req: CriuReq, o: SwrkOptions, exited: () => Promise<number | string>, stderr: () => string): Promise<CriuResp> {
  const n = native();
  const type = REQ_NAMES[req.type] ?? String(req.type);
  for (;;) {
    const m = n.recvFd(sock, MAX_MESSAGE);
    if (m.data.length === 0) {
      if (m.fd >= 0) n.close(m.fd);
      const status = await exited();
      const how = typeof status === 'number' ? `exited with status ${status}` : status;
      const h = hint(o, stderr());
      throw new CriuError(`${kernelNote(h)}criu ${how} before answering the ${type} request${h}`);
    }
    let resp: CriuResp;
    try {
      resp = decodeResp(m.data);
    } catch (e) {
      if (m.fd >= 0) n.close(m.fd);
      throw new CriuError(`criu's answer to ${type} is not a criu_resp: ${(e as Error).message}`);
    }
    if (!resp.success) {
      if (m.fd >= 0) n.close(m.fd);
      const errno = resp.crErrno ? ` (errno ${resp.crErrno})` : '';
      const h = hint(o, stderr(), resp.crErrmsg);
      throw new CriuError(`${kernelNote(h)}criu failed (${REQ_NAMES[resp.type] ?? resp.type})${h}${errno}`);
    }
    if (resp.type !== REQ.NOTIFY) {
      if (m.fd >= 0) n.close(m.fd);
      return resp;
    }
    try {
      await o.notify?.({ script: resp.notify?.script ?? '', pid: resp.notify?.pid ?? 0, fd: m.fd });
    } finally {
      if (m.fd >= 0) n.close(m.fd);
    }
    writeSync(sock, encodeReq({ type: REQ.NOTIFY, notifySuccess: true }));
  }
}

/**
 * criu probes the kernel's features (kerndat) before any work: when that
 * fails, criu cannot work on this kernel at all, which is worth saying first.
 */
function kernelNote(hint: string): string {
  return /kerndat/.test(hint) ? `criu cannot run on this kernel (${release()}): ` : '';
}

function release(): string {
  try {
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    return 'unknown release';
  }
}

/** The last error criu wrote (its log, else its stderr), and where the log is. */
function hint(o: SwrkOptions, stderr: string, errmsg?: string): string {
  let log = '';
  if (o.logFile) {
    try {
      log = readFileSync(o.logFile, 'utf8');
    } catch {
      /* no log: criu failed before it opened one */
    }
  }
  // criu's own message is its errors joined with "; ": the first is the cause.
  const first = errmsg
    ?.split(/;\s*/)
    .map((e) => e.replace(/^.*?Error \([^)]*\):\s*/, '').trim())
    .find(Boolean);
  const last = first ?? lastError(log) ?? lastError(stderr);
  return `${last ? `: ${last}` : ''}${log ? ` (log: ${o.logFile})` : ''}`;
}

/** The text of the last "Error (file:line): ..." line of criu's output, if any. */
export function lastError(text: string): string | undefined {
  const lines = text.split('\n').filter((l) => /\bError \(/.test(l));
  const l = lines[lines.length - 1];
  return l?.replace(/^.*?Error \([^)]*\):\s*/, '').trim() || undefined;
}
