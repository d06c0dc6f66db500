// runc-compatible logging: `--log FILE` and `--log-format text|json`.
// JSON lines are {"level","msg","time"}: containerd shows the msg of the
// last error line, podman parses the log on failure. Without --log, lines
// go to stderr — but a successful command prints nothing on stderr
// (containerd reads stdout and stderr through one pipe), so only warnings
// and errors are written there, and debug only with --debug.
import { appendFileSync } from 'node:fs';
import { writeFd } from './output.js';
import type { LogLevel } from './container/context.js';

export type LogFormat = 'text' | 'json';

export interface LoggerOptions {
  file?: string;
  format: LogFormat;
  debug: boolean;
}

function rfc3339(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * A message that echoes a huge value (a 10 kB path from config.json) stays
 * readable: its middle gives way, its start (container, file, JSON path)
 * and end (the cause) stay.
 */
export const MAX_LINE = 4096;

export function clip(msg: string, max = MAX_LINE): string {
  if (msg.length <= max) return msg;
  const keep = max - 40;
  const head = Math.ceil(keep / 2);
  const tail = keep - head;
  return `${msg.slice(0, head)}…(${msg.length - keep} characters left out)…${msg.slice(msg.length - tail)}`;
}

// logrus's names, which runc writes and its callers read: "warning", not
// hako's "warn".
const LEVEL_NAMES: Readonly<Record<LogLevel, string>> = { debug: 'debug', info: 'info', warn: 'warning', error: 'error' };

export class Logger {
  constructor(private readonly opts: LoggerOptions) {}

  line(level: LogLevel, msg: string): string {
    msg = clip(msg);
    const name = LEVEL_NAMES[level];
    if (this.opts.format === 'json') return JSON.stringify({ level: name, msg, time: rfc3339() }) + '\n';
    return `time="${rfc3339()}" level=${name} msg=${JSON.stringify(msg)}\n`;
  }

  log = (level: LogLevel, msg: string): void => {
    if (level === 'debug' && !this.opts.debug) return;
    if (level === 'info' && !this.opts.debug) return;
    const text = this.line(level, msg);
    if (this.opts.file && this.append(text)) return;
    writeFd(2, level === 'error' ? this.onStderr(msg) : text);
  };

  /**
   * An error ends the command. As runc's: with --log, a line there and the
   * bare message on stderr (podman shows it after its own "hako: ", so no
   * prefix of ours); without, on stderr in the chosen format, a JSON line
   * for json (every line one format for whoever parses it), and for text
   * "hako: message", plainer than a logrus line for the people who read it.
   */
  error(msg: string): void {
    if (this.opts.file && this.append(this.line('error', msg))) {
      writeFd(2, `${clip(msg)}\n`);
      return;
    }
    writeFd(2, this.onStderr(msg));
  }

  /** An error line for stderr without --log. Some of runc's usage messages carry the program's name already. */
  private onStderr(msg: string): string {
    return this.opts.format === 'json' ? this.line('error', msg) : `${msg.startsWith('hako: ') ? '' : 'hako: '}${clip(msg)}\n`;
  }

  /** False when the log file cannot take it: stderr gets the line instead. */
  private append(text: string): boolean {
    try {
      appendFileSync(this.opts.file!, text);
      return true;
    } catch {
      return false;
    }
  }
}
