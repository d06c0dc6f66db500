// linux.sysctl → plan records. Pure. Only namespaced keys, each in a
// namespace the container has and that is not hako's own (a path joined
// that names the host's, as runc checks for net.*): anything else would
// change the host.
import type { Namespaces } from './namespaces.js';
import { PlanError } from './plan-error.js';
import { rec, type Rec } from './tlv.js';

// sysctl keys that are namespaced, and by which namespace (runc's rule).
function sysctlNeeds(key: string): 'ipc' | 'network' | 'uts' | null {
  if (/^kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced)$/.test(key) || key.startsWith('fs.mqueue.')) return 'ipc';
  if (key.startsWith('net.')) return 'network';
  if (key === 'kernel.hostname' || key === 'kernel.domainname') return 'uts';
  return null;
}

export function sysctlRecs(
  sysctl: Readonly<Record<string, unknown>> | undefined,
  ns: Namespaces,
  isOwnNamespace: (type: string, path: string) => boolean = () => false,
): Rec[] {
  return Object.entries(sysctl ?? {}).map(([key, value]) => {
    if (key.includes('/') || key.split('.').some((s) => s === '' || s === '..')) throw new PlanError(`/linux/sysctl/${key}`, 'not a sysctl name');
    const need = sysctlNeeds(key);
    if (need === null) throw new PlanError(`/linux/sysctl/${key}`, 'is not namespaced: setting it would change the host');
    if (!ns.types.has(need)) throw new PlanError(`/linux/sysctl/${key}`, `needs a ${need} namespace`);
    const joined = ns.joined[need];
    if (joined !== undefined && isOwnNamespace(need, joined)) {
      throw new PlanError(`/linux/sysctl/${key}`, `the ${need} namespace joined (${joined}) is the host's: setting it would change the host`);
    }
    return rec('SYSCTL', [rec('SC_KEY', key), rec('SC_VALUE', String(value))]);
  });
}
