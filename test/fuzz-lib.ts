// Input generators for the fuzz test (test/integration/fuzz.test.ts): a
// seeded PRNG, mutations of a config.json, and command lines built from the
// CLI's own flag table. Pure: no process runs here.
import { COMMANDS, GLOBAL_FLAGS, type FlagSpec } from '../src/cli/args.js';

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The seed of case `i` of a run seeded `seed`: each case can be replayed alone. */
export function caseSeed(seed: number, i: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (i + 0x85ebca6b), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

// Strings meant to break paths, names and parsers. None names a program
// that would do harm if run (hooks run on the host), nor a host cgroup.
export const ODD_STRINGS: readonly string[] = [
  '',
  ' ',
  '.',
  '..',
  '../../../../etc',
  '/../../../etc/passwd',
  '/',
  '//',
  'a\u0000b',
  '\n',
  'line\nbreak',
  'x'.repeat(5000),
  'é箱😀',
  '\ud800',
  '%s%n%x',
  '-1',
  '--help',
  'true',
  '0x10',
  '1e3',
  'null',
  '$(id)',
  '*',
  'CAP_SYS_ADMIN',
  'CAP_BOGUS',
  'SCMP_ACT_KILL',
  'RLIMIT_NOFILE',
  'RLIMIT_BOGUS',
  '/dev/null',
  '/proc/self/fd/0',
  'rootfs',
  '/bin/true',
  '/bin/false',
  '/nonexistent/fuzz',
  'relative/path',
  'slice:prefix:name',
];

export const ODD_NUMBERS: readonly number[] = [
  0,
  -1,
  1,
  7,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  2 ** 53,
  2 ** 63,
  2 ** 64,
  -(2 ** 63),
  1e308,
  -1e308,
  0.5,
  -0.000001,
  1e-300,
];

// Number literals JSON.stringify cannot write: spliced into the text.
export const ODD_LITERALS: readonly string[] = [
  '18446744073709551615',
  '18446744073709551616',
  '-9223372036854775809',
  '1e400',
  '-0',
  '123456789012345678901234567890',
  '0.0000000000000000000000000001',
];

const LITERAL_MARK = '\u0001lit:';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** A config.json with every kind of object the schema has that this host can run, all valid. */
export function richConfig(base: any, scratch: string): any {
  const c = structuredClone(base);
  c.process.args = ['true'];
  c.process.user = { uid: 0, gid: 0, additionalGids: [1, 2], umask: 18 };
  c.process.oomScoreAdj = 0;
  c.process.rlimits = [
    { type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 },
    { type: 'RLIMIT_NPROC', hard: 4096, soft: 4096 },
  ];
  c.process.scheduler = { policy: 'SCHED_OTHER', nice: 0 };
  c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 4 };
  c.hostname = 'fz';
  c.domainname = 'fz.local';
  c.annotations = { 'org.fuzz': 'yes' };
  c.mounts.push({ destination: '/mnt', type: 'bind', source: scratch, options: ['rbind', 'ro'] });
  c.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] });
  c.hooks = {
    prestart: [{ path: '/bin/true' }],
    createRuntime: [{ path: '/bin/true', args: ['true', 'x'], env: ['A=b'], timeout: 5 }],
    createContainer: [{ path: '/bin/true' }],
    startContainer: [{ path: '/bin/true' }],
    poststart: [{ path: '/bin/true' }],
    poststop: [{ path: '/bin/true' }],
  };
  const l = c.linux;
  l.resources = {
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    ],
    memory: { limit: 268435456, reservation: 134217728 },
    cpu: { shares: 512, quota: 100000, period: 100000 },
    pids: { limit: 100 },
  };
  l.devices = [{ path: '/dev/fuzz0', type: 'c', major: 1, minor: 3, fileMode: 438, uid: 0, gid: 0 }];
  l.seccomp = {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['kexec_load', 'open_by_handle_at'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
  };
  l.rootfsPropagation = 'rslave';
  l.personality = { domain: 'LINUX' };
  l.cgroupsPath = '';
  return c;
}

interface Node {
  path: (string | number)[];
  value: Json;
}

function nodes(doc: Json): Node[] {
  const out: Node[] = [];
  const stack: Node[] = [{ path: [], value: doc }];
  while (stack.length) {
    const n = stack.pop()!;
    out.push(n);
    if (Array.isArray(n.value)) n.value.forEach((v, i) => stack.push({ path: [...n.path, i], value: v }));
    else if (n.value && typeof n.value === 'object') for (const [k, v] of Object.entries(n.value)) stack.push({ path: [...n.path, k], value: v });
  }
  return out;
}

