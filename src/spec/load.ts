// Reading and validating OCI documents. Validation is the ajv code compiled
// from schemas/ at build time (scripts/build-schemas.mjs), then the rules a
// schema cannot express (check.ts). Nothing here prints or exits: every
// failure is a SpecError with a one-line message.
//
// Numbers: JSON.parse keeps 53 bits, so a uint64 such as RLIM_INFINITY
// (18446744073709551615) arrives as 2^64. Convert with toUint64/toInt64
// (numbers.ts), which clamp, rather than BigInt() directly.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpecError, schemaError } from './spec-error.js';
import { decodeUtf8, parseJson } from './json.js';
import { checkProcess, checkResources, checkSpec } from './check.js';
import { compareVersions, parseVersion } from './version.js';
import { dropOptionalNulls } from './nulls.js';
import { DEFS as CONFIG_NULLS, ROOT as SPEC_NULLS } from './generated/nulls-config.js';
import type { LinuxResources, Process, Root, Spec } from './generated/config.js';
import type { State } from './generated/state.js';
import type { Features } from './generated/features.js';
import { validateLinuxResources as resourcesSchema, validateProcess as processSchema, validateSpec as specSchema } from './generated/validate-config.js';
import { validateState as stateSchema } from './generated/validate-state.js';
import { validateFeatures as featuresSchema } from './generated/validate-features.js';

/** A config.json hako can create a container from: root and process are present. */
export type LoadedSpec = Spec & { root: Root; process: Process };

/**
 * Reads `<bundleDir>/config.json` and returns it validated. Throws a
 * SpecError such as `config.json: /process/args: must NOT have fewer than 1 items`.
 */
export function loadSpec(bundleDir: string): LoadedSpec {
  const file = join(bundleDir, 'config.json');
  return parseSpec(readDocument(file, 'config.json'), 'config.json');
}

/** Parses and validates config.json text; `file` names it in messages. */
export function parseSpec(text: string, file = 'config.json'): LoadedSpec {
  return validateSpec(parseJson(text, file), file);
}

/**
 * Validates an already parsed config.json. Nulls that stand for absent
 * optional members (Go's way of writing nil) are removed from `doc` first
 * (nulls.ts).
 */
export function validateSpec(doc: unknown, file = 'config.json'): LoadedSpec {
  dropOptionalNulls(doc, SPEC_NULLS, { defs: CONFIG_NULLS }, file);
  if (!specSchema(doc)) throw schemaError(file, specSchema.errors);
  checkSpec(doc, file);
  return doc as LoadedSpec;
}

/** Validates a process document, as `exec --process` reads it. */
export function validateProcess(doc: unknown, file = 'process.json'): Process {
  dropOptionalNulls(doc, { ref: 'Process' }, { defs: CONFIG_NULLS }, file);
  if (!processSchema(doc)) throw schemaError(file, processSchema.errors);
  checkProcess(doc, file, '');
  return doc;
}

/** Validates a resources document, as `update --resources` reads it. */
export function validateResources(doc: unknown, file = 'resources.json'): LinuxResources {
  dropOptionalNulls(doc, { ref: 'LinuxResources' }, { defs: CONFIG_NULLS }, file);
  if (!resourcesSchema(doc)) throw schemaError(file, resourcesSchema.errors);
  checkResources(doc, file, '');
  return doc;
}

/** Validates an OCI state (what `state` prints and hooks receive). */
export function validateState(doc: unknown, file = 'state'): State {
  if (!stateSchema(doc)) throw schemaError(file, stateSchema.errors);
  return doc;
}

/** Validates a features document (what `features` prints). */
export function validateFeatures(doc: unknown, file = 'features'): Features {
  if (!featuresSchema(doc)) throw schemaError(file, featuresSchema.errors);
  const min = parseVersion(doc.ociVersionMin);
  const max = parseVersion(doc.ociVersionMax);
  if (!min) throw new SpecError(file, '/ociVersionMin', `${JSON.stringify(doc.ociVersionMin)} is not a SemVer version`);
  if (!max) throw new SpecError(file, '/ociVersionMax', `${JSON.stringify(doc.ociVersionMax)} is not a SemVer version`);
  if (compareVersions(max, min) < 0) throw new SpecError(file, '/ociVersionMax', `must not be less than ociVersionMin (${doc.ociVersionMin})`);
  return doc;
}

/** Reads a JSON document from a file, as a SpecError if it cannot be read or parsed. */
export function readJsonFile(path: string, file: string): unknown {
  return parseJson(readDocument(path, file), file);
}

function readDocument(path: string, file: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SpecError(file, '', `cannot read ${path}: ${systemReason(e)}`);
  }
  return decodeUtf8(bytes, file);
}

// "ENOENT: no such file or directory, open '/b/config.json'" -> "no such file or directory"
function systemReason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return /^[A-Z0-9_]+: (.*?), \w+ '.*'$/.exec(msg)?.[1] ?? msg;
}
