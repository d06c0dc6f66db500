// Handing the seccomp listener fd to an agent, received by a test agent that
// reads the message the way runc's example agent does (one recvmsg: the
// state JSON and one SCM_RIGHTS fd).
import { once } from 'node:events';
import { closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { listenerHandover } from '../../src/container/seccomp-listener.js';
import { native } from '../../src/native.js';
import { containerProcessState, sendSeccompListener, SeccompAgentError } from '../../src/seccomp/notify.js';
import type { State } from '../../src/spec/types.js';

const n = native();
const dir = mkdtempSync(join(tmpdir(), 'hako-agent-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const state: State = {
  ociVersion: '1.3.0',
  id: 'box',
  status: 'creating',
  pid: 4242,
  bundle: '/bundles/box',
  annotations: { 'org.example': 'yes' },
};

interface Received {
  fd: number;
  json: Record<string, unknown>;
}

/** A listening agent; `next()` resolves with the next message it receives. */
async function agent(path: string): Promise<{ server: Server; next: () => Promise<Received> }> {
  // pauseOnConnect: libuv must not read the connection itself, or the fd in
  // the ancillary data would be lost to it.
  const server = createServer({ pauseOnConnect: true });
  server.listen(path);
  await once(server, 'listening');
  const next = async (): Promise<Received> => {
    const [conn] = (await once(server, 'connection')) as [Socket];
    const fd = (conn as unknown as { _handle: { fd: number } })._handle.fd;
    const msg = n.recvFd(fd, 4096);
    conn.destroy();
    return { fd: msg.fd, json: JSON.parse(msg.data.toString('utf8')) as Record<string, unknown> };
  };
  return { server, next };
}

test('containerProcessState: runc field names, metadata only when set', () => {
  assert.equal(containerProcessState(7, state, 'meta'), { ociVersion: '1.3.0', fds: ['seccompFd'], pid: 7, metadata: 'meta', state });
  assert.not.ok('metadata' in containerProcessState(7, state));
  assert.not.ok('metadata' in containerProcessState(7, state, ''));
});

test('sendSeccompListener: the agent gets the fd and the process state', async () => {
  const path = join(dir, 'agent.sock');
  const { server, next } = await agent(path);
  try {
    const file = join(dir, 'payload');
    writeFileSync(file, 'x');
    const fd = openSync(file, 'r');
    const got = next();
    sendSeccompListener(path, fd, containerProcessState(4242, state, 'opaque'));
    const r = await got;
    try {
      assert.ok(r.fd >= 0, 'an fd came with the message');
      assert.is(fstatSync(r.fd).ino, fstatSync(fd).ino);
      assert.equal(r.json, {
        ociVersion: '1.3.0',
        fds: ['seccompFd'],
        pid: 4242,
        metadata: 'opaque',
        state: { ociVersion: '1.3.0', id: 'box', status: 'creating', pid: 4242, bundle: '/bundles/box', annotations: { 'org.example': 'yes' } },
      });
    } finally {
      if (r.fd >= 0) closeSync(r.fd);
      closeSync(fd);
    }
  } finally {
    server.close();
  }
});

test('sendSeccompListener: a missing agent is a clear error', () => {
  const fd = openSync('/dev/null', 'r');
  try {
    assert.throws(
      () => sendSeccompListener(join(dir, 'nobody.sock'), fd, containerProcessState(1, state)),
      // The path once: not again from the addon's own message.
      (e: Error) =>
        e instanceof SeccompAgentError && e.message === `cannot connect to the seccomp agent at ${join(dir, 'nobody.sock')}: ENOENT: no such file or directory`,
    );
    assert.throws(
      () => sendSeccompListener('/' + 'x'.repeat(200), fd, containerProcessState(1, state)),
      (e: Error) => e instanceof SeccompAgentError && /ENAMETOOLONG/.test(e.message),
    );
  } finally {
    closeSync(fd);
  }
});

test("listenerHandover: runc's State for the agent (no rootfs, created, owner), metadata, the fd", async () => {
  const path = join(dir, 'handover.sock');
  const { server, next } = await agent(path);
  const h = listenerHandover({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: path, listenerMetadata: 'm' }, () => ({
    pid: 77,
    state: { ociVersion: '1.3.0', id: 'box', pid: 7, status: 'running', bundle: '/b', rootfs: '/b/rootfs', created: 'now', owner: '' },
  }));
  try {
    assert.is(h.passFd.tag, 'SECCOMP_FD_SOCK');
    assert.is.not(h.passFd.fd, h.listener.sock, 'two ends of a pair');
    const fd = openSync('/dev/null', 'r');
    const got = next();
    try {
      h.listener.deliver(fd);
    } finally {
      closeSync(fd);
    }
    const r = await got;
    closeSync(r.fd);
    assert.equal(r.json, {
      ociVersion: '1.3.0',
      fds: ['seccompFd'],
      pid: 77,
      metadata: 'm',
      state: { ociVersion: '1.3.0', id: 'box', status: 'running', pid: 7, bundle: '/b' },
    });
  } finally {
    h.close();
    h.close(); // idempotent
    server.close();
  }
});

test('connectUnix: connects to a listening agent; ENOENT once it is gone', async () => {
  const path = join(dir, 'dead.sock');
  const { server } = await agent(path);
  const fd = n.connectUnix(path);
  n.close(fd);
  server.close();
  await once(server, 'close');
  // Node unlinks the path on close; a stale socket file is the other case.
  assert.throws(
    () => n.connectUnix(path),
    (e: Error & { code?: string }) => e.code === 'ENOENT',
  );
});

test.run();