function parentOf(doc: Json, p: (string | number)[]): any {
  let v: any = doc;
  for (const k of p.slice(0, -1)) v = v[k];
  return v;
}

/** A value of the same type as `like` that still says something odd: schema-valid more often than not. */
function sameType(r: Rng, like: Json): Json {
  if (typeof like === 'string') {
    switch (r.int(6)) {
      case 0:
        return '../' + like;
      case 1:
        return like + '/..';
      case 2:
        return like.slice(0, r.int(like.length + 1)) + r.pick(['\u0000', '\n', '/../', '//', ' ', '\ud800', '%n']) + like.slice(r.int(like.length + 1));
      case 3:
        return like.repeat(r.pick([2, 100, 2000]));
      default:
        return r.pick(ODD_STRINGS);
    }
  }
  if (typeof like === 'number') return r.chance(0.3) ? LITERAL_MARK + r.pick(ODD_LITERALS) : r.pick(ODD_NUMBERS);
  if (typeof like === 'boolean') return !like;
  if (Array.isArray(like)) return like.length ? [...like, like[r.int(like.length)]!] : [];
  return r.pick(ODD_STRINGS);
}

function oddValue(r: Rng, like?: Json): Json {
  if (like !== undefined && like !== null && (typeof like !== 'object' || Array.isArray(like)) && r.chance(0.6)) return sameType(r, like);
  const kind = r.int(6);
  if (kind === 0) return r.pick(ODD_STRINGS);
  if (kind === 1) return r.pick(ODD_NUMBERS);
  if (kind === 2) return LITERAL_MARK + r.pick(ODD_LITERALS);
  if (kind === 3) return r.pick([true, false, null]);
  if (kind === 4) return r.pick<Json>([[], {}, [1, 'a', null], { a: 1 }, [r.pick(ODD_STRINGS)], { [r.pick(ODD_STRINGS)]: r.pick(ODD_STRINGS) }]);
  // Same type as before, other value.
  if (typeof like === 'string') return r.pick(ODD_STRINGS);
  if (typeof like === 'number') return r.pick(ODD_NUMBERS);
  if (Array.isArray(like)) return like.length ? [...like, like[r.int(like.length)]!] : [];
  return r.pick(ODD_STRINGS);
}

function nested(depth: number): Json {
  // Deep ones as text: JSON.stringify recurses.
  if (depth > 100) return LITERAL_MARK + '['.repeat(depth) + ']'.repeat(depth);
  let v: Json = [];
  for (let i = 1; i < depth; i++) v = [v];
  return v;
}

/** One structural mutation, described for the failure report. */
function mutateTree(r: Rng, doc: Json): string {
  const all = nodes(doc);
  const n = r.pick(all);
  const at = '/' + n.path.join('/');
  const op = r.int(7);
  if (n.path.length === 0 || op === 0) {
    // Add a key (a known name or an odd one) to some object.
    const objs = all.filter((x) => x.value && typeof x.value === 'object' && !Array.isArray(x.value));
    const o = r.pick(objs);
    const key = r.chance(0.5)
      ? r.pick(['args', 'path', 'type', 'options', 'source', 'limit', 'uid', 'names', 'timeout', 'terminal', 'namespaces', 'x-extra'])
      : r.pick(ODD_STRINGS);
    const v = oddValue(r);
    (o.value as any)[key] = v;
    return `add ${'/' + o.path.join('/')}/${JSON.stringify(key).slice(0, 40)}`;
  }
  const parent = parentOf(doc, n.path);
  const key = n.path[n.path.length - 1]!;
  switch (op) {
    case 1:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      return `delete ${at}`;
    case 2:
    case 3:
      parent[key] = oddValue(r, n.value);
      return `set ${at}`;
    case 4:
      if (r.chance(0.5)) {
        parent[key] = oddValue(r, n.value);
        return `set ${at}`;
      }
      parent[key] = nested(r.pick([2, 50, 999, 1001, 5000, 100000]));
      return `nest ${at}`;
    case 5:
      parent[key] = Array.isArray(n.value) ? [] : n.value && typeof n.value === 'object' ? {} : r.pick(['', 0]);
      return `empty ${at}`;
    default:
      if (Array.isArray(n.value) && n.value.length) {
        for (let i = r.int(3) + 1; i > 0; i--) n.value.push(structuredClone(n.value[r.int(n.value.length)]!));
        return `repeat ${at}`;
      }
      parent[key] = oddValue(r, n.value);
      return `set ${at}`;
  }
}

