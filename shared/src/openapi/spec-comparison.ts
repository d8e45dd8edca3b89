import type { JsonSchema } from './json-schema.js';

/** An OpenAPI document as far as the comparison reads it. */
export interface SpecDocument {
  paths: Record<string, Record<string, any>>;
  components?: Record<string, Record<string, any>>;
}

/** One thing a client of the reference API may rely on, and whether our description has it. */
export interface SpecCheck {
  api: string;
  operationId: string;
  /** Stable name of the check, e.g. `createResponse: body property 'model'`. */
  id: string;
  ok: boolean;
}

export interface ApiScore {
  api: string;
  passed: number;
  total: number;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * Compares our document with a reference one (OpenAI's) on the paths and methods both have, the
 * way Llama Stack scores its conformance: every parameter of theirs we take (and its enum values),
 * every body property and required field of theirs, every enum value of a body property, and every
 * property of their success body. `prefix` maps our paths to theirs (`/v1` is their server URL).
 */
export function compareSpecs(ours: SpecDocument, theirs: SpecDocument, opts: { prefix: string }): SpecCheck[] {
  const checks: SpecCheck[] = [];
  for (const [path, item] of Object.entries(ours.paths)) {
    const theirItem = theirs.paths[path.startsWith(opts.prefix) ? path.slice(opts.prefix.length) : path];
    if (!theirItem) continue;
    for (const method of METHODS) {
      const op = item[method];
      const theirOp = theirItem[method];
      if (!op || !theirOp) continue;
      const add = (what: string, ok: boolean) => checks.push({ api: op.tags?.[0] ?? 'untagged', operationId: op.operationId, id: `${op.operationId}: ${what}`, ok });
      compareParameters(ours, theirs, op, theirOp, add);
      compareBodies(ours, theirs, op, theirOp, add);
      compareResponses(ours, theirs, op, theirOp, add);
    }
  }
  return checks;
}

/**
 * The request body fields of ours that the reference's schema of the same operation does not have
 * (the other way round from the score): what the description must mark as extensions.
 */
export function fieldsNotInReference(ours: SpecDocument, theirs: SpecDocument, opts: { prefix: string }): { operationId: string; field: string }[] {
  const out: { operationId: string; field: string }[] = [];
  for (const [path, item] of Object.entries(ours.paths)) {
    const theirItem = theirs.paths[path.startsWith(opts.prefix) ? path.slice(opts.prefix.length) : path];
    for (const method of METHODS) {
      const op = item[method];
      const theirOp = theirItem?.[method];
      const mine = op && theirOp ? bodySchema(ours, op) : undefined;
      if (!mine) continue;
      const known = flatten(theirs, bodySchema(theirs, theirOp) ?? {}).properties;
      for (const field of Object.keys(flatten(ours, mine).properties)) if (!(field in known)) out.push({ operationId: op.operationId, field });
    }
  }
  return out;
}

/** Per API (tag) and in total, in the order the APIs first appear. */
export function scoreChecks(checks: readonly SpecCheck[]): { apis: ApiScore[]; total: ApiScore } {
  const apis = new Map<string, ApiScore>();
  for (const c of checks) {
    const s = apis.get(c.api) ?? { api: c.api, passed: 0, total: 0 };
    s.total++;
    if (c.ok) s.passed++;
    apis.set(c.api, s);
  }
  const total = { api: 'total', passed: checks.filter((c) => c.ok).length, total: checks.length };
  return { apis: [...apis.values()], total };
}

export const percent = (s: ApiScore) => (s.total ? (100 * s.passed) / s.total : 100).toFixed(1);

type Add = (what: string, ok: boolean) => void;

function compareParameters(ours: SpecDocument, theirs: SpecDocument, op: any, theirOp: any, add: Add): void {
  const mine = new Map<string, any>(((op.parameters ?? []) as any[]).map((p) => resolve(ours, p)).map((p) => [`${p.in} ${p.name}`, p]));
  for (const raw of (theirOp.parameters ?? []) as any[]) {
    const p = resolve(theirs, raw);
    const key = `${p.in} ${p.name}`;
    const own = mine.get(key);
    add(`parameter ${key}`, !!own);
    const values = enumOf(theirs, p.schema);
    if (own && values) {
      const have = new Set(enumOf(ours, own.schema) ?? []);
      // Our parameter takes any text: it accepts every value of theirs.
      const open = !enumOf(ours, own.schema);
      for (const v of values) add(`parameter ${key} value ${JSON.stringify(v)}`, open || have.has(v));
    }
  }
}

function compareBodies(ours: SpecDocument, theirs: SpecDocument, op: any, theirOp: any, add: Add): void {
  const theirBody = bodySchema(theirs, theirOp);
  if (!theirBody) return;
  const mine = flatten(ours, bodySchema(ours, op) ?? {});
  const theirsFlat = flatten(theirs, theirBody);
  for (const [name, schema] of Object.entries(theirsFlat.properties)) {
    const own = mine.properties[name];
    add(`body property '${name}'`, !!own);
    const values = enumOf(theirs, schema);
    if (own && values) {
      const mineValues = enumOf(ours, own);
      for (const v of values) add(`body property '${name}' value ${JSON.stringify(v)}`, !mineValues || mineValues.includes(v));
    }
  }
  for (const name of theirsFlat.required) add(`body property '${name}' required`, mine.required.has(name));
  // A field we require that they do not would break clients that leave it out.
  for (const name of mine.required) if (name in theirsFlat.properties) add(`body property '${name}' optional as in the reference`, theirsFlat.required.has(name));
}

function compareResponses(ours: SpecDocument, theirs: SpecDocument, op: any, theirOp: any, add: Add): void {
  const theirSchema = successSchema(theirs, theirOp);
  if (!theirSchema) return;
  const mine = flatten(ours, successSchema(ours, op) ?? {});
  for (const name of Object.keys(flatten(theirs, theirSchema).properties)) add(`response property '${name}'`, name in mine.properties);
}

function bodySchema(doc: SpecDocument, op: any): JsonSchema | undefined {
  const content = resolve(doc, op.requestBody ?? {}).content ?? {};
  return content['application/json']?.schema ?? content['multipart/form-data']?.schema;
}

function successSchema(doc: SpecDocument, op: any): JsonSchema | undefined {
  const status = Object.keys(op.responses ?? {}).find((s) => /^2\d\d$/.test(s));
  if (!status) return undefined;
  return resolve(doc, op.responses[status]).content?.['application/json']?.schema;
}

/** Follows local `$ref`s (`#/components/...`). */
export function resolve(doc: SpecDocument, node: any): any {
  let current = node;
  for (let hops = 0; current && typeof current.$ref === 'string' && hops < 32; hops++) {
    const parts = (current.$ref as string).replace(/^#\//, '').split('/');
    current = parts.reduce((at: any, key) => at?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return current ?? {};
}

/** The properties and required names of an object schema, through `allOf` (and a nullable `anyOf`). */
function flatten(doc: SpecDocument, node: any, depth = 0): { properties: Record<string, any>; required: Set<string> } {
  const schema = resolve(doc, node);
  const out = { properties: { ...(schema.properties ?? {}) } as Record<string, any>, required: new Set<string>(schema.required ?? []) };
  if (depth > 8) return out;
  for (const part of schema.allOf ?? []) {
    const sub = flatten(doc, part, depth + 1);
    Object.assign(out.properties, sub.properties);
    for (const r of sub.required) out.required.add(r);
  }
  if (!schema.properties && !schema.allOf && (schema.anyOf || schema.oneOf)) {
    const objects = ((schema.anyOf ?? schema.oneOf) as any[]).map((s) => resolve(doc, s)).filter((s) => s.type !== 'null');
    if (objects.length === 1) return flatten(doc, objects[0], depth + 1);
  }
  return out;
}

/** The allowed values of a schema when it is an enum (through refs, `const`, nullable and list-of-enum forms). */
function enumOf(doc: SpecDocument, node: any, depth = 0): unknown[] | undefined {
  const schema = resolve(doc, node);
  if (!schema || depth > 6) return undefined;
  if (Array.isArray(schema.enum)) return schema.enum.filter((v: unknown) => v !== null);
  if (schema.type === 'array' && schema.items) return enumOf(doc, schema.items, depth + 1);
  const alternatives = (schema.anyOf ?? schema.oneOf) as any[] | undefined;
  if (alternatives) {
    const values = alternatives.filter((s) => resolve(doc, s).type !== 'null').map((s) => enumOf(doc, s, depth + 1));
    // Open when any alternative takes free text.
    if (values.some((v) => !v)) return undefined;
    return [...new Set(values.flat())];
  }
  return undefined;
}
