// CVE-2016-9962 and issue 10 item 3: a process `hako exec` starts is in
// the container's pid namespace from its clone to its execve, holding the
// runtime's sync socket (and, before, the host's /proc): container root took
// the socket with pidfd_getfd and held it, so that `hako exec` hung as long
// as it liked; runc's exec'd process could be ptraced from the container
// with its host fds open. The process is caught deterministically: the
// container's seccomp profile notifies on execve, and the test's agent
// holds the exec'd process's execve (its last syscall before the container
// program runs, the sync socket still open) until the attacks are done.
// The defence: non-dumpable until execve, nothing of the host but the sync
// socket held. The control: a dumpable stand-in holding a socket and the
// canary's directory, which the same probe takes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { skip, skippable } from '../skip.js';

import { isNativeError, native } from '../../src/native.js';
import { Env, HAKO, isRoot, uniqueId } from '../helpers.js';
import { takeFd } from '../fd-receiver.js';
import { Canary, nsPid, probeResult, ptraceRestricted, standin, withProbe } from './lib.js';

const t = suite('exec-launcher');
const test = skippable(t, 'exec-launcher');
let env: Env;
let enabled = false;
t.before(() => {
  env = new Env();
  try {
    enabled = isRoot && JSON.parse(env.hako(['features']).stdout).linux?.seccomp?.actions?.includes('SCMP_ACT_NOTIFY') === true;
  } catch {
    enabled = false;
  }
});
t.after(() => env.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A seccomp agent that lets everything through but the first notification
 * of the listener numbered `hold` (in order of arrival), which it keeps
 * until release().
 */
class HoldingAgent {
  private listeners: Array<{ fd: number; n: number }> = [];
  private count = 0;
  private timer: NodeJS.Timeout;
  held?: { fd: number; id: bigint; pid: number };
  readonly errors: unknown[] = [];

  constructor(
    private readonly server: Server,
    private readonly hold: number,
  ) {
    server.on('connection', (conn) => {
      const n = this.count++;
      takeFd(conn)
        .then(({ fd }) => {
          conn.destroy();
          if (fd >= 0) this.listeners.push({ fd, n });
        })
        .catch((e) => this.errors.push(e));
    });
    this.timer = setInterval(() => this.serve(), 2);
  }

  static async start(socketPath: string, hold: number): Promise<HoldingAgent> {
    const server = createServer({ pauseOnConnect: true });
    server.listen(socketPath);
    await once(server, 'listening');
    return new HoldingAgent(server, hold);
  }

  release(): void {
    const h = this.held;
    if (!h || h.id < 0n) return;
    native().seccompNotifRespond(h.fd, h.id, { continue: true });
    h.id = -1n;
  }

  stop(): void {
    clearInterval(this.timer);
    this.server.close();
    for (const l of this.listeners) closeSync(l.fd);
    this.listeners = [];
  }

  private serve(): void {
    const n = native();
    for (const l of [...this.listeners]) {
      for (;;) {
        let notif;
        try {
          notif = n.seccompNotifRecv(l.fd, 0);
        } catch (e) {
          if (isNativeError(e, 'ENOENT')) continue;
          if (!isNativeError(e, 'ESRCH')) this.errors.push(e);
          closeSync(l.fd);
          this.listeners = this.listeners.filter((x) => x !== l);
          break;
        }
        if (!notif) break;
        if (l.n === this.hold && !this.held) {
          this.held = { fd: l.fd, id: notif.id, pid: notif.pid };
          continue;
        }
        try {
          n.seccompNotifRespond(l.fd, notif.id, { continue: true });
        } catch (e) {
          if (!isNativeError(e, 'ENOENT')) this.errors.push(e);
        }
      }
    }
  }
}

/** bin/hako without blocking the event loop, which the agent needs. */
async function hako(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const tag = uniqueId('o');
  const outFile = path.join(env.dir, `.${tag}.out`);
  const errFile = path.join(env.dir, `.${tag}.err`);
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  try {
    const child = spawn(HAKO, ['--root', env.root, ...args], { stdio: ['ignore', out, err] });
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(kill);
    return { status: code, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
    rmSync(outFile, { force: true });
    rmSync(errFile, { force: true });
  }
}

test("an exec'd process held at its execve: no ptrace, /proc/PID/fd or pidfd_getfd of its sync socket from the container; `hako exec` completes", async () => {
  if (!enabled) skip('needs root and SCMP_ACT_NOTIFY');
  const canary = new Canary(env, 'exec');
  const listenerPath = path.join(env.dir, 'agent.sock');
  // Listener 0 is the init's, 1 the exec'd process's (the target), 2 the attacker's.
  const agent = await HoldingAgent.start(listenerPath, 1);
  const b = env.bundle((c) => {
    c.process.args = ['sleep', '600'];
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath, syscalls: [{ names: ['execve'], action: 'SCMP_ACT_NOTIFY' }] };
  });
  withProbe(b);
  const id = uniqueId('exec');
  let ctl = { nspid: 0, stop: () => {} };
  let target: Promise<{ status: number | null; stderr: string }> | undefined;
  try {
    let r = await hako(['run', '-d', '--bundle', b, id]);
    assert.is(r.status, 0, r.stderr);
    const init = JSON.parse((await hako(['state', id])).stdout).pid as number;
    ctl = await standin(init, canary.dir);

    target = hako(['exec', id, 'true']);
    for (let i = 0; i < 2000 && !agent.held; i++) await sleep(10);
    assert.ok(agent.held, "the exec'd process never reached its execve");
    const pid = agent.held.pid;
    // Seen from the host: besides stdio it holds the sync socket, nothing else.
    const held = readdirSync(`/proc/${pid}/fd`)
      .map(Number)
      .filter((n) => n > 2)
      .map((n) => readlinkSync(`/proc/${pid}/fd/${n}`));
    assert.is(held.length, 1, `fds: ${held.join(' ')}`);
    assert.match(held[0]!, /^socket:/);
    assert.ok(
      statSync(
        `/proc/${pid}/fd/${readdirSync(`/proc/${pid}/fd`)
          .map(Number)
          .find((n) => n > 2)}`,
      ).isSocket(),
    );

    r = await hako(['exec', id, '/probe', 'attack', String(nsPid(pid)), 'secret', canary.file]);
    assert.is(r.status, 0, r.stderr);
    const attacked = probeResult(r.stdout);
    assert.equal(attacked.ok, [], `the probe got through\n${attacked.out}`);
    assert.match(attacked.out, /^ptrace EPERM$/m);
    assert.match(attacked.out, /^getfd \* EPERM$/m);
    assert.not.match(attacked.out, /^link \d+ ok/m);

    r = await hako(['exec', id, '/probe', 'attack', String(ctl.nspid), 'secret', canary.file]);
    assert.is(r.status, 0, r.stderr);
    const control = probeResult(r.stdout);
    assert.ok(
      control.ok.some((l) => /^link 8 ok socket:/.test(l)),
      `control: /proc/PID/fd/8\n${control.out}`,
    );
    if (ptraceRestricted()) {
      console.log('  (exec-launcher: Yama ptrace_scope > 0: the ptrace and pidfd_getfd controls cannot succeed, not asserted)');
    } else {
      assert.ok(control.ok.includes('ptrace ok'), `control: ptrace\n${control.out}`);
      assert.ok(
        control.ok.some((l) => /^getfd 8 ok socket:/.test(l)),
        `control: pidfd_getfd of the socket\n${control.out}`,
      );
      assert.ok(
        control.ok.some((l) => l.startsWith('getfd 7 ok') && l.includes(canary.content.trim())),
        `control: pidfd_getfd of the directory\n${control.out}`,
      );
    }

    agent.release();
    const done = await target;
    target = undefined;
    assert.is(done.status, 0, done.stderr);
  } finally {
    ctl.stop();
    agent.release();
    if (target) await target;
    await hako(['delete', '--force', id]);
    agent.stop();
  }
  assert.equal(agent.errors, []);
  assert.ok(canary.intact());
});

t.run();
