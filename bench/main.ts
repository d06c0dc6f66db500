// hako's benchmarks: the same measurements for every runtime given, runs
// alternating between them, medians and the ratio to the last runtime.
//
//   node out/bench/main.js [--runtimes "bin/hako /usr/sbin/runc"] [--quick]
//                          [--only lifecycle,run,...] [--iterations N]
//                          [--population N] [--concurrency N] [--out FILE]
//
// Run as root. Every runtime gets its own --root and rootfs copy under one
// temporary directory, which is removed at the end with every container
// created (delete --force; inits reaped: this process is the subreaper).
import { cpus, freemem, hostname, release, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { native } from '../src/native.js';
import { alive, cmd, failure, hasGnuTime, ok, pollExit, setScratch, waitExit } from './proc.js';
import { loadConfig, makeBundle, makeRuntime, newId, pidFile, rc, readPid, type Config, type Runtime } from './runtime.js';
import { bisectSmallest, cgroupPathOf, fmt, fmtBytes, parseStatusKb, ratio, summarize, table, type Summary } from './stats.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// ---------------------------------------------------------------- options

interface Options {
  runtimes: string[];
  only: Set<string> | null;
  iterations: number;
  warmup: number;
  throughputRounds: number;
  concurrency: number;
  population: number;
  /** Seconds the filling may take (0: no limit); deleting takes about as long again. */
  populationBudget: number;
  rssRounds: number;
  out: string | null;
  bundle: string;
  /** The --root directories on the disk under /tmp rather than on a tmpfs of their own. */
  stateOnDisk: boolean;
}

const ALL = ['engine', 'lifecycle', 'run', 'exec', 'throughput', 'population', 'rss', 'memlimit'] as const;

function usage(): never {
  console.error(`usage: node out/bench/main.js [--runtimes "A B"] [--only ${ALL.join(',')}]
       [--quick] [--iterations N] [--population N] [--population-budget SECONDS]
       [--rounds N] [--concurrency N] [--out FILE] [--state-on-disk]
(RUNTIMES in the environment works like --runtimes)`);
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const o: Options = {
    runtimes: (process.env.RUNTIMES ?? '').split(/[\s,]+/).filter(Boolean),
    only: null,
    iterations: 20,
    warmup: 2,
    throughputRounds: 2,
    concurrency: 50,
    population: 1000,
    populationBudget: 45,
    rssRounds: 5,
    out: null,
    bundle: path.join(REPO, 'bundles/busybox'),
    stateOnDisk: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) usage();
      return v;
    };
    const num = (): number => {
      const n = Number(val());
      if (!Number.isInteger(n) || n < 0) usage();
      return n;
    };
    switch (a) {
      case '--runtimes':
        o.runtimes = val()
          .split(/[\s,]+/)
          .filter(Boolean);
        break;
      case '--only':
        o.only = new Set(val().split(',').filter(Boolean));
        for (const x of o.only) if (!(ALL as readonly string[]).includes(x)) usage();
        break;
      case '--iterations':
        o.iterations = num();
        break;
      case '--population':
        o.population = num();
        break;
      case '--population-budget':
        o.populationBudget = num();
        break;
      case '--concurrency':
        o.concurrency = num();
        break;
      case '--rounds':
        o.throughputRounds = num();
        break;
      case '--out':
        o.out = val();
        break;
      case '--bundle':
        o.bundle = path.resolve(val());
        break;
      case '--state-on-disk':
        o.stateOnDisk = true;
        break;
      case '--quick':
        o.iterations = 5;
        o.warmup = 1;
        o.throughputRounds = 1;
        o.population = 100;
        o.populationBudget = 20;
        o.rssRounds = 2;
        break;
      default:
        // -h, --help, and anything unknown (usage never returns)
        usage();
    }
  }
  if (o.runtimes.length === 0) o.runtimes = [path.join(REPO, 'bin/hako'), '/usr/sbin/runc'];
  o.runtimes = o.runtimes.map((r) => (r.includes('/') ? path.resolve(r) : r));
  return o;
}

// ---------------------------------------------------------------- results

type Cell =
  | { status: 'ok'; value: number; summary?: Summary; samples?: number[]; note?: string }
  | { status: 'unsupported' | 'failed' | 'skipped'; note: string };

interface Row {
  id: string;
  title: string;
  unit: string;
  /** Which way is better, for reading the ratio. */
  better: 'lower' | 'higher';
  values: Record<string, Cell>;
}

const rows: Row[] = [];
let populationReached: number | null = null;
const engineRows: Row[] = [];

function row(id: string, title: string, unit: string, better: 'lower' | 'higher' = 'lower'): Row {
  let r = rows.find((x) => x.id === id);
  if (!r) {
    r = { id, title, unit, better, values: {} };
    rows.push(r);
  }
  return r;
}

