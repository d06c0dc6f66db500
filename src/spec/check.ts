// Rules of the runtime-spec that JSON Schema cannot state: uniqueness,
// "at least one of", values that depend on other values. Only the document
// is judged here; what depends on the host or on hako's way of running a
// container (namespaces needed for hostname or sysctl, user namespace
// mappings) is decided by the plan builder in src/launch/plan.ts.

import { SpecError, pointerToken } from './spec-error.js';
import type { LinuxResources, LinuxSeccomp, Mount, Process, Spec } from './generated/config.js';
import { checkOciVersion } from './version.js';

/** Throws the first semantic problem of a schema-valid config.json. */
export function checkSpec(spec: Spec, file: string): void {
  checkOciVersion(spec.ociVersion, file);
  // The spec makes root REQUIRED on every platform but Windows, and process
  // REQUIRED by the time of start; runc refuses to create without either.
  if (spec.root === undefined) throw new SpecError(file, '', "must have required property 'root'");
  if (spec.process === undefined) throw new SpecError(file, '', "must have required property 'process'");
  checkProcess(spec.process, file, '/process');
  const linux = spec.linux;
  const seen = new Map<string, number>();
  linux?.namespaces?.forEach((ns, i) => {
    const first = seen.get(ns.type);
    if (first !== undefined) {
      throw new SpecError(file, `/linux/namespaces/${i}/type`, `namespace ${ns.type} is already given at /linux/namespaces/${first}`);
    }
    seen.set(ns.type, i);
  });
  spec.mounts?.forEach((m, i) => checkMount(m, file, `/mounts/${i}`, seen.has('user')));
  if (linux?.resources) checkResources(linux.resources, file, '/linux/resources');
  if (linux?.seccomp) checkSeccomp(linux.seccomp, file, '/linux/seccomp');
}

/** Process rules, also for a process.json given to exec. */
export function checkProcess(p: Process, file: string, at: string): void {
  const seen = new Map<string, number>();
  p.rlimits?.forEach((r, i) => {
    const first = seen.get(r.type);
    if (first !== undefined) throw new SpecError(file, `${at}/rlimits/${i}/type`, `${r.type} is already given at ${at}/rlimits/${first}`);
    seen.set(r.type, i);
  });
}

function checkMount(m: Mount, file: string, at: string, userns: boolean): void {
  // The schema already insists that uidMappings and gidMappings come together.
  const idmap = m.options?.findIndex((o) => o === 'idmap' || o === 'ridmap') ?? -1;
  if (idmap >= 0 && m.uidMappings === undefined && !userns) {
    throw new SpecError(file, `${at}/options/${idmap}`, `${m.options![idmap]} needs uidMappings and gidMappings on the mount, or a user namespace`);
  }
}

/** Resource rules, also for the document given to `update -r`. */
export function checkResources(r: LinuxResources, file: string, at: string): void {
  r.blockIO?.weightDevice?.forEach((d, i) => {
    if (d.weight === undefined && d.leafWeight === undefined) {
      throw new SpecError(file, `${at}/blockIO/weightDevice/${i}`, 'must have weight or leafWeight');
    }
  });
  for (const [name, limit] of Object.entries(r.rdma ?? {})) {
    if (limit && limit.hcaHandles === undefined && limit.hcaObjects === undefined) {
      throw new SpecError(file, `${at}/rdma/${pointerToken(name)}`, 'must have hcaHandles or hcaObjects');
    }
  }
  const cpu = r.cpu;
  if (cpu?.burst !== undefined && cpu.quota !== undefined && cpu.quota > 0 && cpu.burst > cpu.quota) {
    throw new SpecError(file, `${at}/cpu/burst`, `must not be larger than quota (${cpu.quota})`);
  }
}

// The actions libseccomp gives a return value to.
const ERRNO_ACTIONS = new Set(['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE']);

function checkSeccomp(s: LinuxSeccomp, file: string, at: string): void {
  // "When the action doesn't support an errno, the runtime MUST print an error and fail."
  if (s.defaultErrnoRet !== undefined && !ERRNO_ACTIONS.has(s.defaultAction)) {
    throw new SpecError(file, `${at}/defaultErrnoRet`, `applies only to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not ${s.defaultAction}`);
  }
  s.syscalls?.forEach((sc, i) => {
    if (sc.errnoRet !== undefined && !ERRNO_ACTIONS.has(sc.action)) {
      throw new SpecError(file, `${at}/syscalls/${i}/errnoRet`, `applies only to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not ${sc.action}`);
    }
  });
}
