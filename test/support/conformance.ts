import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { resolve as resolveRef, type SpecDocument } from '@rgw/shared';

/** One request a test made and the answer it got (an event stream split into its events' data). */
export interface Exchange {
  method: string;
  path: string;
  status: number;
  contentType: string;
  body: string;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

export const OURS = loadJson('../../docs/openapi.json');
export const OPENAI = loadJson('../reference/openai-openapi.json');
export const OGX = loadJson('../reference/ogx-openapi.json');

function loadJson(relative: string): SpecDocument {
  return JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as SpecDocument;
}

/**
 * A fetch for the SDKs that keeps a copy of every answer: the suite then checks each body (and each
 * server-sent event) the real server gave against the reference specs, whatever call produced it.
 */
export function recordingFetch(into: Promise<Exchange>[]): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    const request = input instanceof Request ? input : undefined;
    const method = (init?.method ?? request?.method ?? 'GET').toLowerCase();
    const copy = res.clone();
    into.push(copy.text().then((body) => ({ method, path: new URL(res.url).pathname, status: res.status, contentType: res.headers.get('content-type') ?? '', body })));
    return res;
  };
}

/** A spec's schemas compiled with ajv (draft 2020-12, as OpenAPI 3.1 uses), by JSON pointer. */
export class SpecValidator {
  private readonly ajv: Ajv2020;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(
    readonly name: string,
    readonly spec: SpecDocument,
    /** Added to the front of the spec's paths to give ours (OpenAI's are relative to its /v1 server). */
    readonly prefix: string,
  ) {
    // strict off: the specs carry keywords of their own (x-oaiMeta, discriminator, x-stainless-*).
    this.ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
    addFormats(this.ajv);
    this.ajv.addFormat('binary', true);
    this.ajv.addSchema(withoutNullable(structuredClone(spec)) as object, name);
  }

  /** The template path of the spec that `path` (one of ours, concrete) falls under. */
  templateOf(path: string): string | undefined {
    if (!path.startsWith(this.prefix)) return undefined;
    const rest = path.slice(this.prefix.length);
    return Object.keys(this.spec.paths).find((t) => new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(rest));
  }

  /** The JSON pointer of the schema of an answer, or undefined when the spec does not describe it. */
  pointer(method: string, template: string, status: number, media: 'application/json' | 'text/event-stream'): string | undefined {
    const op = this.spec.paths[template]?.[method];
    if (!op) return undefined;
    const responses = op.responses ?? {};
    const key = String(status) in responses ? String(status) : `${String(status)[0]}XX` in responses ? `${String(status)[0]}XX` : undefined;
    if (!key) return undefined;
    let answer = responses[key];
    let base = `#/paths/${escape(template)}/${method}/responses/${key}`;
    if (answer.$ref) {
      base = answer.$ref;
      answer = resolveRef(this.spec, answer);
    }
    const content = answer.content?.[media];
    if (!content) return undefined;
    if (content['x-event-schema']) return `${base}/content/${escape(media)}/x-event-schema`;
    return content.schema ? `${base}/content/${escape(media)}/schema` : undefined;
  }

  /** Every ajv error of `value` against the schema at `pointer`, one line each. */
  errors(pointer: string, value: unknown): string[] {
    let validate = this.compiled.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `${this.name}${pointer}` });
      this.compiled.set(pointer, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'allowedValues' in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ''}`);
  }
}

const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** The `data` of each event of a server-sent event stream, parsed ([DONE] left out). */
export function sseData(body: string): unknown[] {
  return body
    .split(/\r?\n\r?\n/)
    .map((block) => block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n'))
    .filter((data) => data && data !== '[DONE]')
    .map((data) => JSON.parse(data) as unknown);
}

/**
 * For a union keyed by `type` (OpenAI's ResponseStreamEvent, output items), the pointer of the one
 * branch for this value's type: its errors say what is wrong instead of why every other branch fails.
 */
export function branchPointer(spec: SpecDocument, pointer: string, value: unknown): string {
  const type = (value as { type?: unknown } | null)?.type;
  const schema = resolveRef(spec, { $ref: pointer });
  const branches = (schema.anyOf ?? schema.oneOf) as { $ref?: string }[] | undefined;
  if (typeof type !== 'string' || !branches) return pointer;
  for (const branch of branches) {
    if (!branch.$ref) continue;
    const t = resolveRef(spec, branch).properties?.type;
    if (t?.const === type || (Array.isArray(t?.enum) && t.enum.includes(type))) return branch.$ref;
  }
  return pointer;
}

/** OpenAPI 3.0's `nullable`, which OpenAI's 3.1 spec still uses in places, in JSON Schema's words. */
function withoutNullable(node: any): any {
  if (Array.isArray(node)) return node.map(withoutNullable);
  if (!node || typeof node !== 'object') return node;
  const out: any = {};
  for (const [k, v] of Object.entries(node)) if (k !== 'nullable') out[k] = withoutNullable(v);
  if (node.nullable !== true) return out;
  if (typeof out.type === 'string') return { ...out, type: [out.type, 'null'], ...(out.enum ? { enum: [...out.enum, null] } : {}) };
  return { anyOf: [out, { type: 'null' }] };
}