function serialize(doc: Json): string {
  return JSON.stringify(doc, null, 1).replace(/"\\u0001lit:([^"]*)"/g, '$1');
}

/** Byte-level damage to the serialized text. */
function mutateBytes(r: Rng, text: Buffer): { bytes: Buffer; what: string } {
  const at = r.int(text.length + 1);
  switch (r.int(6)) {
    case 0:
      return { bytes: text.subarray(0, at), what: `truncate at ${at}` };
    case 1: {
      const ins = r.pick([[0xff], [0xc3], [0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf], [0x00], [0xe2, 0x82]]);
      return { bytes: Buffer.concat([text.subarray(0, at), Buffer.from(ins), text.subarray(at)]), what: `insert ${Buffer.from(ins).toString('hex')} at ${at}` };
    }
    case 2:
      return { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), text]), what: 'BOM' };
    case 3: {
      const b = Buffer.from(text);
      if (at < b.length) b[at] = r.pick([0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x5c, 0x20, 0x30]);
      return { bytes: b, what: `byte at ${at}` };
    }
    case 4: {
      // Into a string value: a control character or a broken escape.
      const q = text.indexOf(0x22, at);
      if (q < 0) return { bytes: text, what: 'none' };
      const ins = r.pick(['\t', '\\x', '\\u12', '\\ud800', '\\udc00\\ud800', '\\u0000', '\u0001']);
      return { bytes: Buffer.concat([text.subarray(0, q + 1), Buffer.from(ins), text.subarray(q + 1)]), what: `in string at ${q + 1}: ${JSON.stringify(ins)}` };
    }
    default:
      return { bytes: Buffer.concat([text, Buffer.from(r.pick(['x', '}', ',', '{}', '\n\n']))]), what: 'trailing' };
  }
}

/**
 * Without a mount namespace of its own a container's mounts are made in the
 * host's, by design (runc does the same, and leaves them there): a fuzz
 * case must not do that to the machine, so the mount namespace stays.
 */
export function keepMountNamespace(doc: any): boolean {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return false;
  if (doc.linux === undefined) doc.linux = {};
  const l = doc.linux;
  if (!l || typeof l !== 'object' || Array.isArray(l)) return false;
  if (l.namespaces === undefined) l.namespaces = [];
  if (!Array.isArray(l.namespaces) || l.namespaces.some((n: any) => n && typeof n === 'object' && n.type === 'mount')) return false;
  l.namespaces.push({ type: 'mount' });
  return true;
}

/** A mutated config.json: 1 to 3 changes to the tree, now and then damage to the bytes. */
export function mutateConfig(r: Rng, rich: any, isConfig = true): { bytes: Buffer; what: string[] } {
  const doc = structuredClone(rich) as Json;
  const what: string[] = [];
  for (let i = r.chance(0.6) ? 1 : r.int(3) + 1; i > 0; i--) what.push(mutateTree(r, doc));
  if (isConfig && keepMountNamespace(doc)) what.push('(mount namespace put back)');
  let bytes: Buffer = Buffer.from(serialize(doc), 'utf8');
  if (r.chance(0.15)) {
    const m = mutateBytes(r, bytes);
    bytes = m.bytes;
    what.push(m.what);
  }
  return { bytes, what };
}

// --- command lines

export interface ArgvContext {
  /** A running container's id. */
  existing: string;
  /** A fresh id for this case. */
  fresh: string;
  /** A valid bundle. */
  bundle: string;
  /** Paths inside the scratch directory: files, directories, missing ones. */
  paths: readonly string[];
}

const ODD_IDS = ['', '.', '..', '../x', 'a/b', '-x', '--', 'x'.repeat(1025), '箱', ' ', 'a b', 'UPPER', 'id\nnl'];
const ODD_INTS = ['0', '1', '-1', '3', '0x10', '0o17', '017', '1_000', '99999999999999999999', '9223372036854775807', 'abc', '', ' 1', '1.5'];
const ODD_DURATIONS = ['1s', '0', '-1s', '1h', 'abc', '', '1ms', '5', '999999999h'];
const ODD_BOOLS = ['true', 'false', 'maybe', '', '1', 'auto'];
const EXEC_ARGS: readonly (readonly string[])[] = [
  ['true'],
  ['sh', '-c', 'exit 3'],
  ['/nonexistent'],
  [''],
  ['cat'],
  ['sleep', '0'],
  ['sh', '-c', 'echo out; echo err >&2'],
];
const SIGNALS = ['KILL', 'TERM', 'SIGTERM', '0', '9', '15', 'SIGFOO', '-1', '99999', 'hup', 'RTMIN+1', ''];

