// `hako --version` (a global flag in runc, not a command): what main.ts
// prints for it. The build sets HAKO_VERSION and HAKO_COMMIT.
import { stdout } from '../../output.js';
import { versionText } from '../help.js';

const VERSION = process.env.HAKO_VERSION ?? '0.0.0-dev';
const COMMIT = process.env.HAKO_COMMIT ?? 'unknown';
const SPEC_VERSION = '1.3.0';

export function printVersion(): number {
  stdout(versionText(VERSION, [`commit: ${COMMIT}`, `spec: ${SPEC_VERSION}`]));
  return 0;
}
