import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

/** Shared sub-schemas (`$defs` of recursive schemas), to be kept under components.schemas. */
export type SchemaComponents = Record<string, JsonSchema>;

/**
 * One zod schema as OpenAPI 3.1 JSON Schema (draft 2020-12). `input` describes what a request may
 * send (defaults optional, the input side of transforms), `output` what an answer holds. Parts JSON
 * Schema cannot say (custom refinements, transforms) become `{}` rather than failing the document.
 * A recursive schema's definitions go to `components` under `name` (a `#` reference would mean the
 * whole document once the schema is embedded in it).
 */
export function toJsonSchema(schema: z.ZodType, io: 'input' | 'output', name = 'Schema', components?: SchemaComponents): JsonSchema {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any', cycles: 'ref', reused: 'inline' }) as JsonSchema;
  delete out.$schema;
  const defs = out.$defs as Record<string, JsonSchema> | undefined;
  const text = JSON.stringify(out);
  if (!defs && !text.includes('"$ref":"#"')) return out;
  if (!components) throw new Error(`schema ${name} is recursive: pass components to keep its definitions in`);
  delete out.$defs;
  const target = (ref: string) => (ref === '#' ? `#/components/schemas/${name}` : `#/components/schemas/${name}_${ref.slice("#/$defs/".length).replace(/^_+/, "")}`);
  const repoint = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(repoint);
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#') ? target(v) : repoint(v)]));
    }
    return node;
  };
  for (const [key, def] of Object.entries(defs ?? {})) components[`${name}_${key.replace(/^_+/, "")}`] = repoint(def) as JsonSchema;
  const root = repoint(out) as JsonSchema;
  if (!text.includes('"$ref":"#"')) return root;
  components[name] = root;
  return { $ref: `#/components/schemas/${name}` };
}

/** The properties of an object schema, each with whether it is required (for path and query parameters). */
export function objectProperties(schema: z.ZodType): { name: string; schema: JsonSchema; required: boolean }[] {
  const json = toJsonSchema(schema, 'input');
  const props = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({ name, schema: s, required: required.has(name) }));
}
