// The client side of the CRI's streaming exec, as `kubectl exec` reaches it
// through the kubelet: a WebSocket (RFC 6455) to the URL that Exec returned,
// with Kubernetes' channel protocol v4.channel.k8s.io: each binary message
// starts with its channel (1 stdout, 2 stderr, 3 the final status as JSON).
// Node 20 has no WebSocket client, and this needs only the handshake and the
// reading of unmasked server frames, so it is written here.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';

export interface StreamResult {
  stdout: string;
  stderr: string;
  /** The v4 status: "Success", or the exit code of a command that failed (its "ExitCode" cause). */
  exitCode: number;
  status: unknown;
}

const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;

/** The exit code a v4 status carries (0 on Success). */
export function exitCodeOf(status: any): number {
  if (status?.status === 'Success') return 0;
  const cause = status?.details?.causes?.find((c: any) => c.reason === 'ExitCode');
  return cause ? Number(cause.message) : -1;
}

/** Splits complete frames off `buf`; returns them and the rest. Server frames are not masked. */
export function frames(buf: Buffer): { frames: { opcode: number; payload: Buffer }[]; rest: Buffer } {
  const out: { opcode: number; payload: Buffer }[] = [];
  let i = 0;
  for (;;) {
    if (buf.length - i < 2) break;
    const opcode = buf[i]! & 0x0f;
    let len = buf[i + 1]! & 0x7f;
    let head = 2;
    if (len === 126) {
      if (buf.length - i < 4) break;
      len = buf.readUInt16BE(i + 2);
      head = 4;
    } else if (len === 127) {
      if (buf.length - i < 10) break;
      len = Number(buf.readBigUInt64BE(i + 2));
      head = 10;
    }
    if (buf.length - i < head + len) break;
    out.push({ opcode, payload: buf.subarray(i + head, i + head + len) });
    i += head + len;
  }
  return { frames: out, rest: buf.subarray(i) };
}

/** Runs the exec behind `url` to its end (the server closes the stream). */
export function execStream(url: string, timeoutMs = 60_000): Promise<StreamResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Protocol': 'v4.channel.k8s.io',
      },
      timeout: timeoutMs,
    });
    req.on('timeout', () => req.destroy(new Error(`exec stream ${url}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.on('response', (res) => reject(new Error(`exec stream ${url}: HTTP ${res.statusCode} instead of an upgrade`)));
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
      const out = { stdout: '', stderr: '', status: undefined as unknown };
      let pending = head;
      const take = (data: Buffer) => {
        const got = frames(Buffer.concat([pending, data]));
        pending = got.rest;
        for (const f of got.frames) {
          if (f.opcode === 8) socket.end();
          if (f.opcode !== 2 || f.payload.length === 0) continue;
          const body = f.payload.subarray(1).toString('utf8');
          if (f.payload[0] === STDOUT) out.stdout += body;
          else if (f.payload[0] === STDERR) out.stderr += body;
          else if (f.payload[0] === ERROR && body) out.status = JSON.parse(body);
        }
      };
      socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`exec stream ${url}: idle for ${timeoutMs} ms`)));
      socket.on('data', take);
      socket.on('error', reject);
      socket.on('close', () => resolve({ ...out, exitCode: exitCodeOf(out.status) }));
      take(Buffer.alloc(0));
    });
    req.end();
  });
}
