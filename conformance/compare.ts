// Runs the conformance suite against several runtimes and prints a table,
// requirement by requirement.
//
//   node out/conformance/compare.js [--runtimes "bin/hako /usr/sbin/runc"]
//                                   [--filter REGEX] [--jobs N] [--json FILE]
//
// Without --runtimes: bin/hako, /usr/sbin/runc, and crun when it is on PATH
// and can run a container here (crun refuses hybrid cgroup hosts).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cmd, ok, failure, setScratch } from '../bench/proc.js';
import { table } from '../bench/stats.js';
import type { Outcome } from './main.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.js');

function which(name: string): string | null {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = path.join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/** Can this runtime run busybox `true` here? null when it can, else why not. */
async function probe(runtime: string, tmp: string): Promise<string | null> {
  const dir = mkdtempSync(path.join(tmp, 'probe-'));
  try {
    const b = path.join(dir, 'bundle');
    cpSync(path.join(REPO, 'bundles/busybox/rootfs'), path.join(b, 'rootfs'), { recursive: true, verbatimSymlinks: true });
    const c = JSON.parse(readFileSync(path.join(REPO, 'bundles/busybox/config.json'), 'utf8'));
    c.process.args = ['true'];
    writeFileSync(path.join(b, 'config.json'), JSON.stringify(c));
    const r = await cmd([runtime, '--root', path.join(dir, 'state'), 'run', '--bundle', b, `probe-${process.pid}`], { timeoutMs: 30_000 });
    if (!ok(r)) {
      await cmd([runtime, '--root', path.join(dir, 'state'), 'delete', '--force', `probe-${process.pid}`]).catch(() => null);
      return failure(r);
    }
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const short = (s: Outcome['status'] | undefined): string => (s === 'pass' ? 'pass' : s === 'fail' ? 'FAIL' : s === 'skip' ? 'skip' : '-');

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let runtimes: string[] = [];
  const pass: string[] = [];
  let json: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--runtimes') runtimes = (argv[++i] ?? '').split(/[\s,]+/).filter(Boolean);
    else if (a === '--filter' || a === '--jobs') pass.push(a, argv[++i] ?? '');
    else if (a === '--json') json = argv[++i] ?? null;
    else {
      console.error('usage: node out/conformance/compare.js [--runtimes "A B"] [--filter REGEX] [--jobs N] [--json FILE]');
      process.exit(2);
    }
  }
  const tmp = mkdtempSync('/tmp/hako-compare-');
  setScratch(tmp);
  const notes: string[] = [];
  if (runtimes.length === 0) {
    runtimes = [path.join(REPO, 'bin/hako'), '/usr/sbin/runc'];
    const crun = which('crun');
    if (!crun) notes.push('crun: not installed (apt-get install crun)');
    else {
      const why = await probe(crun, tmp);
      if (why) notes.push(`crun: cannot run a container here, left out: ${why}`);
      else runtimes.push(crun);
    }
  }
  runtimes = runtimes.map((r) => (r.includes('/') ? path.resolve(r) : (which(r) ?? r)));
  const names = runtimes.map((r, i) => (runtimes.findIndex((x) => path.basename(x) === path.basename(r)) === i ? path.basename(r) : r));
  const results: { name: string; runtime: string; version: string; outs: Outcome[]; summary: string }[] = [];
  try {
    for (const [i, rt] of runtimes.entries()) {
      const out = path.join(tmp, `${i}.json`);
      process.stderr.write(`conformance: ${names[i]} (${rt}) ...\n`);
      const r = await cmd([process.execPath, MAIN, '--runtime', rt, '--json', out, ...pass], { timeoutMs: 30 * 60_000 });
      const last = r.stdout.trim().split('\n').pop() ?? '';
      if (!existsSync(out)) {
        notes.push(`${names[i]}: the suite did not finish: ${failure(r)}`);
        continue;
      }
      const doc = JSON.parse(readFileSync(out, 'utf8')) as { version: string; results: Outcome[] };
      results.push({ name: names[i]!, runtime: rt, version: doc.version, outs: doc.results, summary: last });
      process.stderr.write(`conformance: ${names[i]}: ${last}\n`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (results.length === 0) {
    for (const n of notes) console.log(n);
    process.exit(1);
  }
  const ids = results[0]!.outs.map((o) => o.id);
  const by = results.map((r) => new Map(r.outs.map((o) => [o.id, o])));
  const rows = ids.map((id) => {
    const o = by[0]!.get(id)!;
    return [id, o.level, o.section, ...by.map((m) => short(m.get(id)?.status))];
  });
  console.log(table(['requirement', 'level', 'section', ...results.map((r) => r.name)], rows));
  console.log('');
  for (const r of results) console.log(`${r.name} (${r.version}): ${r.summary}`);
  if (results.length > 1) {
    const first = results[0]!;
    const worse = ids.filter((id) => by[0]!.get(id)?.status === 'fail' && by.slice(1).some((m) => m.get(id)?.status === 'pass'));
    const better = ids.filter((id) => by[0]!.get(id)?.status === 'pass' && by.slice(1).some((m) => m.get(id)?.status === 'fail'));
    console.log('');
    console.log(`${first.name} fails where another runtime passes (${worse.length}):`);
    for (const id of worse) console.log(`  ${id}: ${by[0]!.get(id)!.message.slice(0, 300)}`);
    console.log(`${first.name} passes where another runtime fails (${better.length}): ${better.join(' ') || '-'}`);
  }
  for (const n of notes) console.log(`note: ${n}`);
  if (json) writeFileSync(json, JSON.stringify({ date: new Date().toISOString(), runtimes: results }, null, 2) + '\n');
}

main().catch((e: unknown) => {
  console.error(`compare: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(2);
});
