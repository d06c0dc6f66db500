// Signals at the library's boundary: a name as `hako kill` takes it
// ('KILL', 'SIGKILL', 'sigterm', 'RTMIN+3') or a number (9), checked the
// same way, so a caller never meets the addon's TypeError.
import { HakoError } from '../errors.js';
import { MAX_SIGNAL, parseSignal, signalName } from '../cli/signals.js';
import { UsageError } from '../cli/args.js';

/** A signal by name (with or without "SIG", any case) or by number. */
export type Signal = string | number;

/** The signal's number; a HakoError of kind 'usage' for anything else. */
export function signalNumber(sig: Signal): number {
  if (typeof sig === 'number') {
    if (Number.isInteger(sig) && sig >= 0 && sig <= MAX_SIGNAL) return sig;
    throw new HakoError(`unknown signal ${String(sig)}`, 'usage');
  }
  if (typeof sig !== 'string') throw new HakoError(`a signal is a name or a number, not ${typeof sig}`, 'usage');
  try {
    return parseSignal(sig);
  } catch (e) {
    if (e instanceof UsageError) throw new HakoError(e.message, 'usage');
    throw e;
  }
}

/** "SIGKILL" for 9; "SIG<n>" for a number without a name. */
export function nameOfSignal(n: number): string {
  return signalName(n) ?? `SIG${n}`;
}
