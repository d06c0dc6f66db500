// JSON null where a Go program had nothing to say. Go's encoding/json
// writes nil slices, maps and pointers as null unless the field says
// omitempty, so configs from podman, containerd or CRI-O may carry
// `"args": null` in a seccomp rule, `"devices": null`, `"hooks":
// {"prestart": null}`; runc (Go again) reads each as absent. Here a null
// is dropped where the schema makes the property optional, before the
// schema validation, so the rest of hako never sees it; a null where the
// property is required stays an error naming its path. Which properties
// are which comes from the schema itself (scripts/build-schemas.mjs,
// nullShapes), not from a list kept here.

import { SpecError, pointerToken } from './spec-error.js';

/** What a schema says about nulls in one place of a document (generated; see build-schemas.mjs). */
export interface NullShape {
  /** The shape of this definition instead. */
  ref?: string;
  /** Properties whose null means absent. */
  optional?: readonly string[];
  /** Properties that must not be null. */
  required?: readonly string[];
  /** Where to look further: the shapes of properties with structure. */
  props?: Readonly<Record<string, NullShape>>;
  /** The shape of each array element. */
  items?: NullShape;
  /** The shape of each value of a map (additionalProperties). */
  values?: NullShape;
}

export interface NullTable {
  defs: Readonly<Record<string, NullShape>>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Deletes, in place, the null-valued properties of `doc` that `shape` marks
 * optional, at any depth. Throws a SpecError for a null that stands for a
 * required property. Anything else (a null array element or map value, a
 * wrong type) is left for the schema validation to refuse.
 */
export function dropOptionalNulls(doc: unknown, shape: NullShape | undefined, table: NullTable, file: string, at = ''): void {
  let s = shape;
  // Definitions refer to each other at most a few levels deep.
  while (s?.ref !== undefined) s = table.defs[s.ref];
  if (s === undefined) return;
  if (Array.isArray(doc)) {
    if (s.items) doc.forEach((v, i) => dropOptionalNulls(v, s.items, table, file, `${at}/${i}`));
    return;
  }
  if (!isObject(doc)) return;
  for (const k of s.required ?? []) {
    if (doc[k] === null) throw new SpecError(file, `${at}/${pointerToken(k)}`, 'is required and must not be null');
  }
  for (const k of s.optional ?? []) {
    if (doc[k] === null) delete doc[k];
  }
  for (const [k, v] of Object.entries(doc)) {
    const here = `${at}/${pointerToken(k)}`;
    const child = s.props?.[k];
    if (child) dropOptionalNulls(v, child, table, file, here);
    else if (s.values && !s.optional?.includes(k) && !s.required?.includes(k)) dropOptionalNulls(v, s.values, table, file, here);
  }
}
