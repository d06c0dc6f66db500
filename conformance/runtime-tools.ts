// Runs a checkout of opencontainers/runtime-tools (built by the user:
// `make runtimetest validation-executables` there, with Go >= 1.21)
// against a runtime and summarises it like our own suite: TAP, then the
// last line `N passed, M failed`. Failures the suite has for every runtime
// (its own bugs, tests stale against runtime-spec 1.3.0) and failures this
// host causes are listed apart, with their reasons, so that a failure of
// the runtime under test is never hidden among them.
//
//   RUNTIME_TOOLS_DIR=~/runtime-tools conformance/run-runtime-tools [RUNTIME] [--only REGEX]
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cmd, setScratch } from '../bench/proc.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type Why = 'suite' | 'stale' | 'host';

/**
 * Measured on this kind of machine with runc 1.1.5 (shared/RUNTIME-TOOLS-NOTES.md).
 * Key: `program` (every assertion of it) or `program#N` (TAP number N).
 */
export const KNOWN: Record<string, { why: Why; reason: string }> = {
  'linux_cgroups_pids#3': { why: 'suite', reason: 'compares pointers, not values' },
  'linux_cgroups_relative_pids#3': { why: 'suite', reason: 'compares pointers, not values' },
  'delete_resources#3': { why: 'suite', reason: 'compares pointers, not values' },
  'misc_props#1': { why: 'suite', reason: 'never copies runtimetest into the bundle' },
  'pidfile#1': { why: 'suite', reason: 'kills a process that already exited' },
  'process_rlimits#13': { why: 'suite', reason: 'Go raises its own NOFILE soft limit at start' },
  'start#7': { why: 'suite', reason: 'inverted assertion' },
  hooks: { why: 'suite', reason: 'can never pass (the expected string lacks " called"; nil dereference)' },
  prestart: { why: 'suite', reason: 'expects prestart hooks to run after start; the spec says during create' },
  'linux_cgroups_devices#3': { why: 'suite', reason: "assumes the user's first device rule is at index 0 (runtimes may add default rules first)" },
  'linux_cgroups_relative_devices#3': { why: 'suite', reason: "assumes the user's first device rule is at index 0 (runtimes may add default rules first)" },
  killsig: { why: 'suite', reason: 'racy: the signal can arrive before the shell sets its trap (seen on #2 and #3)' },
  poststart_fail: { why: 'stale', reason: 'expects a warning and continuation; runtime-spec 1.3.0 makes a failing poststart hook fail start' },
  linux_cgroups_blkio: { why: 'host', reason: 'no blkio.weight/leaf_weight on kernel 6.18 cgroup v1' },
  linux_cgroups_relative_blkio: { why: 'host', reason: 'no blkio.weight/leaf_weight on kernel 6.18 cgroup v1' },
  linux_cgroups_hugetlb: { why: 'host', reason: 'hugetlb is attached to cgroup2 on this host' },
  linux_cgroups_relative_hugetlb: { why: 'host', reason: 'hugetlb is attached to cgroup2 on this host' },
  linux_cgroups_network: { why: 'host', reason: 'net_cls/net_prio not mounted' },
  linux_cgroups_relative_network: { why: 'host', reason: 'net_cls/net_prio not mounted' },
  linux_mount_label: { why: 'host', reason: 'no SELinux' },
  linux_process_apparmor_profile: { why: 'host', reason: 'no AppArmor' },
  process_capabilities: { why: 'host', reason: 'no CAP_SYS_RESOURCE in the bounding set of this machine' },
};

/** runc 1.1.5's own failures here (not excused: hako should pass these). */
export const RUNC_GAPS: Record<string, string> = {
  'delete#2': 'runc deletes a created container',
  'delete#3': 'runc deletes a created container',
  linux_cgroups_memory: 'runc ignores kernel memory settings',
  linux_cgroups_relative_memory: 'runc ignores kernel memory settings',
  hooks_stdin: 'runc gives prestart/poststart the wrong state status',
  poststart: 'runc runs poststart hooks during create',
  poststop_fail: 'runc stops at the first failing poststop hook',
  linux_rootfs_propagation: 'runc: shared and unbindable rootfs propagation',
  linux_seccomp: 'runc: a seccomp profile blocking getcwd',
  process_capabilities_fail: 'runc accepts an unknown capability',
};

export interface Assertion {
  n: number;
  ok: boolean;
  text: string;
}

/** ok / not ok lines of runtime-tools' TAP (two plans per program, JSON-style YAML: count lines only). */
export function parseTap(out: string): Assertion[] {
  const res: Assertion[] = [];
  for (const line of out.split('\n')) {
    const m = /^(not ok|ok)\s+(\d+)\s*(.*)$/.exec(line);
    if (m) res.push({ n: Number(m[2]), ok: m[1] === 'ok', text: m[3]!.replace(/^-\s*/, '') });
  }
  return res;
}

/** The first "error" of the JSON-style YAML blocks: why a program stopped with `1..0`. */
export function tapError(out: string): string | null {
  const m = /"error":\s*"((?:[^"\\]|\\.)*)"/.exec(out);
  if (!m) return null;
  try {
    return (JSON.parse(`"${m[1]}"`) as string).split('\n')[0]!;
  } catch {
    return m[1]!;
  }
}

export function classify(program: string, n: number): { why: Why; reason: string } | null {
  return KNOWN[`${program}#${n}`] ?? KNOWN[program] ?? null;
}

