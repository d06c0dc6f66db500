// What the translations (v1-resources.ts, v2-resources.ts) produce: an
// ordered list of cgroup file writes plus warnings, and the helpers they
// share. Translations are pure; where runc's choice depends on the cgroup's
// current state (the current memory limit, whether BFQ is there...), the
// manager reads those facts first and passes them in.
import { toInt64, toUint64 } from '../spec/numbers.js';
import { pointerToken, settingError } from './cgroup-error.js';

export interface CgroupWrite {
  /**
   * The controller whose file this is: a v1 hierarchy's controller
   * ("memory", "cpu", "blkio"...) or a v2 controller ("memory", "io",
   * "cgroup" for core files). A controller the host lacks is an error
   * naming it.
   */
  controller: string;
  file: string;
  value: string;
  /** The setting this write comes from, for messages: `config.json: /linux/resources/memory/limit`. */
  from: string;
  /** When the file does not exist: fail (default), skip quietly, or skip with `missing` as a warning. */
  ifMissing?: 'error' | 'skip' | 'warn';
  /** Why a missing file matters, in words (used for 'error' and 'warn'). */
  missing?: string;
  /**
   * The kernel may reject this value with EINVAL until a later write of the
   * same controller is done (cfs_period_us before cfs_quota_us, burst
   * before quota, rt_period before rt_runtime): retry it once after them.
   */
  retryOnEinval?: boolean;
  /** Read the file back and fail if the kernel clamped the value (v1 cpu.shares). */
  readBack?: boolean;
  /** Write each line separately (the kernel parses one entry per write: io.max, unified values). */
  byLine?: boolean;
}

export interface Translation {
  writes: CgroupWrite[];
  /** Settings that were ignored, in one line each. */
  warnings: string[];
}

export interface TranslateOptions {
  /** The document, for messages; "config.json" by default ("-" or a file name for `update -r`). */
  source?: string;
  /** JSON pointer of the LinuxResources object; "/linux/resources" by default ("" for `update -r`). */
  at?: string;
}

/** uint64 "max" (Docker's "unset" for swappiness arrives as 2^64, clamped to this). */
export const U64_MAX = (1n << 64n) - 1n;

/** Builds one translation: the JSON-path bookkeeping every field needs. */
export class Builder {
  readonly writes: CgroupWrite[] = [];
  readonly warnings: string[] = [];
  readonly source: string;
  readonly at: string;

  constructor(opts: TranslateOptions = {}) {
    this.source = opts.source ?? 'config.json';
    this.at = opts.at ?? '/linux/resources';
  }

  /** `config.json: /linux/resources/<rel>` */
  location(rel: string): string {
    return `${this.source}: ${this.at}/${rel}`;
  }

  push(controller: string, file: string, value: string, rel: string, extra: Partial<CgroupWrite> = {}): void {
    this.writes.push({ controller, file, value, from: this.location(rel), ...extra });
  }

  warn(rel: string, why: string): void {
    this.warnings.push(`${this.location(rel)}: ${why}`);
  }

  fail(rel: string, why: string): never {
    throw settingError(this.source, `${this.at}/${rel}`, why);
  }

  token(key: string | number): string {
    return pointerToken(key);
  }

  result(): Translation {
    return { writes: this.writes, warnings: this.warnings };
  }
}

/** A memory byte count: -1 (unlimited), 0 (unset) or positive; anything else is a mistake. */
export function memoryValue(b: Builder, v: number | undefined, rel: string): bigint {
  if (v === undefined) return 0n;
  const n = toInt64(v);
  if (n < -1n) b.fail(rel, 'must be -1 (unlimited) or a number of bytes');
  return n;
}

export function u64(v: number): bigint {
  return toUint64(v);
}

export function i64(v: number): bigint {
  return toInt64(v);
}

/** A major:minor pair for blkio/io files; negative numbers have no meaning there. */
export function devNum(b: Builder, major: number, minor: number, rel: string): string {
  if (major < 0) b.fail(`${rel}/major`, 'must be a device major number (not negative)');
  if (minor < 0) b.fail(`${rel}/minor`, 'must be a device minor number (not negative)');
  return `${toInt64(major)}:${toInt64(minor)}`;
}

/** rdma.max takes "<device> hca_handle=N hca_object=M"; the device name is one word. */
export function rdmaLine(b: Builder, dev: string, l: { hcaHandles?: number; hcaObjects?: number }): string | undefined {
  if (!/^[^\s]+$/.test(dev)) b.fail(`rdma/${b.token(dev)}`, 'the device name must be a single word');
  let s = dev;
  if (l.hcaHandles !== undefined) s += ` hca_handle=${l.hcaHandles}`;
  if (l.hcaObjects !== undefined) s += ` hca_object=${l.hcaObjects}`;
  return s === dev ? undefined : s;
}

/** pids.max: -1 (or any negative, as runc) means "max"; 0 is a real limit (runtime-spec). */
export function pidsValue(limit: number): string {
  const n = toInt64(limit);
  return n < 0n ? 'max' : String(n);
}

/** Swappiness: the uint64 maximum (Docker's "unset") or -1 means not set; otherwise 0..100. */
export function swappinessValue(b: Builder, v: number | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  const n = toUint64(v);
  if (n === U64_MAX) return undefined;
  if (n > 100n) b.fail('memory/swappiness', 'must be 0..100');
  return n;
}
