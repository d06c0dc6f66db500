#!/usr/bin/env node
// Turns schemas/*.schema.json, the single description of config.json, state
// and features, into what the runtime uses:
//   src/spec/generated/validate-<name>.js   ajv standalone validator (ESM)
//   src/spec/generated/validate-<name>.d.ts its types
//   src/spec/generated/<name>.ts            TypeScript types (json-schema-to-typescript)
//   src/spec/generated/nulls-<name>.ts      where a JSON null means "absent" (see nullShapes)
// Validators are compiled here, at build time, so that `hako create` does not
// load ajv or compile a schema on every run (see DESIGN.md, "Startup path is lean").
// Schema conventions: a definition with a `title` becomes a named TypeScript
// type of that name; one without (uint32, AbsolutePath, ...) is inlined.
// Cross-file references (`config.schema.json#/definitions/X`) are copied in.
import { readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import ucs2lengthModule from 'ajv/dist/runtime/ucs2length.js';
import { compile as jsonToTs } from 'json-schema-to-typescript';
import { transformSync } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const schemaDir = join(root, 'schemas');
const outDir = join(root, 'src/spec/generated');

// name -> the root type, and extra validators for fragments that the CLI
// reads as documents of their own (`exec --process`, `update -r`).
const TARGETS = [
  { name: 'config', type: 'Spec', fragments: { validateProcess: 'Process', validateLinuxResources: 'LinuxResources' }, nulls: true },
  { name: 'state', type: 'State', fragments: {} },
  { name: 'features', type: 'Features', fragments: {} },
];

const files = new Map();
for (const { name } of TARGETS) {
  const file = `${name}.schema.json`;
  files.set(file, JSON.parse(readFileSync(join(schemaDir, file), 'utf8')));
}

const clone = (x) => structuredClone(x);
const isObj = (x) => x !== null && typeof x === 'object';

// Visit every object in a schema (including arrays' elements), depth first.
function walk(node, fn) {
  if (Array.isArray(node)) node.forEach((n) => walk(n, fn));
  else if (isObj(node)) {
    fn(node);
    for (const v of Object.values(node)) walk(v, fn);
  }
}

// Copies definitions referenced from another file into this schema, so each
// schema handed to ajv and json-schema-to-typescript is self-contained: no
// resolver, no network, and one type name per definition in each output.
function bundle(file) {
  const schema = clone(files.get(file));
  schema.definitions ??= {};
  const pending = [schema];
  while (pending.length) {
    walk(pending.pop(), (node) => {
      if (typeof node.$ref !== 'string' || node.$ref.startsWith('#')) return;
      const m = /^([\w.-]+\.schema\.json)#\/definitions\/([\w]+)$/.exec(node.$ref);
      if (!m || !files.has(m[1])) throw new Error(`${file}: unsupported $ref ${node.$ref}`);
      const [, other, def] = m;
      const copied = clone(files.get(other).definitions?.[def]);
      if (copied === undefined) throw new Error(`${file}: ${node.$ref} does not exist`);
      // The copy's own local refs point into the other file.
      walk(copied, (n) => {
        if (typeof n.$ref === 'string' && n.$ref.startsWith('#/')) n.$ref = other + n.$ref;
      });
      const have = schema.definitions[def];
      if (have !== undefined && JSON.stringify(have) !== JSON.stringify(copied)) throw new Error(`${file}: definition ${def} clashes with ${node.$ref}`);
      if (have === undefined) {
        schema.definitions[def] = copied;
        pending.push(copied);
      }
      node.$ref = `#/definitions/${def}`;
    });
  }
  return schema;
}

// For the types only: a definition without a title is a shorthand (uint32,
// AbsolutePath, a list of strings), not a concept; inline it so the types
// read `number` and `string[]` instead of `Uint32` and `Strings`.
function inlineUntitled(schema) {
  const s = clone(schema);
  const defs = s.definitions ?? {};
  const resolve = (node, seen) => {
    walk(node, (n) => {
      if (typeof n.$ref !== 'string') return;
      const name = n.$ref.replace('#/definitions/', '');
      const def = defs[name];
      if (def === undefined || def.title !== undefined) return;
      if (seen.has(name)) throw new Error(`recursive untitled definition ${name}`);
      const body = clone(def);
      // The shorthand's own note (e.g. on uint64 precision) would be repeated
      // on every field that uses it.
      delete body.description;
      resolve(body, new Set([...seen, name]));
      delete n.$ref;
      for (const [k, v] of Object.entries(body)) if (!(k in n)) n[k] = v;
    });
  };
  for (const [k, v] of Object.entries(s)) if (k !== 'definitions') resolve(v, new Set());
  for (const [name, def] of Object.entries(defs)) if (def.title !== undefined) resolve(def, new Set([name]));
  for (const [name, def] of Object.entries(defs)) if (def.title === undefined) delete defs[name];
  return s;
}

// Documentation keywords only make the embedded schema constants bigger.
function stripDocs(schema) {
  const s = clone(schema);
  walk(s, (n) => {
    for (const k of ['title', 'description', '$comment']) if (typeof n[k] === 'string') delete n[k];
  });
  return s;
}

// Go programs (podman, containerd, CRI-O, Docker) marshal nil slices, maps
// and pointers as null ("args": null in seccomp rules, "devices": null...),
// and runc reads null as absent. The schemas stay strict; instead, this
// derives from them, per object schema, which properties a null may drop
// (the optional ones) and which must not be null (the unconditionally
// required ones), plus where to look further down. src/spec/nulls.ts walks
// a document along it before validation. Leaves with nothing to say are
// left out, so the table stays small.
function nullShapes(schema) {
  const defs = {};
  const pending = new Set();
  const shape = (s) => {
    if (!isObj(s)) return undefined;
    if (typeof s.$ref === 'string') {
      const name = s.$ref.replace('#/definitions/', '');
      if (!(name in defs)) {
        if (pending.has(name)) throw new Error(`recursive definition ${name}: nullShapes cannot handle it`);
        pending.add(name);
        defs[name] = shape(schema.definitions[name]);
        pending.delete(name);
      }
      return defs[name] === undefined ? undefined : { ref: name };
    }
    const n = {};
    if (isObj(s.properties)) {
      const required = new Set(s.required ?? []);
      const names = Object.keys(s.properties);
      const optional = names.filter((k) => !required.has(k));
      const req = names.filter((k) => required.has(k));
      if (optional.length) n.optional = optional;
      if (req.length) n.required = req;
      const props = {};
      for (const k of names) {
        const c = shape(s.properties[k]);
        if (c !== undefined) props[k] = c;
      }
      if (Object.keys(props).length) n.props = props;
    }
    const items = shape(s.items);
    if (items !== undefined) n.items = items;
    const values = shape(s.additionalProperties);
    if (values !== undefined) n.values = values;
    return Object.keys(n).length ? n : undefined;
  };
  const root = shape(schema);
  return { root, defs: Object.fromEntries(Object.entries(defs).filter(([, v]) => v !== undefined)) };
}

function newAjv() {
  return new Ajv({
    strict: true,
    // `required` inside if/then names properties that the enclosing schema
    // declares; strictRequired only looks at the subschema itself.
    strictRequired: false,
    allErrors: false,
    // features.md allows null for every optional member: ["array", "null"].
    allowUnionTypes: true,
    // One function per definition instead of inlining each use: a third smaller,
    // and the fragment validators (Process, LinuxResources) share the code.
    inlineRefs: false,
    code: { source: true, esm: true, optimize: true },
  });
}

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const banner = (name) => `generated by scripts/build-schemas.mjs from schemas/${name}.schema.json; do not edit`;

for (const { name, type, fragments, nulls } of TARGETS) {
  const file = `${name}.schema.json`;
  const schema = bundle(file);
  const ajv = newAjv();
  ajv.addSchema(stripDocs(schema), file);

  const exportsMap = { [`validate${type}`]: file };
  for (const [fn, def] of Object.entries(fragments)) exportsMap[fn] = `${file}#/definitions/${def}`;
  let js = standaloneCode(ajv, exportsMap);
  // minLength counts code points with a helper that standalone code would
  // require() from ajv; inline it, since the runtime uses node: built-ins only.
  const ucs2length = ucs2lengthModule.default;
  js = js.replaceAll(ucs2length.code, `(${ucs2length.toString()})`);
  // Anything else that is not self-contained fails the build.
  const req = /require\(([^)]*)\)/.exec(js);
  if (req) throw new Error(`${file}: standalone validator requires ${req[1]} at run time; avoid the keyword that needs it`);
  // ajv emits every schema object it visited as a constant; most are unused.
  // esbuild drops those and prints the rest readably.
  js = transformSync(js, { format: 'esm', treeShaking: true, target: 'node20' }).code;
  writeFileSync(join(outDir, `validate-${name}.js`), `// ${banner(name)}\n${js}`);

  const types = [type, ...Object.values(fragments)];
  let dts = `// ${banner(name)}\n`;
  dts += `import type { SchemaValidator } from '../spec-error.js';\n`;
  dts += `import type { ${types.join(', ')} } from './${name}.js';\n\n`;
  dts += `export declare const validate${type}: SchemaValidator<${type}>;\n`;
  for (const [fn, def] of Object.entries(fragments)) dts += `export declare const ${fn}: SchemaValidator<${def}>;\n`;
  writeFileSync(join(outDir, `validate-${name}.d.ts`), dts);

  const ts = await jsonToTs(inlineUntitled(schema), type, {
    bannerComment: `// ${banner(name)}`,
    // Validation admits unknown members (the spec's extensibility rule), but
    // the types list only known ones, so a typo in our code is a compile error.
    additionalProperties: false,
    // args has minItems 1; a tuple type would only get in the way of callers.
    ignoreMinAndMaxItems: true,
    strictIndexSignatures: true,
    unreachableDefinitions: false,
    declareExternallyReferenced: true,
    cwd: schemaDir,
    format: true,
  });
  writeFileSync(join(outDir, `${name}.ts`), ts);

  if (nulls) {
    const { root, defs } = nullShapes(schema);
    let out = `// ${banner(name)}\n`;
    out += `import type { NullShape } from '../nulls.js';\n\n`;
    out += `export const ROOT: NullShape | undefined = ${JSON.stringify(root)};\n`;
    out += `export const DEFS: Readonly<Record<string, NullShape>> = ${JSON.stringify(defs)};\n`;
    writeFileSync(join(outDir, `nulls-${name}.ts`), out);
  }
}
