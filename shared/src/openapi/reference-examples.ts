import { resolve, type SpecDocument } from './spec-comparison.js';

/** One example of a request or success body, under the name OpenAPI's `examples` map gives it. */
export interface NamedExample {
  name: string;
  summary: string;
  value: unknown;
}

/** The examples of one operation, request bodies and success bodies paired by name. */
export interface OperationExamples {
  request?: NamedExample[];
  response?: NamedExample[];
}

/** An example of the reference found for one of our operations, not yet checked against our schemas. */
export interface ExampleCandidate extends NamedExample {
  operationId: string;
  kind: 'request' | 'response';
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/**
 * The examples OpenAI's spec gives (`x-oaiMeta.examples`: a curl request and a response text, one
 * or a titled list per operation) for each operation of ours it also has: the JSON of the curl's
 * `-d '…'` body or its `-F` form fields, and the response parsed as JSON. What cannot be read as
 * JSON (`...` elisions, event streams) is returned under `unreadable`, to be reported, not guessed at.
 */
export function referenceExamples(ours: SpecDocument, reference: SpecDocument, opts: { prefix: string }): { candidates: ExampleCandidate[]; unreadable: string[] } {
  const candidates: ExampleCandidate[] = [];
  const unreadable: string[] = [];
  for (const [path, item] of Object.entries(ours.paths)) {
    const theirItem = reference.paths[path.startsWith(opts.prefix) ? path.slice(opts.prefix.length) : path];
    for (const method of METHODS) {
      const op = item[method];
      const raw = theirItem?.[method]?.['x-oaiMeta']?.examples;
      if (!op || !raw) continue;
      const list = (Array.isArray(raw) ? raw : [raw]) as { title?: string; request?: { curl?: string }; response?: unknown }[];
      const names = new Set<string>();
      for (const example of list) {
        const summary = example.title ?? 'Example';
        let name = slug(example.title ?? 'default');
        for (let n = 2; names.has(name); n++) name = `${slug(example.title ?? 'default')}_${n}`;
        names.add(name);
        const where = `${op.operationId} '${summary}'`;
        const curl = example.request?.curl;
        if (curl && op.requestBody) {
          const value = curlBody(curl);
          if (value === undefined) unreadable.push(`${where} request: no JSON body or form fields in the curl example`);
          else candidates.push({ operationId: op.operationId, kind: 'request', name, summary, value });
        }
        if (typeof example.response === 'string') {
          const value = lenientJson(example.response);
          if (value === undefined) unreadable.push(`${where} response: not JSON (${example.response.trimStart().slice(0, 24).replace(/\s+/g, ' ')}…)`);
          else candidates.push({ operationId: op.operationId, kind: 'response', name, summary, value });
        }
      }
    }
  }
  return { candidates, unreadable };
}

/** `Text input` → `text_input`: a key of an `examples` map. */
const slug = (title: string) => title.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '') || 'default';

/** JSON, forgiving the trailing commas hand-written examples have; undefined when it is not JSON. */
export function lenientJson(text: string): unknown {
  for (const candidate of [text, text.replace(/,(\s*[}\]])/g, '$1')]) {
    try {
      return JSON.parse(candidate) as unknown;
    } catch {
      // the next, more forgiving reading
    }
  }
  return undefined;
}

/**
 * The body a curl command sends: its `-d '…'` JSON, or its `-F name=value` form fields as an object
 * (`a[b]=v` nests as `{a: {b: v}}`, numbers as numbers, `@file` as the file's name).
 */
export function curlBody(curl: string): unknown {
  const data = /(?:-d|--data(?:-raw)?) '([\s\S]*?)'\s*$/m.exec(curl);
  if (data) return lenientJson(data[1]!);
  const fields = [...curl.matchAll(/-F\s+([\w[\]]+)=("([^"]*)"|\S+)/g)];
  if (!fields.length) return undefined;
  const form: Record<string, unknown> = {};
  for (const [, key, bare, quoted] of fields) {
    const text = (quoted ?? bare!).replace(/^@/, '');
    const value = quoted === undefined && /^-?\d+$/.test(text) ? Number(text) : text;
    const nested = /^(\w+)\[(\w+)\]$/.exec(key!);
    if (nested) ((form[nested[1]!] ??= {}) as Record<string, unknown>)[nested[2]!] = value;
    else form[key!] = value;
  }
  return form;
}

/** The JSON pointer of the schema an example of `kind` must match in `doc` (undefined when it has none). */
export function examplePointer(doc: SpecDocument, operationId: string, kind: 'request' | 'response'): string | undefined {
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op?.operationId !== operationId) continue;
      const base = `#/paths/${escape(path)}/${method}`;
      if (kind === 'request') {
        const media = mediaOf(op.requestBody?.content);
        return media ? `${base}/requestBody/content/${escape(media)}/schema` : undefined;
      }
      const status = Object.keys(op.responses ?? {}).find((s) => /^2\d\d$/.test(s));
      const answer = status ? resolve(doc, op.responses[status]) : undefined;
      return status && answer?.content?.['application/json']?.schema ? `${base}/responses/${status}/content/application~1json/schema` : undefined;
    }
  }
  return undefined;
}

/**
 * Puts each operation's examples on its request body and success body media types (OpenAPI's
 * `examples` maps), replacing any there: the same examples always give the same document.
 */
export function applyExamples<D extends SpecDocument>(doc: D, examples: Readonly<Record<string, OperationExamples>>): D {
  for (const item of Object.values(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const own = examples[op.operationId] ?? {};
      const requestMedia = mediaOf(op.requestBody?.content);
      if (requestMedia) setExamples(op.requestBody.content[requestMedia], own.request);
      const status = Object.keys(op.responses ?? {}).find((s) => /^2\d\d$/.test(s));
      const json = status ? op.responses[status].content?.['application/json'] : undefined;
      if (json) setExamples(json, own.response);
    }
  }
  return doc;
}

function setExamples(media: Record<string, unknown>, list: NamedExample[] | undefined): void {
  if (!list?.length) delete media.examples;
  else media.examples = Object.fromEntries(list.map((e) => [e.name, { summary: e.summary, value: e.value }]));
}

function mediaOf(content: Record<string, unknown> | undefined): string | undefined {
  if (!content) return undefined;
  return ['application/json', 'multipart/form-data'].find((m) => m in content);
}

const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
