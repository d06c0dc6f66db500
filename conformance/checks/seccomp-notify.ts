// SCMP_ACT_NOTIFY (config-linux.md#seccomp, listenerPath and "The Container
// Process State"): an agent in this process, listening at listenerPath,
// receives one container process state per connection with the listener as
// SCM_RIGHTS, and its answers are what the container's syscalls return.
import path from 'node:path';
import type { Check, T } from '../harness.js';
import { TestAgent } from '../../test/seccomp-agent.js';

async function agentAt(t: T, name: string): Promise<{ agent: TestAgent; listenerPath: string }> {
  const listenerPath = path.join(t.dir, name);
  const agent = await TestAgent.start(listenerPath);
  t.defer(() => agent.stop());
  return { agent, listenerPath };
}

const notifying = (listenerPath: string, metadata: string) => ({
  defaultAction: 'SCMP_ACT_ALLOW' as const,
  listenerPath,
  listenerMetadata: metadata,
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' as const }],
});

export const checks: Check[] = [
  ...[true, false].map(
    (nnp): Check => ({
      id: `seccomp.notify${nnp ? '' : '-nnp-false'}`,
      section: 'config-linux.md#seccomp',
      level: 'MUST',
      title:
        'SCMP_ACT_NOTIFY: the agent at listenerPath gets one container process state (ociVersion, fds ["seccompFd"], pid, metadata, state "creating") with the listener, and its answer is what the syscall returns' +
        (nnp ? '' : ', with noNewPrivileges false'),
      async run(t) {
        const { agent, listenerPath } = await agentAt(t, 'agent.sock');
        const r = await t.sh('mkdir /tmp/d 2>&1; echo rc=$?', (c) => {
          c.process.noNewPrivileges = nnp;
          // The agent answers as the metadata says.
          c.linux.seccomp = notifying(listenerPath, 'errno=13');
        });
        t.assert(/Permission denied/.test(r.stdout) && /rc=1/.test(r.stdout), `mkdir answered by the agent: ${r.stdout.trim()}`);
        t.eq(agent.received.length, 1, 'container process states received');
        const got = agent.received[0]!;
        t.eq(got.fdKind, 'anon_inode:seccomp notify', 'the fd');
        const s = got.state;
        t.eq(s.fds, ['seccompFd'], 'fds');
        t.eq(s.metadata, 'errno=13', 'metadata');
        t.assert(typeof s.ociVersion === 'string' && Number.isInteger(s.pid) && s.pid > 0, `ociVersion and pid: ${JSON.stringify(s)}`);
        t.eq(s.state?.status, 'creating', 'state.status');
        t.assert(typeof s.state?.id === 'string' && typeof s.state?.bundle === 'string', `state: ${JSON.stringify(s.state)}`);
      },
    }),
  ),
  {
    id: 'seccomp.notify-unreachable',
    section: 'config-linux.md#seccomp',
    level: 'MUST',
    title: 'SCMP_ACT_NOTIFY: if sending to listenerPath fails, create is an error',
    async run(t) {
      await t.createFails(
        t.bundle((c) => {
          c.linux.seccomp = notifying(path.join(t.dir, 'nobody.sock'), 'x');
        }),
        'with no agent listening at listenerPath',
      );
    },
  },
];
