// `ps`: the container's processes, as host pids (what containerd's shim
// reads with --format json) or as the rows of ps(1) that belong to them.
import { spawnSync } from 'node:child_process';
import { HakoError } from '../errors.js';
import { withContainer } from './access.js';
import type { RuntimeContext } from './context.js';
import { containerPids } from './pids.js';

/** Host pids of the container's processes; empty once it has stopped. Read-only: no lock. */
export function processes(ctx: Pick<RuntimeContext, 'root'>, id: string): number[] {
  return withContainer(ctx, id, { lock: false }, ({ rec }) => containerPids(rec));
}

/** runc's JSON: Go's encoding of a nil slice when nothing runs. */
export function pidsJson(pids: readonly number[]): string {
  return (pids.length ? JSON.stringify(pids) : 'null') + '\n';
}

/**
 * The header and the rows of `ps <args>` (default -ef) whose PID column is
 * one of pids, as runc prints them.
 */
export function psTable(pids: readonly number[], args: readonly string[]): string {
  const r = spawnSync('ps', args.length ? [...args] : ['-ef'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new HakoError(`ps: ${r.error.message}`);
  if (r.status !== 0) {
    const why = r.signal ? `signal: ${r.signal}` : `exit status ${r.status}`;
    throw new HakoError(`${why}: ${(r.stdout + r.stderr).trim()}`);
  }
  return filterPsOutput(r.stdout, pids);
}

/** Pure part of psTable: keep the header and the container's rows. */
export function filterPsOutput(output: string, pids: readonly number[]): string {
  const lines = output.split('\n');
  const header = lines[0] ?? '';
  const pidIndex = header.trim().split(/\s+/).indexOf('PID');
  if (pidIndex < 0) throw new HakoError("couldn't find PID field in ps output");
  const want = new Set(pids);
  let out = header + '\n';
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const field = line.trim().split(/\s+/)[pidIndex] ?? '';
    const pid = Number(field);
    if (!/^\d+$/.test(field)) throw new HakoError(`unable to parse pid: ${JSON.stringify(field)}`);
    if (want.has(pid)) out += line + '\n';
  }
  return out;
}
