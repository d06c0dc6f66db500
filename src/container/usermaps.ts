// Writing a new user namespace's maps from outside it, as src/launch/rootless-checks.ts
// decided: by hako itself, or by newuidmap/newgidmap for ranges beyond the
// caller's own id. The init waits for MSG_GO, so it does nothing before
// the maps are there.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InnerError, atLocation, describe, type ErrorKind } from '../errors.js';
import { helperArgs, mapText, type MapWriter, type UserMapsPlan } from '../launch/rootless-checks.js';
import type { Spec } from '../spec/types.js';

// podman calls the runtime with an empty environment: look where the
// uidmap package installs the helpers too.
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The helper's absolute path, found as exec.LookPath would (runc resolves it the same way). */
export function findHelper(name: string, pathEnv = process.env.PATH || DEFAULT_PATH): string | undefined {
  for (const dir of pathEnv.split(':')) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** An error about the maps, placed by the caller in the container. */
function mapsError(kind: 'uid' | 'gid', reason: string, errorKind: ErrorKind = 'system'): InnerError {
  return new InnerError(atLocation('config.json', `/linux/${kind}Mappings`, reason), errorKind);
}

function writeDirect(pid: number, file: string, data: string, kind: 'uid' | 'gid'): void {
  try {
    writeFileSync(`/proc/${pid}/${file}`, data);
  } catch (e) {
    throw mapsError(kind, `writing ${file}: ${describe(e)}`, 'config');
  }
}

function runHelper(tool: MapWriter, pid: number, spec: Spec, kind: 'uid' | 'gid'): void {
  const maps = kind === 'uid' ? spec.linux?.uidMappings : spec.linux?.gidMappings;
  const exe = findHelper(tool);
  const sub = kind === 'uid' ? '/etc/subuid' : '/etc/subgid';
  if (!exe) {
    throw mapsError(
      kind,
      `mapping more than hako's own ${kind} needs ${tool} (Debian package uidmap) and a range for the user in ${sub}; ${tool} was not found in $PATH`,
      'config',
    );
  }
  const args = helperArgs(pid, maps);
  const r = spawnSync(exe, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  if (r.error) throw mapsError(kind, `running ${exe}: ${describe(r.error)}`);
  if (r.status !== 0) {
    const said = (r.stderr || r.stdout).trim().split('\n').filter(Boolean).pop() ?? `exit status ${r.status}`;
    throw mapsError(kind, `${tool} ${args.join(' ')} failed: ${said} (the ranges must be in ${sub} for this user)`, 'config');
  }
}

/** uid_map, then setgroups and gid_map, of the new user namespace of `pid`. */
export function writeUserMaps(pid: number, spec: Spec, plan: UserMapsPlan): void {
  if (plan.uid === 'kernel') writeDirect(pid, 'uid_map', mapText(spec.linux?.uidMappings), 'uid');
  else runHelper(plan.uid, pid, spec, 'uid');
  // Before gid_map: the kernel refuses an unprivileged gid_map otherwise.
  if (plan.setgroupsDeny) writeDirect(pid, 'setgroups', 'deny', 'gid');
  if (plan.gid === 'kernel') writeDirect(pid, 'gid_map', mapText(spec.linux?.gidMappings), 'gid');
  else runHelper(plan.gid, pid, spec, 'gid');
}
