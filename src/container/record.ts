// What a state file must hold to be believed. A state file that parses is
// not yet a record: `{}`, `[]`, `null` or a record whose fields have the
// wrong types would otherwise reach the commands as undefined pids and
// paths (a raw "paths[1] must be of type string" from `list`), or send a
// signal where none belongs. Pure: the store reads, this judges.
import type { ContainerRecord } from './store.js';
import { isParentOf } from './cgroup-parents.js';
import { isBelow } from './rootfs-mounts.js';

/** Why a state file's content is not a record: a JSON path and a reason. */
export class RecordError extends Error {
  override readonly name = 'RecordError';
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
/** /proc/PID/stat's start time: clock ticks, decimal; '' when unknown. */
const isStartTime = (v: unknown): v is string => typeof v === 'string' && /^\d{0,20}$/.test(v);

function need(ok: boolean, at: string, what: string): void {
  if (!ok) throw new RecordError(at ? `${at}: ${what}` : what);
}

function strings(v: unknown, at: string, what: string): void {
  need(isObj(v), at, 'must be an object');
  for (const [k, s] of Object.entries(v as Obj)) need(typeof s === 'string', `${at}/${k}`, what);
}

/**
 * The record in `value` (parsed JSON), checked field by field, for the
 * container `id`: a record naming another container is not this one's.
 * Throws RecordError naming the first wrong field.
 */
export function checkRecord(value: unknown, id: string): ContainerRecord {
  need(isObj(value), '', `must be an object, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  const r = value as Obj;
  need(r.id === id, '/id', `must be ${JSON.stringify(id)}, the container's id`);
  for (const k of ['ociVersion', 'bundle', 'rootfs', 'created', 'owner'] as const) need(typeof r[k] === 'string', `/${k}`, 'must be a string');
  need(isCount(r.pid), '/pid', 'must be a non-negative integer');
  need(isStartTime(r.initStartTime), '/initStartTime', 'must be a start time (decimal clock ticks) or ""');
  need(isCount(r.newNamespaces), '/newNamespaces', 'must be a non-negative integer');
  if (r.annotations !== undefined) strings(r.annotations, '/annotations', 'must be a string');
  if (r.creating !== undefined) {
    const c = r.creating;
    need(isObj(c), '/creating', 'must be an object');
    need(isCount((c as Obj).pid) && ((c as Obj).pid as number) > 0, '/creating/pid', 'must be a positive integer');
    need(isStartTime((c as Obj).startTime), '/creating/startTime', 'must be a start time (decimal clock ticks) or ""');
  }
  if (r.cgroup !== undefined) {
    strings(r.cgroup, '/cgroup', 'must be an absolute path');
    for (const [k, d] of Object.entries(r.cgroup as Obj))
      need((d as string).startsWith('/') && !(d as string).split('/').includes('..'), `/cgroup/${k}`, 'must be an absolute path without ".."');
  }
  if (r.cgroupParents !== undefined) {
    const ps = r.cgroupParents;
    need(Array.isArray(ps), '/cgroupParents', 'must be an array');
    const mine = Object.values((r.cgroup ?? {}) as Obj) as string[];
    (ps as unknown[]).forEach((d, i) => {
      need(typeof d === 'string' && d.startsWith('/') && !d.split('/').includes('..'), `/cgroupParents/${i}`, 'must be an absolute path without ".."');
      // Only what lies above the container's own cgroup: a damaged or
      // edited record must not name other directories for delete to remove.
      need(isParentOf(d as string, mine), `/cgroupParents/${i}`, 'must be a parent of a directory in /cgroup');
    });
  }
  if (r.rootfsMounts !== undefined) checkRootfsMounts(r.rootfsMounts);
  if (r.systemd !== undefined) {
    strings(r.systemd, '/systemd', 'must be a string');
    const s = r.systemd as Obj;
    for (const k of ['unit', 'slice', 'cgroup']) need(typeof s[k] === 'string', `/systemd/${k}`, 'must be a string');
    need(s.kind === 'scope' || s.kind === 'slice', '/systemd/kind', 'must be "scope" or "slice"');
  }
  if (r.noNewKeyring !== undefined) need(typeof r.noNewKeyring === 'boolean', '/noNewKeyring', 'must be a boolean');
  return r as unknown as ContainerRecord;
}

function checkRootfsMounts(m: unknown): void {
  need(isObj(m), '/rootfsMounts', 'must be an object');
  const o = m as Obj;
  need(
    typeof o.root === 'string' && o.root.startsWith('/') && !o.root.split('/').includes('..'),
    '/rootfsMounts/root',
    'must be an absolute path without ".."',
  );
  need(Array.isArray(o.before) && o.before.every(isCount), '/rootfsMounts/before', 'must be an array of mount ids');
  if (o.made === undefined) return;
  need(Array.isArray(o.made), '/rootfsMounts/made', 'must be an array');
  (o.made as unknown[]).forEach((e, i) => {
    const at = `/rootfsMounts/made/${i}`;
    need(isObj(e) && isCount(e.id), `${at}/id`, 'must be a mount id');
    // Only below the rootfs: delete never unmounts anything else.
    need(typeof (e as Obj).path === 'string' && isBelow(o.root as string, (e as Obj).path as string), `${at}/path`, 'must be a path below /rootfsMounts/root');
  });
}

/** checkRecord of a state file's text. */
export function parseRecord(text: string, id: string): ContainerRecord {
  if (text.trim() === '') throw new RecordError('empty file');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RecordError(`not JSON (${(e as Error).message.replace(/\s*\n\s*/g, '; ')})`);
  }
  return checkRecord(value, id);
}
