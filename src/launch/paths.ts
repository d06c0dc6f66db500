// Paths inside the container, as the plan carries them. Pure.
import path from 'node:path';
import { PlanError } from './plan-error.js';

/** Container path: absolute, clean, no "..": the launcher resolves it inside the rootfs. */
export function containerPath(p: string, where: string): string {
  const abs = path.posix.normalize('/' + p);
  if (abs.split('/').includes('..')) throw new PlanError(where, `path ${JSON.stringify(p)} escapes the root`);
  return abs.length > 1 && abs.endsWith('/') ? abs.slice(0, -1) : abs;
}
