// Whether criu can work here: `criu check`, which probes the kernel's
// features first (a kernel criu does not know fails there at once, as the
// development hosts' 6.18 does with criu 3.17). Asked by the `checkpoint
// --help` probe (podman's question whether the runtime can checkpoint) and
// by `features`, which lists checkpoint/restore only where criu works.
import { spawnSync } from 'node:child_process';
import { lastError } from './swrk.js';

/** true, or why criu cannot work here (one line). */
export function criuUsable(criu: string): true | string {
  const r = spawnSync(criu, ['check'], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return `cannot run ${criu}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`;
  if (r.status === 0) return true;
  const out = `${r.stdout}\n${r.stderr}`;
  // The kernel probe's own error says what failed; criu's last line only that the probe did.
  const probe = out.split('\n').find((l) => /failed when initializing kerndat/.test(l));
  const why = (probe ? lastError(probe) : undefined) ?? lastError(out) ?? `status ${r.status}`;
  return `criu check fails here: ${why}`;
}