function okCell(samples: number[], note?: string): Cell {
  const s = summarize(samples);
  return { status: 'ok', value: s.median, summary: s, samples: samples.map((x) => Math.round(x * 1000) / 1000), ...(note ? { note } : {}) };
}

function log(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

// ------------------------------------------------------------ bookkeeping

/** Containers that may still exist, per runtime: cleaned up at the end. */
const live = new Map<Runtime, Map<string, number | null>>();

function track(rt: Runtime, id: string, pid: number | null = null): void {
  let m = live.get(rt);
  if (!m) live.set(rt, (m = new Map()));
  m.set(id, pid);
}

function untrack(rt: Runtime, id: string): void {
  live.get(rt)?.delete(id);
}

/** delete --force, then reap the init if it was ours. */
async function destroy(rt: Runtime, id: string): Promise<void> {
  const pid = live.get(rt)?.get(id) ?? readPid(pidFile(rt, id));
  await rc(rt, ['delete', '--force', id], { timeoutMs: 30_000 });
  if (pid !== null && pid !== undefined) {
    if (alive(pid) && parentOf(pid) === process.pid) {
      // The runtime could not kill it: only a container init re-parented to us.
      try {
        native().kill(pid, 9);
      } catch {
        /* gone */
      }
    }
    await pollExit(pid, 5_000, 5);
  }
  rmSync(pidFile(rt, id), { force: true });
  untrack(rt, id);
}

function parentOf(pid: number): number | null {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

async function cleanupAll(rts: Runtime[]): Promise<void> {
  for (const rt of rts) {
    const ids = [...(live.get(rt)?.keys() ?? [])];
    // Containers this run created but lost track of (a crash mid-step).
    const l = await rc(rt, ['list', '--format', 'json'], { timeoutMs: 60_000 }).catch(() => null);
    if (l && ok(l)) {
      try {
        for (const s of (JSON.parse(l.stdout || '[]') ?? []) as { id: string }[]) if (!ids.includes(s.id)) ids.push(s.id);
      } catch {
        /* not JSON */
      }
    }
    if (ids.length) log(`${rt.name}: cleaning up ${ids.length} container(s)`);
    await pool(ids, 4, (id) => destroy(rt, id));
  }
}

/** Runs `fn` over items with at most `n` at a time. */
async function pool<T, R>(items: readonly T[], n: number, fn: (x: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

// ------------------------------------------------------------ primitives

interface Lifecycle {
  error?: string;
  total: number;
  create: number;
  start: number;
  wait: number;
  delete: number;
  rss?: { create: number | null; start: number | null; delete: number | null; state: number | null };
  initRssKb?: number | null;
  initPssKb?: number | null;
}

function readInitMem(pid: number): { rss: number | null; pss: number | null } {
  let rss: number | null = null;
  let pss: number | null = null;
  try {
    rss = parseStatusKb(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
  } catch {
    /* gone */
  }
  try {
    pss = parseStatusKb(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
  } catch {
    /* gone */
  }
  return { rss, pss };
}

/**
 * create, start, wait for the init to exit, delete: what conmon does.
 * `many` waits by polling (for many at once); `rss` runs each command under
 * /usr/bin/time and also measures the waiting init and a `state`.
 */
async function lifecycle(rt: Runtime, bundle: string, opts: { many?: boolean; rss?: boolean } = {}): Promise<Lifecycle> {
  const id = newId();
  const pf = pidFile(rt, id);
  const rss = opts.rss ?? false;
  const res: Lifecycle = { total: 0, create: 0, start: 0, wait: 0, delete: 0 };
  const fail = async (msg: string): Promise<Lifecycle> => {
    await destroy(rt, id);
    return { ...res, error: msg };
  };
  const t0 = process.hrtime.bigint();
  track(rt, id);
  const c = await rc(rt, ['create', '--bundle', bundle, '--pid-file', pf, id], { rss });
  res.create = c.ms;
  if (!ok(c)) return fail(failure(c));
  const pid = readPid(pf);
  if (pid === null) return fail('create left no pid file');
  track(rt, id, pid);
  let stateRss: number | null = null;
  if (rss) {
    const m = readInitMem(pid);
    res.initRssKb = m.rss;
    res.initPssKb = m.pss;
    const st = await rc(rt, ['state', id], { rss });
    stateRss = st.maxRssKb;
  }
  const s = await rc(rt, ['start', id], { rss });
  res.start = s.ms;
  if (!ok(s)) return fail(failure(s));
  const tw = process.hrtime.bigint();
  const w = opts.many ? await pollExit(pid) : await waitExit(pid);
  res.wait = Number(process.hrtime.bigint() - tw) / 1e6;
  if (w === null) return fail('the container init did not exit within 30 s');
  if (w.exitCode !== 0) return fail(`the container exited with ${w.exitCode ?? `signal ${w.signal}`}`);
  const d = await rc(rt, ['delete', id], { rss });
  res.delete = d.ms;
  if (!ok(d)) return fail(failure(d));
  untrack(rt, id);
  rmSync(pf, { force: true });
  res.total = Number(process.hrtime.bigint() - t0) / 1e6;
  if (rss) res.rss = { create: c.maxRssKb, start: s.maxRssKb, delete: d.maxRssKb, state: stateRss };
  return res;
}

/**
 * Calls `fn` `iterations` times for every runtime, alternating runtimes
 * (the first runtime of each round rotates), after `warmup` rounds that are
 * not recorded. A runtime whose call fails is dropped from the rest of the
 * loop and gets the error.
 */
async function alternate(
  rts: Runtime[],
  iterations: number,
  warmup: number,
  fn: (rt: Runtime) => Promise<number | string>,
): Promise<Map<Runtime, number[] | string>> {
  const out = new Map<Runtime, number[] | string>(rts.map((r) => [r, []]));
  for (let i = 0; i < warmup + iterations; i++) {
    for (let k = 0; k < rts.length; k++) {
      const rt = rts[(i + k) % rts.length]!;
      const acc = out.get(rt)!;
      if (typeof acc === 'string') continue;
      const v = await fn(rt);
      if (typeof v === 'string') out.set(rt, v);
      else if (i >= warmup) acc.push(v);
    }
  }
  return out;
}

function put(r: Row, rt: Runtime, v: number[] | string, unsupported = false): void {
  if (typeof v === 'string') r.values[rt.name] = { status: unsupported ? 'unsupported' : 'failed', note: v };
  else if (v.length === 0) r.values[rt.name] = { status: 'skipped', note: 'no samples' };
  else r.values[rt.name] = okCell(v);
}

// ------------------------------------------------------------ benchmarks

async function benchEngine(o: Options): Promise<void> {
  const engines: { name: string; argv: string[] }[] = [{ name: 'node -e 0', argv: [process.execPath, '-e', '0'] }];
  // The bun package hako builds with (bin/hako embeds it), else one on PATH.
  const pkgDirs = ['bun-linux-x64', 'bun-linux-aarch64'].map((p) => path.join(REPO, 'tools/bun/node_modules/@oven', p, 'bin'));
  for (const dir of [...pkgDirs, ...(process.env.PATH ?? '/usr/bin').split(':')]) {
    const bun = path.join(dir, 'bun');
    if (dir && existsSync(bun)) {
      engines.push({ name: 'bun -e 0', argv: [bun, '-e', '0'] });
      break;
    }
  }
  log(`engine floor: ${engines.map((e) => e.name).join(', ')}`);
  for (const e of engines) {
    const times: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < o.warmup + o.iterations; i++) {
      const r = await cmd(e.argv, { rss: hasGnuTime() && i < o.warmup + o.rssRounds });
      if (!ok(r)) {
        engineRows.push({ id: `engine:${e.name}`, title: e.name, unit: 'ms', better: 'lower', values: { [e.name]: { status: 'failed', note: failure(r) } } });
        break;
      }
      if (i >= o.warmup) times.push(r.ms);
      if (r.maxRssKb !== null) rss.push(r.maxRssKb / 1024);
    }
    engineRows.push({ id: `engine:${e.name}:time`, title: `${e.name} (ms)`, unit: 'ms', better: 'lower', values: { [e.name]: okCell(times) } });
    if (rss.length) {
      engineRows.push({ id: `engine:${e.name}:rss`, title: `${e.name} peak RSS (MiB)`, unit: 'MiB', better: 'lower', values: { [e.name]: okCell(rss) } });
    }
  }
}

async function benchVersion(o: Options, rts: Runtime[]): Promise<void> {
  log("--version (the runtime binary's startup floor)");
  const res = await alternate(rts, o.iterations, o.warmup, async (rt) => {
    const r = await cmd([rt.bin, '--version']);
    return ok(r) ? r.ms : failure(r);
  });
  const r = row('version', '--version (startup floor)', 'ms');
  for (const [rt, v] of res) put(r, rt, v);
}

async function benchLifecycle(o: Options, rts: Runtime[], bundles: Map<Runtime, Record<string, string>>): Promise<void> {
  log(`lifecycle create/start/wait/delete x${o.iterations}`);
  const phases = new Map<Runtime, { create: number[]; start: number[]; wait: number[]; delete: number[] }>();
  const res = await alternate(rts, o.iterations, o.warmup, async (rt) => {
    const l = await lifecycle(rt, bundles.get(rt)!.true!);
    if (l.error) return l.error;
    let p = phases.get(rt);
    if (!p) phases.set(rt, (p = { create: [], start: [], wait: [], delete: [] }));
    p.create.push(l.create);
    p.start.push(l.start);
    p.wait.push(l.wait);
    p.delete.push(l.delete);
    return l.total;
  });
  const total = row('lifecycle', 'lifecycle: create+start+wait+delete', 'ms');
  for (const [rt, v] of res) put(total, rt, v);
  for (const ph of ['create', 'start', 'wait', 'delete'] as const) {
    const r = row(`lifecycle.${ph}`, `  ${ph}`, 'ms');
    for (const rt of rts) {
      const v = res.get(rt)!;
      // Warm-up rounds are in the phase lists too: drop them.
      const p = phases.get(rt)?.[ph].slice(o.warmup);
      put(r, rt, typeof v === 'string' ? 'see lifecycle' : (p ?? []));
    }
  }
}

async function benchRun(o: Options, rts: Runtime[], bundles: Map<Runtime, Record<string, string>>): Promise<void> {
  log(`run (foreground) x${o.iterations}`);
  const res = await alternate(rts, o.iterations, o.warmup, async (rt) => {
    const id = newId();
    track(rt, id);
    const r = await rc(rt, ['run', '--bundle', bundles.get(rt)!.true!, id]);
    if (!ok(r)) {
      await destroy(rt, id);
      return failure(r);
    }
    untrack(rt, id);
    return r.ms;
  });
  const r = row('run', 'run (foreground, busybox true)', 'ms');
  for (const [rt, v] of res) put(r, rt, v);
}

/** A created and started container running `sleep`, for exec. */
async function sleeper(rt: Runtime, bundle: string): Promise<{ id: string; pid: number } | string> {
  const id = newId('sleeper');
  const pf = pidFile(rt, id);
  track(rt, id);
  const c = await rc(rt, ['create', '--bundle', bundle, '--pid-file', pf, id]);
  if (!ok(c)) {
    await destroy(rt, id);
    return failure(c);
  }
  const pid = readPid(pf);
  track(rt, id, pid);
  const s = await rc(rt, ['start', id]);
  if (!ok(s) || pid === null) {
    await destroy(rt, id);
    return ok(s) ? 'create left no pid file' : failure(s);
  }
  return { id, pid };
}

async function stopSleeper(rt: Runtime, sl: { id: string; pid: number }): Promise<void> {
  await rc(rt, ['kill', sl.id, 'KILL']);
  await waitExit(sl.pid, 10_000);
  await destroy(rt, sl.id);
}

async function benchExec(o: Options, rts: Runtime[], bundles: Map<Runtime, Record<string, string>>): Promise<void> {
  log(`exec ID true x${o.iterations}`);
  const r = row('exec', 'exec ID true (running container)', 'ms');
  const rssRow = row('rss.exec', 'peak RSS: exec', 'MiB');
  const sleepers = new Map<Runtime, { id: string; pid: number }>();
  const usable: Runtime[] = [];
  for (const rt of rts) {
    const sl = await sleeper(rt, bundles.get(rt)!.sleep!);
    if (typeof sl === 'string') {
      r.values[rt.name] = { status: 'failed', note: `could not start a container to exec into: ${sl}` };
      continue;
    }
    sleepers.set(rt, sl);
    const first = await rc(rt, ['exec', sl.id, 'true']);
    if (!ok(first)) {
      r.values[rt.name] = { status: 'unsupported', note: failure(first) };
      rssRow.values[rt.name] = { status: 'unsupported', note: 'exec failed' };
      continue;
    }
    usable.push(rt);
  }
  try {
    const res = await alternate(usable, o.iterations, o.warmup, async (rt) => {
      const e = await rc(rt, ['exec', sleepers.get(rt)!.id, 'true']);
      return ok(e) ? e.ms : failure(e);
    });
    for (const [rt, v] of res) put(r, rt, v);
    if (hasGnuTime()) {
      const rss = await alternate(usable, o.rssRounds, 0, async (rt) => {
        const e = await rc(rt, ['exec', sleepers.get(rt)!.id, 'true'], { rss: true });
        return ok(e) && e.maxRssKb !== null ? e.maxRssKb / 1024 : failure(e);
      });
      for (const [rt, v] of rss) put(rssRow, rt, v);
    }
  } finally {
    for (const [rt, sl] of sleepers) await stopSleeper(rt, sl);
  }
}

async function benchThroughput(o: Options, rts: Runtime[], bundles: Map<Runtime, Record<string, string>>): Promise<void> {
  log(`throughput: ${o.concurrency} concurrent lifecycles x${o.throughputRounds} rounds`);
  const res = await alternate(rts, o.throughputRounds, 0, async (rt) => {
    const t0 = process.hrtime.bigint();
    const all = await Promise.all(Array.from({ length: o.concurrency }, () => lifecycle(rt, bundles.get(rt)!.true!, { many: true })));
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const bad = all.filter((l) => l.error);
    if (bad.length) return `${bad.length}/${o.concurrency} failed; first: ${bad[0]!.error}`;
    return o.concurrency / s;
  });
  const r = row('throughput', `${o.concurrency} concurrent lifecycles`, 'containers/s', 'higher');
  for (const [rt, v] of res) put(r, rt, v);
}

async function benchPopulation(o: Options, rts: Runtime[], bundles: Map<Runtime, Record<string, string>>): Promise<void> {
  const CHUNK = 50;
  const ids = new Map<Runtime, string[]>(rts.map((r) => [r, []]));
  const times = new Map<Runtime, number[]>(rts.map((r) => [r, []]));
  const errors = new Map<Runtime, string>();
  const usable: Runtime[] = [];
  // Fill in chunks, alternating runtimes, until every runtime has the
  // target or the time budget is spent: every runtime then holds the same
  // number of containers (a slow runtime sets it for all).
  const t0 = Date.now();
  let capped = false;
  let n = 0;
  const rows4 = (): Row[] => [
    row('population.state', `state ID, N containers present`, 'ms'),
    row('population.list', `list, N containers present`, 'ms'),
    row('population.pss', `total PSS of the N waiting inits`, 'MiB'),
    row('population.create', `create, while filling (4 at a time)`, 'ms'),
  ];
  const [stateRow, listRow, memRow, fillRow] = rows4() as [Row, Row, Row, Row];
  try {
    log(`filling to ${o.population} containers per runtime (created, not started; budget ${o.populationBudget || 'none'} s)`);
    for (let round = 0; n < o.population; round++) {
      if (o.populationBudget > 0 && Date.now() - t0 > o.populationBudget * 1000) {
        capped = true;
        break;
      }
      const want = Math.min(CHUNK, o.population - n);
      for (let k = 0; k < rts.length; k++) {
        const rt = rts[(round + k) % rts.length]!;
        if (errors.has(rt)) continue;
        await pool(
          Array.from({ length: want }, (_, i) => i),
          4,
          async () => {
            if (errors.has(rt)) return;
            const id = newId('pop');
            const pf = pidFile(rt, id);
            track(rt, id);
            const c = await rc(rt, ['create', '--bundle', bundles.get(rt)!.true!, '--pid-file', pf, id]);
            if (!ok(c)) {
              if (!errors.has(rt)) errors.set(rt, failure(c));
              await destroy(rt, id);
              return;
            }
            track(rt, id, readPid(pf));
            times.get(rt)!.push(c.ms);
            ids.get(rt)!.push(id);
          },
        );
      }
      n += want;
      if (rts.every((r) => errors.has(r))) break;
    }
    if (capped) log(`population capped at ${n} by the ${o.populationBudget} s budget`);
    const note = capped ? ` (capped by the ${o.populationBudget} s budget; target ${o.population})` : '';
    stateRow.title = `state ID, ${n} containers present${note}`;
    listRow.title = `list, ${n} containers present`;
    memRow.title = `total PSS of ${n} waiting inits`;
    fillRow.title = `create, while filling to ${n} (4 at a time)`;
    for (const rt of rts) {
      const err = errors.get(rt);
      if (err) {
        for (const r of [stateRow, listRow, memRow, fillRow]) r.values[rt.name] = { status: 'failed', note: err };
        continue;
      }
      put(fillRow, rt, times.get(rt)!);
      let pss = 0;
      for (const id of ids.get(rt)!) pss += readInitMem(live.get(rt)?.get(id) ?? 0).pss ?? 0;
      memRow.values[rt.name] = { status: 'ok', value: pss / 1024 };
      usable.push(rt);
    }
    populationReached = n;
    log(`state and list x${o.iterations}`);
    let k = 0;
    const st = await alternate(usable, o.iterations, o.warmup, async (rt) => {
      const list = ids.get(rt)!;
      const id = list[(k++ * 7919) % list.length]!;
      const r = await rc(rt, ['state', id]);
      if (!ok(r)) return failure(r);
      try {
        const s = JSON.parse(r.stdout) as { status?: string };
        if (s.status !== 'created') return `state says ${s.status}, not created`;
      } catch {
        return `state printed no JSON: ${r.stdout.slice(0, 100)}`;
      }
      return r.ms;
    });
    for (const [rt, v] of st) put(stateRow, rt, v);
    const ls = await alternate(usable, o.iterations, o.warmup, async (rt) => {
      const r = await rc(rt, ['list']);
      if (!ok(r)) return failure(r);
      const lines = r.stdout.trim().split('\n').length - 1;
      if (lines < n) return `list shows ${lines} containers, not ${n}`;
      return r.ms;
    });
    for (const [rt, v] of ls) put(listRow, rt, v);
  } finally {
    for (const rt of rts) {
      const mine = ids.get(rt) ?? [];
      log(`${rt.name}: deleting ${mine.length} containers`);
      await pool(mine, 4, (id) => destroy(rt, id));
    }
  }
}

async function benchRss(o: Options, rts: Runtime[], bundles: Map<Runtime, Record<string, string>>): Promise<void> {
  if (!hasGnuTime()) {
    for (const id of ['rss.create', 'rss.start', 'rss.state', 'rss.delete', 'rss.run']) {
      const r = row(id, `peak RSS: ${id.slice(4)}`, 'MiB');
      for (const rt of rts) r.values[rt.name] = { status: 'skipped', note: '/usr/bin/time not installed (apt-get install time)' };
    }
    return;
  }
  log(`peak RSS (wait4 ru_maxrss via /usr/bin/time) x${o.rssRounds}`);
  const acc = new Map<Runtime, Record<string, number[]>>();
  const res = await alternate(rts, o.rssRounds, 0, async (rt) => {
    const l = await lifecycle(rt, bundles.get(rt)!.true!, { rss: true });
    if (l.error) return l.error;
    const id = newId();
    track(rt, id);
    const run = await rc(rt, ['run', '--bundle', bundles.get(rt)!.true!, id], { rss: true });
    if (!ok(run)) {
      await destroy(rt, id);
      return failure(run);
    }
    untrack(rt, id);
    const list = await rc(rt, ['list'], { rss: true });
    let a = acc.get(rt);
    if (!a) acc.set(rt, (a = {}));
    const add = (k: string, kb: number | null | undefined): void => {
      if (kb != null) (a![k] ??= []).push(kb / 1024);
    };
    add('create', l.rss?.create);
    add('start', l.rss?.start);
    add('state', l.rss?.state);
    add('delete', l.rss?.delete);
    add('run', run.maxRssKb);
    add('list', list.maxRssKb);
    add('init', l.initRssKb);
    add('initPss', l.initPssKb);
    return 0;
  });
  const titles: Record<string, string> = {
    create: 'peak RSS: create',
    start: 'peak RSS: start',
    state: 'peak RSS: state',
    delete: 'peak RSS: delete',
    run: 'peak RSS: run',
    list: 'peak RSS: list',
    init: 'waiting init VmRSS (created, not started)',
    initPss: 'waiting init PSS (created, not started)',
  };
  for (const [k, title] of Object.entries(titles)) {
    const r = row(`rss.${k}`, title, 'MiB');
    for (const rt of rts) {
      const v = res.get(rt)!;
      put(r, rt, typeof v === 'string' ? v : (acc.get(rt)?.[k] ?? []));
    }
  }
}

/** The mount point of the cgroup hierarchy holding `controller` (v1) or of cgroup2. */
function cgroupMount(controller: string, version: 1 | 2): string | null {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const mp = pre.split(' ')[4]!;
    const [fstype, , opts] = post.split(' ');
    if (version === 1 && fstype === 'cgroup' && (opts ?? '').split(',').includes(controller)) return mp;
    if (version === 2 && fstype === 'cgroup2') return mp;
  }
  return null;
}

/** The memory limit the kernel holds for the cgroup of `pid`, in bytes. */
function memoryLimitOf(pid: number): number | null {
  try {
    const cg = cgroupPathOf(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), 'memory');
    if (!cg) return null;
    const mnt = cgroupMount('memory', cg.version);
    if (!mnt) return null;
    const file = path.join(mnt, cg.path, cg.version === 1 ? 'memory.limit_in_bytes' : 'memory.max');
    const v = readFileSync(file, 'utf8').trim();
    return v === 'max' ? Number.POSITIVE_INFINITY : Number(v);
  } catch {
    return null;
  }
}

async function benchMemlimit(rts: Runtime[], base: Config): Promise<void> {
  const r = row('memlimit', 'smallest memory limit that starts', 'KiB');
  const STEP = 64 * 1024;
  const HI = 64 * 1024 * 1024;
  const REPEAT = 3;
  for (const rt of rts) {
    const bundleFor = (limit: number): string =>
      makeBundle(rt, `mem-${limit}`, base, (c) => {
        c.process.args = ['true'];
        c.linux.resources = { ...(c.linux.resources ?? {}), memory: { limit } };
      });
    // Does the runtime apply the limit at all? Look at the cgroup of a
    // created container.
    const id = newId('mem');
    const pf = pidFile(rt, id);
    track(rt, id);
    const c = await rc(rt, ['create', '--bundle', bundleFor(HI), '--pid-file', pf, id]);
    if (!ok(c)) {
      await destroy(rt, id);
      r.values[rt.name] = { status: 'failed', note: `create with a ${HI >> 20} MiB limit: ${failure(c)}` };
      continue;
    }
    const pid = readPid(pf);
    track(rt, id, pid);
    const seen = pid === null ? null : memoryLimitOf(pid);
    await destroy(rt, id);
    if (seen !== HI) {
      r.values[rt.name] = {
        status: 'unsupported',
        note: `linux.resources.memory.limit ignored: the container's memory cgroup limit is ${seen === null ? 'unreadable' : seen} after asking for ${HI}`,
      };
      continue;
    }
    log(`${rt.name}: bisecting the memory limit (64 KiB steps, ${REPEAT} starts each)`);
    // "Starts" means starts every time: near the threshold a start may
    // succeed or fail depending on what the runtime happened to allocate.
    const tries = async (limit: number): Promise<boolean> => {
      const bundle = bundleFor(limit);
      let pass = true;
      for (let i = 0; i < REPEAT && pass; i++) pass = !(await lifecycle(rt, bundle)).error;
      rmSync(bundle, { recursive: true, force: true });
      return pass;
    };
    if (!(await tries(HI))) {
      r.values[rt.name] = { status: 'failed', note: `does not start even with ${HI >> 20} MiB` };
      continue;
    }
    const b = await bisectSmallest(0, HI, STEP, tries);
    // Confirm: the bisection assumes failures are monotonic, which they are
    // not quite near the threshold. Step up until 3 more starts succeed.
    let value = b.value;
    let bumped = 0;
    while (value < HI && bumped < 16 && !(await tries(value))) {
      value += STEP;
      bumped++;
    }
    r.values[rt.name] = {
      status: 'ok',
      value: value / 1024,
      note: `tried ${b.tried.map((t) => `${t.value / 1024}K:${t.ok ? 'ok' : 'fail'}`).join(' ')}${bumped ? `; raised by ${bumped} step(s) to ${value / 1024}K to start 3 more times` : '; confirmed'}`,
    };
  }
}

// ------------------------------------------------------------ report

function machine(): Record<string, unknown> {
  const c = cpus();
  return {
    hostname: hostname(),
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    memTotalMiB: Math.round(totalmem() / 1024 / 1024),
    memFreeMiB: Math.round(freemem() / 1024 / 1024),
    kernel: release(),
    node: process.version,
    cgroup: existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : existsSync('/sys/fs/cgroup/unified') ? 'hybrid' : 'v1',
  };
}

function cellText(c: Cell | undefined, unit: string): string {
  if (!c) return '-';
  if (c.status !== 'ok') return c.status;
  return unit === 'KiB' ? fmtBytes(c.value * 1024) : fmt(c.value);
}

function report(rts: Runtime[], o: Options): string {
  const base = rts[rts.length - 1]!;
  const others = rts.slice(0, -1);
  const header = ['benchmark', 'unit', ...rts.map((r) => r.name), ...others.map((r) => `${r.name}/${base.name}`)];
  const body = rows.map((r) => [
    r.title,
    r.unit,
    ...rts.map((rt) => cellText(r.values[rt.name], r.unit)),
    ...others.map((rt) => {
      const a = r.values[rt.name];
      const b = r.values[base.name];
      return fmt(ratio(a?.status === 'ok' ? a.value : null, b?.status === 'ok' ? b.value : null), 2);
    }),
  ]);
  const lines = [table(header, body)];
  if (engineRows.length) {
    lines.push(
      '',
      table(
        ['engine floor', 'median'],
        engineRows.map((r) => [r.title, cellText(Object.values(r.values)[0], r.unit)]),
      ),
    );
  }
  // The engine's share: a JS runtime pays the engine's start-up on every
  // command (4 per lifecycle, 1 per run, state, list).
  const floor = engineRows.find((r) => r.id === 'engine:node -e 0:time');
  const floorMs = floor && Object.values(floor.values)[0]?.status === 'ok' ? (Object.values(floor.values)[0] as { value: number }).value : null;
  const share: string[] = [];
  for (const rt of rts) {
    if (rt.engine !== 'node' || floorMs === null) continue;
    const v = (id: string): number | null => {
      const c = rows.find((r) => r.id === id)?.values[rt.name];
      return c?.status === 'ok' ? c.value : null;
    };
    const parts: string[] = [];
    const add = (label: string, id: string, starts: number): void => {
      const x = v(id);
      if (x !== null) parts.push(`${label} ${fmt(x)} ms = ${starts} x ${fmt(floorMs)} ms engine + ${fmt(x - starts * floorMs)} ms own`);
    };
    add('lifecycle', 'lifecycle', 4);
    add('run', 'run', 1);
    add('--version', 'version', 1);
    if (parts.length) share.push(`${rt.name} (node): ${parts.join('; ')}`);
  }
  if (share.length) lines.push('', 'engine share (node -e 0 per process start):', ...share.map((x) => `  ${x}`));
  const notes: string[] = [];
  for (const r of rows) {
    for (const rt of rts) {
      const c = r.values[rt.name];
      if (c && c.status !== 'ok' && c.note !== 'see lifecycle') notes.push(`${rt.name}, ${r.title.trim()}: ${c.status}: ${c.note}`);
      if (c && c.status === 'ok' && c.note && r.id === 'memlimit') notes.push(`${rt.name}, ${r.title.trim()}: ${c.note}`);
    }
  }
  if (notes.length) lines.push('', 'notes:', ...notes.map((n) => `  ${n}`));
  lines.push(
    '',
    `medians of ${o.iterations} runs per runtime (after ${o.warmup} warm-up), alternating; throughput: ${o.throughputRounds} rounds; ` +
      `peak RSS: wait4 ru_maxrss via /usr/bin/time -f %M (the command and the children it reaped), median of ${o.rssRounds}; ` +
      'PSS: /proc/PID/smaps_rollup.',
  );
  return lines.join('\n');
}

// ------------------------------------------------------------ main

/** A tmpfs for the runtimes' --root directories, at <tmp>/state. */
function mountStateFs(tmp: string): string {
  const dir = path.join(tmp, 'state');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=0700,size=256m', 'hako-bench-state', dir]);
  return dir;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    console.error('bench: run as root (containers need it)');
    process.exit(2);
  }
  if (!existsSync(path.join(o.bundle, 'rootfs', 'bin', 'busybox'))) {
    console.error(`bench: ${o.bundle}/rootfs is missing: run ./scripts/mk-busybox-bundle.sh`);
    process.exit(2);
  }
  native().setChildSubreaper(true);
  const tmp = mkdtempSync('/tmp/hako-bench-');
  const scratch = path.join(tmp, 'scratch');
  mkdirSync(scratch);
  setScratch(scratch);
  // The --root directories on a tmpfs, as /run (the runtimes' default
  // roots) is on a real host: on a disk the state files' fsyncs and renames
  // wait for the journal, which measures the disk (tens of ms on a busy
  // one), not the runtime. --state-on-disk measures that instead.
  const stateFs = o.stateOnDisk ? null : mountStateFs(tmp);
  const rts: Runtime[] = [];
  let interrupted = false;
  const removeTmp = (): void => {
    if (stateFs) execFileSync('umount', [stateFs]);
    rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: cleaning up`);
    void cleanupAll(rts).finally(() => {
      removeTmp();
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  try {
    const taken = new Set<string>();
    for (const bin of o.runtimes) rts.push(await makeRuntime(bin, tmp, taken, o.bundle, stateFs ?? undefined));
    for (const rt of rts) log(`${rt.name}: ${rt.bin} (${rt.version})`);
    const base = loadConfig(o.bundle);
    const bundles = new Map<Runtime, Record<string, string>>();
    for (const rt of rts) {
      bundles.set(rt, {
        true: makeBundle(rt, 'true', base, (c) => {
          c.process.args = ['true'];
        }),
        sleep: makeBundle(rt, 'sleep', base, (c) => {
          c.process.args = ['sleep', '3600'];
        }),
      });
    }
    const want = (x: string): boolean => o.only === null || o.only.has(x);
    if (want('engine')) {
      await benchEngine(o);
      await benchVersion(o, rts);
    }
    if (want('lifecycle')) await benchLifecycle(o, rts, bundles);
    if (want('run')) await benchRun(o, rts, bundles);
    if (want('exec')) await benchExec(o, rts, bundles);
    if (want('throughput')) await benchThroughput(o, rts, bundles);
    if (want('population')) await benchPopulation(o, rts, bundles);
    if (want('rss')) await benchRss(o, rts, bundles);
    if (want('memlimit')) await benchMemlimit(rts, base);
  } finally {
    await cleanupAll(rts);
    for (const rt of rts) {
      // A state dir left behind means a runtime did not clean up after delete.
      if (existsSync(rt.root) && readdirSync(rt.root).length) log(`${rt.name}: --root not empty after cleanup: ${readdirSync(rt.root).join(' ')}`);
    }
    removeTmp();
  }
  const text = report(rts, o);
  const date = new Date();
  const doc = {
    date: date.toISOString(),
    seconds: Math.round((Date.now() - started) / 1000),
    machine: machine(),
    runtimes: rts.map((r) => ({ name: r.name, bin: r.bin, version: r.version })),
    options: { ...o, only: o.only ? [...o.only] : null },
    populationReached,
    results: rows,
    engine: engineRows,
  };
  const out =
    o.out ??
    path.join(
      REPO,
      'bench/results',
      `${date
        .toISOString()
        .replace(/[:]/g, '')
        .replace(/\.\d+Z$/, 'Z')}.json`,
    );
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
  const m = machine();
  console.log(
    `# ${date.toISOString()} on ${m.cpu as string}, ${m.cores as number} cores, ${m.memTotalMiB as number} MiB, Linux ${m.kernel as string}, cgroup ${m.cgroup as string}, node ${process.version}`,
  );
  for (const rt of rts) console.log(`# ${rt.name}: ${rt.bin}: ${rt.version}`);
  console.log(`# --root directories ${o.stateOnDisk ? 'on the disk (--state-on-disk)' : 'on a tmpfs, as /run'}`);
  console.log(text);
  console.log(`\n(${doc.seconds} s; JSON: ${path.relative(process.cwd(), out) || out})`);
}

main().catch((e: unknown) => {
  console.error(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});
