import { InnerError, atLocation } from '../errors.js';

/** A config.json value that cannot be turned into a plan (a config error); `pointer` is its JSON path. */
export class PlanError extends InnerError {
  constructor(
    readonly pointer: string,
    readonly reason: string,
  ) {
    super(atLocation('config.json', pointer, reason), 'config');
    this.name = 'PlanError';
  }
}