function flagValue(r: Rng, f: FlagSpec, ctx: ArgvContext): string {
  switch (f.type) {
    case 'int':
    case 'intArray':
      return r.pick(ODD_INTS);
    case 'duration':
      return r.pick(ODD_DURATIONS);
    case 'bool':
      return r.pick(ODD_BOOLS);
    default:
      break;
  }
  if (f.name === 'log-format') return r.pick(['text', 'json', 'xml', '']);
  if (f.name === 'format') return r.pick(['json', 'table', 'bogus', '']);
  if (f.name === 'rootless') return r.pick(ODD_BOOLS);
  // Anything that names a file or directory stays inside the scratch directory.
  if (/bundle|root|log$|file|socket|process$|criu|path/.test(f.name)) return r.pick(ctx.paths);
  if (f.name === 'env') return r.pick(['A=b', 'A', '=x', 'PATH=', '']);
  if (f.name === 'cap') return r.pick(['CAP_KILL', 'CAP_BOGUS', 'kill', '']);
  if (f.name === 'user') return r.pick(['0', '1000:1000', 'nobody', ':', '-1', 'root:root', '']);
  if (f.name === 'cwd') return r.pick(['/', '/tmp', 'relative', '/nonexistent', '']);
  return r.pick(ODD_STRINGS.filter((s) => !s.includes('\u0000') && s.length < 100));
}

function flagArgs(r: Rng, f: FlagSpec, ctx: ArgvContext): string[] {
  const names = [f.name, ...(f.aliases ?? [])];
  const name = r.pick(names);
  const dash = name.length === 1 ? '-' : r.pick(['--', '--', '-']);
  if (f.type === 'bool') return r.chance(0.8) ? [dash + name] : [`${dash}${name}=${flagValue(r, f, ctx)}`];
  const v = flagValue(r, f, ctx);
  return r.chance(0.7) ? [dash + name, v] : [`${dash}${name}=${v}`];
}

export interface FuzzArgv {
  argv: string[];
  command: string;
  /** The container id given, if any. */
  id?: string;
}

/** A command line for hako (without the --root the test puts first). */
export function randomArgv(r: Rng, ctx: ArgvContext): FuzzArgv {
  const visible = COMMANDS.map((c) => c.name);
  const command = r.chance(0.05) ? r.pick(['frobnicate', '', '-', 'Create', 'help']) : r.pick(visible);
  const spec = COMMANDS.find((c) => c.name === command);
  const pre: string[] = [];
  for (let i = r.int(3); i > 0; i--) {
    const g = r.pick(GLOBAL_FLAGS.filter((g) => g.name !== 'root'));
    pre.push(...flagArgs(r, g, ctx));
  }
  if (r.chance(0.05)) pre.push(r.pick(['--version', '-v', '--help', '-h', '--bogus', '-Z']));
  const flags: string[] = [];
  const fl = spec?.flags ?? [];
  for (let i = r.int(4); i > 0 && fl.length; i--) flags.push(...flagArgs(r, r.pick(fl), ctx));
  if (command === 'create' || command === 'run') {
    if (r.chance(0.8)) flags.push('--bundle', ctx.bundle);
    if (command === 'run' && r.chance(0.7)) flags.push('--detach');
  }
  if (command === 'events' && !flags.includes('--stats')) flags.push('--stats'); // a stream has no end to wait for
  if (r.chance(0.1)) flags.push(r.pick(['--bogus', '-Z', '---x', '--bundle', '--pid-file=', '-']));
  const pos: string[] = [];
  const needsId = !['list', 'features', 'spec', 'help'].includes(command);
  if (needsId || r.chance(0.2)) {
    const mode = r.int(10);
    pos.push(mode < 5 ? ctx.existing : mode < 8 ? ctx.fresh : r.pick(ODD_IDS));
  }
  if (command === 'exec') pos.push(...r.pick(EXEC_ARGS));
  if (command === 'kill' && r.chance(0.8)) pos.push(r.pick(SIGNALS));
  if (command === 'ps' && r.chance(0.3)) pos.push(r.pick(['-ef', 'aux', '--bogus']));
  if (r.chance(0.1)) pos.push(r.pick(['extra', '--', '-x']));
  let tail: string[];
  if (r.chance(0.25)) {
    // Flags after the positionals, or a "--" somewhere.
    tail = r.chance(0.5) ? [...pos, ...flags] : [...flags, '--', ...pos];
  } else tail = [...flags, ...pos];
  return { argv: [...pre, ...(command === '' && r.chance(0.5) ? [] : [command]), ...tail], command, id: needsId ? pos[0] : undefined };
}
