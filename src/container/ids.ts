// Container ids follow runc's rule (src/cli/ids.ts holds it), so ids that
// work with runc work here; the library reports them as HakoErrors.
import { HakoError } from '../errors.js';
import { isValidId } from '../cli/ids.js';

export function validateId(id: string): void {
  if (id === '') throw new HakoError('container id cannot be empty', 'usage');
  if (!isValidId(id)) throw new HakoError(`invalid container ID format: ${JSON.stringify(id)}`, 'usage');
}
