/** A config.json value that cannot be turned into a plan; `pointer` is its JSON path. */
export class PlanError extends Error {
  constructor(
    readonly pointer: string,
    readonly reason: string,
  ) {
    super(`config.json: ${pointer}: ${reason}`);
    this.name = 'PlanError';
  }
}
