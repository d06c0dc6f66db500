// The caller's end of the sockets hako sends an fd over (--console-socket's
// pty master, --pidfd-socket's pidfd, a seccomp listener): one recvmsg of a
// connection the server took with pauseOnConnect, so that libuv does not
// read the message itself and lose the fd in its ancillary data.
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';

import { isNativeError, native } from '../src/native.js';
import { uniqueId } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The fd and payload of the one message on a connection taken with
 * pauseOnConnect. The connection can be accepted before the peer has sent
 * (connect returns once the kernel queues it): wait for the message.
 */
export async function takeFd(conn: Socket, timeoutMs = 20_000): Promise<{ fd: number; data: Buffer }> {
  const raw = (conn as unknown as { _handle: { fd: number } })._handle.fd;
  for (const end = Date.now() + timeoutMs; ; ) {
    try {
      return native().recvFd(raw, 65536);
    } catch (e) {
      if (!isNativeError(e, 'EAGAIN') || Date.now() > end) throw e;
    }
    await sleep(2);
  }
}

/** A listening unix socket (in `dir`) that receives one fd and the name sent with it. */
export class FdReceiver {
  readonly path: string;
  private readonly server: Server;
  readonly got: Promise<{ fd: number; name: string }>;

  constructor(dir: string, what = 'fd') {
    this.path = path.join(dir, `${uniqueId(what)}.sock`);
    this.server = createServer({ pauseOnConnect: true });
    this.got = new Promise((resolve, reject) => {
      this.server.once('connection', (conn: Socket) => {
        takeFd(conn)
          .then((m) => resolve({ fd: m.fd, name: m.data.toString('utf8') }), reject)
          .finally(() => conn.destroy());
      });
    });
  }

  async listen(): Promise<this> {
    this.server.listen(this.path);
    await once(this.server, 'listening');
    return this;
  }

  close(): void {
    this.server.close();
  }
}
