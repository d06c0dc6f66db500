// The conformance suite: one check per requirement of runtime-spec 1.3.0,
// TAP on stdout, the last line `N passed, M failed[, K skipped]`.
//
//   node out/conformance/main.js --runtime PATH [--filter REGEX] [--jobs N]
//                                [--json FILE] [--list]
//
// Run as root. The exit status is 0 when nothing failed.
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cmd, ok, setScratch } from '../bench/proc.js';
import { native } from '../src/native.js';
import { Failed, Skip, T, type Check, type Suite } from './harness.js';
import { checks as lifecycle } from './checks/lifecycle.js';
import { checks as hooks } from './checks/hooks.js';
import { checks as config } from './checks/config.js';
import { checks as linux } from './checks/linux.js';
import { checks as features } from './checks/features.js';
import { checks as newer } from './checks/newer.js';
import { checks as seccompNotify } from './checks/seccomp-notify.js';

export const ALL_CHECKS: Check[] = [...lifecycle, ...hooks, ...config, ...linux, ...seccompNotify, ...newer, ...features];

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface Outcome {
  id: string;
  section: string;
  level: string;
  title: string;
  status: 'pass' | 'fail' | 'skip';
  message: string;
  notes: string[];
  ms: number;
}

function usage(): never {
  console.error('usage: node out/conformance/main.js --runtime PATH [--filter REGEX] [--jobs N] [--json FILE] [--list]');
  process.exit(2);
}

function yamlString(s: string): string {
  return JSON.stringify(s);
}

async function runOne(suite: Suite, c: Check): Promise<Outcome> {
  const t = new T(suite, c);
  chmodSync(t.dir, 0o755);
  const t0 = Date.now();
  let status: Outcome['status'] = 'pass';
  let message = '';
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      c.run(t),
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Failed('the check timed out after 120 s')), 120_000);
      }),
    ]);
  } catch (e) {
    if (e instanceof Skip) {
      status = 'skip';
      message = e.message;
    } else {
      status = 'fail';
      message = e instanceof Failed ? e.message : `error in the check: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
    }
  } finally {
    clearTimeout(timer);
    await t.cleanup();
  }
  return { id: c.id, section: c.section, level: c.level, title: c.title, status, message, notes: t.notes, ms: Date.now() - t0 };
}

function tapLine(n: number, o: Outcome): string {
  const head = `${o.status === 'fail' ? 'not ok' : 'ok'} ${n} - ${o.id} [${o.section}] ${o.level}: ${o.title}`;
  const lines = [o.status === 'skip' ? `${head} # SKIP ${o.message}` : head];
  if (o.status === 'fail') {
    lines.push('  ---', `  message: ${yamlString(o.message)}`, `  section: ${o.section}`, `  level: ${o.level}`, '  ...');
  }
  for (const note of o.notes) lines.push(`# ${o.id}: ${note}`);
  return lines.join('\n');
}

export function summaryLine(outs: readonly Outcome[]): string {
  const pass = outs.filter((o) => o.status === 'pass').length;
  const fail = outs.filter((o) => o.status === 'fail').length;
  const skip = outs.filter((o) => o.status === 'skip').length;
  return `${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let runtime = process.env.RUNTIME ?? '';
  let filter: RegExp | null = null;
  let jobs = 1;
  let json: string | null = null;
  let listOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => argv[++i] ?? usage();
    if (a === '--runtime') runtime = val();
    else if (a === '--filter') filter = new RegExp(val());
    else if (a === '--jobs') jobs = Math.max(1, Number(val()) || 1);
    else if (a === '--json') json = val();
    else if (a === '--list') listOnly = true;
    else usage();
  }
  const selected = ALL_CHECKS.filter((c) => !filter || filter.test(c.id) || filter.test(c.section));
  if (listOnly) {
    for (const c of selected) console.log(`${c.id}\t${c.level}\t${c.section}\t${c.title}`);
    return;
  }
  if (!runtime) usage();
  if (runtime.includes('/')) runtime = path.resolve(runtime);
  if (process.getuid?.() !== 0) {
    console.error('conformance: run as root');
    process.exit(2);
  }
  const example = path.join(REPO, 'bundles/busybox');
  if (!existsSync(path.join(example, 'rootfs/bin/busybox'))) {
    console.error('conformance: bundles/busybox/rootfs is missing: run ./scripts/mk-busybox-bundle.sh');
    process.exit(2);
  }
  // Container inits are re-parented to us when create returns: reap them.
  native().setChildSubreaper(true);
  const tmp = mkdtempSync('/tmp/hako-conformance-');
  chmodSync(tmp, 0o755); // user-namespace containers must reach their rootfs
  setScratch(tmp);
  const suite: Suite = { runtime, example, tmp };
  const v = await cmd([runtime, '--version']).catch(() => null);
  const version = v && ok(v) ? v.stdout.split('\n')[0]!.trim() : 'unknown version';

  console.log('TAP version 13');
  console.log(`# runtime: ${runtime} (${version})`);
  console.log(`1..${selected.length}`);
  const outs: Outcome[] = new Array(selected.length);
  let printed = 0;
  let next = 0;
  const flush = (): void => {
    while (printed < selected.length && outs[printed]) {
      console.log(tapLine(printed + 1, outs[printed]!));
      printed++;
    }
  };
  const worker = async (): Promise<void> => {
    while (next < selected.length) {
      const i = next++;
      outs[i] = await runOne(suite, selected[i]!);
      flush();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, selected.length) }, worker));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (json) writeFileSync(json, JSON.stringify({ runtime, version, date: new Date().toISOString(), results: outs }, null, 2) + '\n');
  const must = outs.filter((o) => o.level === 'MUST');
  console.log(`# MUST: ${summaryLine(must)}; SHOULD: ${summaryLine(outs.filter((o) => o.level === 'SHOULD'))}`);
  console.log(summaryLine(outs));
  process.exitCode = outs.some((o) => o.status === 'fail') ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(`conformance: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(2);
  });
}
