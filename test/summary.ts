// The closing line of `make test`: how many tests passed, failed and were
// skipped, over every lane (unit, integration, security, clients, guests).
// uvu's own totals count a test that skipped at run time as passed (it only
// knows static skips), so the lines test/skip.ts prints for such tests are
// taken out of the passes here. The last line, "N passed, N failed, N skipped"
// alone with nothing before it, is also the plain shape CI reads to know that
// tests ran at all.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Totals {
  passed: number;
  failed: number;
  skipped: number;
  /** Whole lanes that could not run here (a guest on a machine without qemu). */
  lanes: string[];
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ESC starts the colour codes this removes
const ANSI = /\x1b\[[0-9;]*m/g;

/** Sums uvu's "Total:/Passed:/Skipped:" blocks and the skip lines of a run's output. */
export function summarise(output: string): Totals {
  const totals: Totals = { passed: 0, failed: 0, skipped: 0, lanes: [] };
  let total = 0;
  let passed = 0;
  let skipped = 0;
  let skipLines = 0;
  for (const raw of output.split('\n')) {
    const line = raw.replace(ANSI, '');
    const m = /^\s+(Total|Passed|Skipped):\s+(\d+)\s*$/.exec(line);
    if (m) {
      const n = Number(m[2]);
      if (m[1] === 'Total') total += n;
      else if (m[1] === 'Passed') passed += n;
      else skipped += n;
    } else if (/(^|\s) {2}skipped: .+ › .+ \(.*\)$/.test(line)) {
      // uvu's progress dots may stand before it on the same line
      skipLines++;
    } else {
      const lane = /^([\w-]+): SKIPPED: /.exec(line);
      if (lane) totals.lanes.push(lane[1]!);
    }
  }
  totals.failed = total - passed - skipped;
  totals.passed = passed - skipLines;
  totals.skipped = skipped + skipLines;
  return totals;
}

/** The closing line; a lane that could not run counts as one skip, named above it. */
export function closingLines(t: Totals): string[] {
  const lines = t.lanes.map((l) => `tests: lane ${l} skipped as a whole (its reason is above)`);
  lines.push(`${t.passed} passed, ${t.failed} failed, ${t.skipped + t.lanes.length} skipped`);
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node out/test/summary.js LOG');
    process.exit(2);
  }
  for (const line of closingLines(summarise(readFileSync(file, 'utf8')))) console.log(line);
}
