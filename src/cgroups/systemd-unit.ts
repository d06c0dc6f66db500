// linux.cgroupsPath under the systemd cgroup driver: "slice:prefix:name"
// names the unit "prefix-name.scope" in the slice unit "slice", exactly as
// runc's driver names it, so a container lands in the same unit and cgroup
// whichever of the two runtimes created it. Pure.
//
//  - an empty slice means system.slice; "-.slice" is the root slice;
//  - a slice name is also a path: "a-b.slice" is /a.slice/a-b.slice
//    (systemd places slices by their names, "-" separating the levels);
//  - a name ending in ".slice" asks for a slice unit of that name rather
//    than a scope (the prefix is then unused). systemd places it by its own
//    name too, so it must name a child of the given slice
//    ("machine.slice:x:machine-pod1.slice"); runc would compute a cgroup
//    path systemd does not use, hako says so instead;
//  - an empty cgroupsPath is ":hako:<id>" (runc's is ":runc:<id>").
//
// Unit names keep to systemd's alphabet (letters, digits, ":-_.\") and
// 255 bytes; anything else is refused here, naming the JSON path, rather
// than by systemd at create.
import { settingError } from './cgroup-error.js';

export interface SystemdUnitPath {
  /** The parent slice unit: "system.slice". */
  slice: string;
  /** "hako-abc.scope", or a slice unit's name. */
  unit: string;
  kind: 'scope' | 'slice';
  /** The unit's cgroup relative to the hierarchy's root: "/system.slice/hako-abc.scope". */
  cgroup: string;
  /** The container name part, for the unit's Description. */
  name: string;
}

const POINTER = '/linux/cgroupsPath';
const UNIT_CHARS = /^[A-Za-z0-9:_.\\-]+$/;
const UNIT_NAME_MAX = 255;
export const DEFAULT_SLICE = 'system.slice';
export const DEFAULT_PREFIX = 'hako';

/**
 * The cgroup path of a slice unit: "a-b.slice" → "/a.slice/a-b.slice",
 * "-.slice" → "/". Returns a reason when the name is not a slice's.
 */
export function expandSlice(slice: string): string | { invalid: string } {
  const suffix = '.slice';
  if (!slice.endsWith(suffix) || slice.length === suffix.length) return { invalid: 'a slice name ends in ".slice"' };
  if (slice.includes('/')) return { invalid: 'a slice name has no "/"' };
  const base = slice.slice(0, -suffix.length);
  if (base === '-') return '/';
  let out = '';
  let prefix = '';
  for (const part of base.split('-')) {
    // "a--b.slice", "-a.slice" and "a-.slice" have an empty level.
    if (part === '') return { invalid: 'a slice name has no empty "-"-separated parts (such as "a--b.slice")' };
    out += `/${prefix}${part}${suffix}`;
    prefix += `${part}-`;
  }
  return out;
}

function checkUnitName(source: string, what: string, name: string): void {
  if (!UNIT_CHARS.test(name))
    throw settingError(source, POINTER, `${what} ${JSON.stringify(name)} is not a valid systemd unit name (letters, digits and ":-_.\\" only)`);
  if (Buffer.byteLength(name) > UNIT_NAME_MAX)
    throw settingError(source, POINTER, `${what} ${JSON.stringify(name.slice(0, 40))}… is longer than systemd's ${UNIT_NAME_MAX}-byte limit for unit names`);
}

export function resolveSystemdPath(opts: { cgroupsPath?: string; id: string; source?: string }): SystemdUnitPath {
  const source = opts.source ?? 'config.json';
  const raw = opts.cgroupsPath ?? '';
  let slice = '';
  let prefix = DEFAULT_PREFIX;
  let name = opts.id;
  if (raw !== '') {
    const parts = raw.split(':');
    if (parts.length !== 3) {
      throw settingError(
        source,
        POINTER,
        `${JSON.stringify(raw)} is not of the form slice:prefix:name, which the systemd cgroup driver (--systemd-cgroup) expects, e.g. "system.slice:hako:<id>"`,
      );
    }
    [slice, prefix, name] = parts as [string, string, string];
    if (name === '') throw settingError(source, POINTER, `${JSON.stringify(raw)} has an empty name (slice:prefix:name)`);
  }
  if (slice === '') slice = DEFAULT_SLICE;
  checkUnitName(source, 'the slice', slice);
  const parent = expandSlice(slice);
  if (typeof parent !== 'string') throw settingError(source, POINTER, `the slice ${JSON.stringify(slice)} is not a slice unit: ${parent.invalid}`);
  const join = (unit: string) => (parent === '/' ? `/${unit}` : `${parent}/${unit}`);

  if (name.endsWith('.slice')) {
    checkUnitName(source, 'the slice', name);
    const own = expandSlice(name);
    if (typeof own !== 'string') throw settingError(source, POINTER, `the slice ${JSON.stringify(name)} is not a slice unit: ${own.invalid}`);
    if (own !== join(name)) {
      const stem = slice === '-.slice' ? '' : `${slice.slice(0, -'.slice'.length)}-`;
      throw settingError(
        source,
        POINTER,
        `the slice ${JSON.stringify(name)} would not be inside ${slice}: systemd places a slice by its name (${own}), so name it ${JSON.stringify(`${stem}${name}`)}`,
      );
    }
    return { slice, unit: name, kind: 'slice', cgroup: own, name };
  }
  // runc's unit name, even with an empty prefix ("-name.scope"), so both
  // runtimes find the same unit.
  const unit = `${prefix}-${name}.scope`;
  checkUnitName(source, 'the unit', unit);
  return { slice, unit, kind: 'scope', cgroup: join(unit), name };
}