function unmountUnder(dir: string): void {
  const mps = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const mp of mps) spawnSync('umount', ['-l', mp]);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let runtime = process.env.RUNTIME ?? path.join(REPO, 'bin/hako');
  let only: RegExp | null = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') only = new RegExp(argv[++i] ?? '');
    else if (argv[i]!.startsWith('-')) {
      console.error('usage: RUNTIME_TOOLS_DIR=DIR conformance/run-runtime-tools [RUNTIME] [--only REGEX]');
      process.exit(2);
    } else runtime = argv[i]!;
  }
  if (runtime.includes('/')) runtime = path.resolve(runtime);
  const rtd = process.env.RUNTIME_TOOLS_DIR;
  if (!rtd || !existsSync(path.join(rtd, 'validation'))) {
    console.error('run-runtime-tools: set RUNTIME_TOOLS_DIR to a runtime-tools checkout built with `make runtimetest validation-executables` (Go >= 1.21)');
    process.exit(2);
  }
  for (const need of ['runtimetest', 'rootfs-amd64.tar.gz']) {
    if (!existsSync(path.join(rtd, need))) {
      console.error(`run-runtime-tools: ${rtd}/${need} is missing (build runtime-tools first)`);
      process.exit(2);
    }
  }
  const programs = readdirSync(path.join(rtd, 'validation'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(rtd, 'validation', d.name, `${d.name}.t`)))
    .map((d) => d.name)
    .filter((p) => !only || only.test(p))
    .sort();
  if (programs.length === 0) {
    console.error('run-runtime-tools: no validation/<name>/<name>.t programs: build them first');
    process.exit(2);
  }
  // Bundles go under TMPDIR, which must be world-readable (user namespaces).
  const tmp = mkdtempSync('/tmp/hako-rtools-');
  chmodSync(tmp, 0o755);
  setScratch(tmp);
  console.log('TAP version 13');
  console.log(`# runtime-tools ${rtd} against ${runtime}`);
  console.log(`1..${programs.length}`);
  let passed = 0;
  let failed = 0;
  const excused: string[] = [];
  const hostFails: string[] = [];
  const own: string[] = [];
  const seenKnown = new Set<string>();
  try {
    for (const [i, p] of programs.entries()) {
      const r = await cmd([path.join(rtd, 'validation', p, `${p}.t`)], {
        cwd: rtd,
        timeoutMs: 300_000,
        env: { ...process.env, RUNTIME: runtime, TMPDIR: tmp },
      });
      unmountUnder(tmp); // linux_ns_itype's mounts land in the host namespace
      const as = parseTap(r.stdout);
      const bad = as.filter((a) => !a.ok);
      passed += as.length - bad.length;
      failed += bad.length;
      const mine: string[] = [];
      for (const a of bad) {
        const k = classify(p, a.n);
        const label = `${p}#${a.n} ${a.text}`.trim();
        if (k) {
          seenKnown.add(KNOWN[`${p}#${a.n}`] ? `${p}#${a.n}` : p);
          (k.why === 'host' ? hostFails : excused).push(`${label} [${k.why}: ${k.reason}]`);
        } else {
          const gap = RUNC_GAPS[`${p}#${a.n}`] ?? RUNC_GAPS[p];
          mine.push(`#${a.n}`);
          own.push(`${label}${gap ? ` (runc fails it too: ${gap})` : ''}`);
        }
      }
      // Some programs check one thing and print only `1..0`: an "error"
      // block then means it failed, none means it passed. A program that
      // exits non-zero without a `not ok` failed too. Each counts once.
      // (With assertions, "error" blocks are diagnostics of ok/not ok lines.)
      const progErr = as.length === 0 ? tapError(r.stdout) : null;
      if (!progErr && r.code === 0 && !r.timedOut && as.length === 0) passed++;
      if (progErr || r.timedOut || (r.code !== 0 && bad.length === 0)) {
        failed++;
        const k = KNOWN[p];
        const why = progErr ?? r.stderr.trim().split('\n').pop() ?? '';
        const msg = `${p}: exit ${r.code ?? r.signal}${r.timedOut ? ' (timed out)' : ''} with ${as.length} assertions: ${why.slice(0, 200)}`;
        if (k) {
          seenKnown.add(p);
          (k.why === 'host' ? hostFails : excused).push(`${msg} [${k.why}: ${k.reason}]`);
        } else {
          own.push(`${msg}${RUNC_GAPS[p] ? ` (runc fails it too: ${RUNC_GAPS[p]})` : ''}`);
          mine.push('(program failed)');
        }
      }
      const status = mine.length ? 'not ok' : 'ok';
      const note = bad.length && !mine.length ? ' # all failures known (see below)' : '';
      console.log(
        `${status} ${i + 1} - ${p}: ${as.length - bad.length}/${as.length} assertions${progErr ? ` (error: ${progErr.slice(0, 100)})` : ''}${mine.length ? `; the runtime's own failures: ${mine.join(' ')}` : ''}${note}`,
      );
    }
  } finally {
    unmountUnder(tmp);
    spawnSync('rm', ['-rf', '--one-file-system', tmp]);
    rmSync(tmp, { recursive: true, force: true });
  }
  const section = (title: string, xs: string[]): void => {
    console.log(`# ${title} (${xs.length}):`);
    for (const x of xs) console.log(`#   ${x}`);
  };
  section("the runtime's own failures", own);
  section('known broken for every runtime (suite bugs, tests stale against runtime-spec 1.3.0)', excused);
  section('caused by this host', hostFails);
  const unused = Object.keys(KNOWN).filter((k) => !seenKnown.has(k) && programs.includes(k.split('#')[0]!));
  if (unused.length) console.log(`# known-broken entries that passed or did not fail this time: ${unused.join(' ')}`);
  console.log(`# of ${failed} failures: ${own.length} the runtime's own, ${excused.length} known broken for every runtime, ${hostFails.length} from this host`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = own.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(`run-runtime-tools: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exit(2);
  });
}
