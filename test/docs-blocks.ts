// The fenced blocks of README.md and docs/*.md, and what test/clients/docs.test.ts
// does with each. The rule (docs/README.md says the same):
//
//  - ```sh blocks are commands, run in order, as written;
//  - `<!-- not run: REASON -->` on the line before a block keeps it from
//    running (Kubernetes, CRI-O, systemd as PID 1, a terminal...);
//  - `<!-- file: /ABSOLUTE/PATH -->` before a block (toml, json...) has the
//    test write the block to that path, as the prose asks the reader to;
//  - a block with no language is output, never run;
//  - any other block must carry one of the two markers, so that nothing a
//    reader is asked to do is silently left untested.
//
// Pure: parsing and script generation only (test/unit/docs-blocks.test.ts).

export type Action = { kind: 'run' } | { kind: 'file'; path: string } | { kind: 'skip'; reason: string } | { kind: 'output' };

export interface Block {
  /** The markdown file, as given (e.g. docs/podman.md). */
  file: string;
  /** 1-based line of the block's first content line. */
  line: number;
  lang: string;
  body: string;
  action: Action;
}

const MARKER = /^<!--\s*(not run|file):\s*(.*?)\s*-->\s*$/;

/** The blocks of one markdown file; throws one line naming file:line for a malformed marker or block. */
export function parseBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  let pending: { action: Action; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const m = MARKER.exec(l);
    if (m) {
      const [, kind, arg] = m;
      if (!arg) throw new Error(`${file}:${i + 1}: "${kind}:" needs ${kind === 'file' ? 'a path' : 'a reason'}`);
      if (kind === 'file' && !arg.startsWith('/')) throw new Error(`${file}:${i + 1}: file: ${arg}: not an absolute path`);
      pending = { action: kind === 'file' ? { kind: 'file', path: arg } : { kind: 'skip', reason: arg }, line: i + 1 };
      continue;
    }
    const fence = /^(```+)\s*(\S*)\s*$/.exec(l);
    if (!fence) {
      if (pending) throw new Error(`${file}:${pending.line}: a marker must be on the line just before a fenced block`);
      continue;
    }
    const close = fence[1]!;
    const lang = fence[2]!;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== close) end++;
    if (end >= lines.length) throw new Error(`${file}:${i + 1}: block not closed`);
    const body = lines.slice(start, end).join('\n') + '\n';
    let action: Action;
    if (pending) action = pending.action;
    else if (lang === 'sh') action = { kind: 'run' };
    else if (lang === '') action = { kind: 'output' };
    else throw new Error(`${file}:${i + 1}: a \`\`\`${lang} block needs <!-- file: PATH --> or <!-- not run: REASON --> on the line before it`);
    if (action.kind === 'file' && lang === 'sh') throw new Error(`${file}:${i + 1}: a sh block is run, not written to a file`);
    blocks.push({ file, line: start + 1, lang, body, action });
    pending = undefined;
    i = end;
  }
  if (pending) throw new Error(`${file}:${pending.line}: a marker must be on the line just before a fenced block`);
  return blocks;
}

/** Where a line of the generated script came from. */
export interface Origin {
  file: string;
  line: number;
}

export interface Script {
  text: string;
  /** origins[n] is the origin of script line n + 1 (undefined for the script's own lines). */
  origins: (Origin | undefined)[];
}

const EOF_MARK = 'HAKO_DOCS_EOF';
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * One bash script that runs every runnable block of each file, in order,
 * each file in a subshell of its own started in `cwd` (variables and `cd`
 * carry from block to block within a file, as in a reader's shell). The
 * first failing command stops everything: the ERR trap prints
 * `hako-docs: FAILED <script line> <status>: <command>`; `set -x` shows each
 * command before its output.
 */
export function runnerScript(files: { file: string; blocks: Block[] }[], cwd: string): Script {
  const out: string[] = [];
  const origins: (Origin | undefined)[] = [];
  const own = (l: string) => {
    out.push(l);
    origins.push(undefined);
  };
  own('set -eE -o pipefail');
  for (const { file, blocks } of files) {
    const todo = blocks.filter((b) => b.action.kind === 'run' || b.action.kind === 'file');
    if (!todo.length) continue;
    own(`( # ${file}`);
    own(`cd ${shq(cwd)}`);
    own(`trap 'rc=$?; set +x; echo "hako-docs: FAILED $LINENO $rc: $BASH_COMMAND"; exit $rc' ERR`);
    own('set -x');
    for (const b of todo) {
      own(`: ${shq(`--- ${b.file}:${b.line}`)}`);
      const bodyLines = b.body.replace(/\n$/, '').split('\n');
      if (b.action.kind === 'file') {
        if (bodyLines.includes(EOF_MARK)) throw new Error(`${b.file}:${b.line}: the block contains ${EOF_MARK}`);
        const p = shq(b.action.path);
        out.push(`mkdir -p "$(dirname ${p})" && cat >${p} <<'${EOF_MARK}'`);
        origins.push({ file: b.file, line: b.line - 1 });
      }
      bodyLines.forEach((l, k) => {
        out.push(l);
        origins.push({ file: b.file, line: b.line + k });
      });
      if (b.action.kind === 'file') own(EOF_MARK);
    }
    own(')');
  }
  return { text: out.join('\n') + '\n', origins };
}

export interface Failure {
  origin: Origin | undefined;
  status: number;
  command: string;
}

/** The FAILED line the ERR trap printed, if any. */
export function failureOf(log: string, script: Script): Failure | undefined {
  const m = /^hako-docs: FAILED (\d+) (\d+): (.*)$/m.exec(log);
  if (!m) return undefined;
  return { origin: script.origins[Number(m[1]) - 1], status: Number(m[2]), command: m[3]! };
}
