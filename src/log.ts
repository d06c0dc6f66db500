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

export class Logger {
  constructor(private readonly opts: LoggerOptions) {}

  line(level: LogLevel, msg: string): string {
    msg = clip(msg);
    if (this.opts.format === 'json') return JSON.stringify({ level, msg, time: rfc3339() }) + '\n';
    return `time="${rfc3339()}" level=${level} msg=${JSON.stringify(msg)}\n`;
  }

  log = (level: LogLevel, msg: string): void => {
    if (level === 'debug' && !this.opts.debug) return;
    if (level === 'info' && !this.opts.debug) return;
    const text = this.line(level, msg);
    if (this.opts.file) {
      try {
        appendFileSync(this.opts.file, text);
        return;
      } catch {
        /* fall back to stderr */
      }
    }
    writeFd(2, level === 'error' ? `hako: ${clip(msg)}\n` : text);
  };

  /** An error ends the command: logged to --log, and always the plain message on stderr. */
  error(msg: string): void {
    if (this.opts.file) {
      try {
        appendFileSync(this.opts.file, this.line('error', msg));
      } catch {
        /* stderr still gets it */
      }
    }
    writeFd(2, `hako: ${clip(msg)}\n`);
  }
}
