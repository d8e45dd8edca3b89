/**
 * Hostile requests for the fuzz suite (test/integration/fuzz.test.ts), generated from a seeded PRNG
 * so that a failing case can be reproduced from its seed and index alone.
 */
import { TEST_KEY } from './auth.js';

export type Rng = () => number;

/** mulberry32: small, fast, and good enough to pick test inputs. */
export function prng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: Rng, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rng, list: readonly T[]): T => list[int(r, list.length)]!;

/** Real resources to aim at, created by the suite before it starts. */
export interface FuzzIds {
  conv: string;
  item: string;
  prompt: string;
  resp: string;
  file: string;
  upload: string;
  vs: string;
}

export interface FuzzCase {
  index: number;
  /** The class of hostility, for the report. */
  kind: string;
  /** The route template it aims at, e.g. `GET /v1/conversations/{conv}`. */
  route: string;
  method: string;
  /** Path and query as sent (already encoded, possibly on purpose badly). */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Sent as is over a raw socket instead (lying lengths, bytes fetch would refuse to send). */
  raw?: Buffer;
  /** Short description of the input, for the report. */
  note: string;
}

interface RouteSpec {
  method: string;
  path: string;
  body?: () => unknown;
  query?: Record<string, string>;
  /** Never aimed at the real resource (it would delete what the other cases aim at). */
  destructive?: boolean;
}

/** Every route of every service, with a valid body to mutate where it takes one. */
export const ROUTES: readonly RouteSpec[] = [
  { method: 'GET', path: '/health' },
  { method: 'GET', path: '/v1/models' },
  { method: 'GET', path: '/v1/models/{model}' },
  { method: 'POST', path: '/v1/chat/completions', body: () => ({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }], stream: false }) },
  { method: 'POST', path: '/v1/embeddings', body: () => ({ model: 'mock-embed', input: ['hi', 'there'], encoding_format: 'float' }) },
  { method: 'POST', path: '/v1/responses', body: () => ({ model: 'mock-model', input: [{ role: 'user', content: 'hi' }], store: false, metadata: { a: 'b' } }) },
  { method: 'POST', path: '/v1/responses/input_tokens', body: () => ({ model: 'mock-model', input: 'hi' }) },
  { method: 'GET', path: '/v1/responses', query: { limit: '2', order: 'asc' } },
  { method: 'GET', path: '/v1/responses/{resp}' },
  { method: 'DELETE', path: '/v1/responses/{resp}', destructive: true },
  { method: 'GET', path: '/v1/responses/{resp}/input_items', query: { limit: '2' } },
  { method: 'POST', path: '/v1/responses/{resp}/cancel', destructive: true },
  { method: 'POST', path: '/v1/conversations', body: () => ({ metadata: { a: 'b' }, items: [{ type: 'message', role: 'user', content: 'hi' }] }) },
  { method: 'GET', path: '/v1/conversations', query: { limit: '2' } },
  { method: 'GET', path: '/v1/conversations/{conv}' },
  { method: 'POST', path: '/v1/conversations/{conv}', body: () => ({ metadata: { x: 'y' } }) },
  { method: 'DELETE', path: '/v1/conversations/{conv}', destructive: true },
  { method: 'POST', path: '/v1/conversations/{conv}/items', body: () => ({ items: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }] }) },
  { method: 'GET', path: '/v1/conversations/{conv}/items', query: { limit: '2', order: 'asc' } },
  { method: 'GET', path: '/v1/conversations/{conv}/items/{item}' },
  { method: 'DELETE', path: '/v1/conversations/{conv}/items/{item}', destructive: true },
  { method: 'POST', path: '/v1/prompts', body: () => ({ prompt: 'Hi {{name}}', variables: ['name'] }) },
  { method: 'GET', path: '/v1/prompts' },
  { method: 'GET', path: '/v1/prompts/{prompt}', query: { version: '1' } },
  { method: 'PUT', path: '/v1/prompts/{prompt}', body: () => ({ prompt: 'Hi {{name}}', version: 1, variables: ['name'] }) },
  { method: 'DELETE', path: '/v1/prompts/{prompt}', destructive: true },
  { method: 'PUT', path: '/v1/prompts/{prompt}/set-default-version', body: () => ({ version: 1 }) },
  { method: 'GET', path: '/v1/prompts/{prompt}/versions' },
  { method: 'GET', path: '/v1/files', query: { limit: '2', order: 'asc' } },
  { method: 'GET', path: '/v1/files/{file}' },
  { method: 'GET', path: '/v1/files/{file}/content' },
  { method: 'DELETE', path: '/v1/files/{file}', destructive: true },
  { method: 'POST', path: '/v1/uploads', body: () => ({ filename: 'a.txt', purpose: 'assistants', bytes: 10, mime_type: 'text/plain' }) },
  { method: 'POST', path: '/v1/uploads/{upload}/complete', body: () => ({ part_ids: ['part_x'] }), destructive: true },
  { method: 'POST', path: '/v1/uploads/{upload}/cancel', destructive: true },
  { method: 'POST', path: '/v1/vector_stores', body: () => ({ name: 'fuzz', metadata: { a: 'b' }, chunking_strategy: { type: 'auto' }, expires_after: { anchor: 'last_active_at', days: 2 } }) },
  { method: 'GET', path: '/v1/vector_stores', query: { limit: '2', order: 'asc' } },
  { method: 'GET', path: '/v1/vector_stores/{vs}' },
  { method: 'POST', path: '/v1/vector_stores/{vs}', body: () => ({ name: 'renamed', metadata: { x: 'y' } }) },
  { method: 'DELETE', path: '/v1/vector_stores/{vs}', destructive: true },
  {
    method: 'POST',
    path: '/v1/vector_stores/{vs}/search',
    body: () => ({ query: 'hello', max_num_results: 3, filters: { type: 'and', filters: [{ type: 'eq', key: 'a', value: 'b' }, { type: 'in', key: 'n', value: [1, 2] }] }, search_mode: 'keyword' }),
  },
  { method: 'POST', path: '/v1/vector_stores/{vs}/files', body: () => ({ file_id: 'file-fuzz', attributes: { a: 'b', n: 1 } }) },
  { method: 'GET', path: '/v1/vector_stores/{vs}/files', query: { limit: '2', filter: 'completed' } },
  { method: 'POST', path: '/v1/vector_stores/{vs}/file_batches', body: () => ({ file_ids: ['file-fuzz'], chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 50 } } }) },
  { method: 'POST', path: '/v1/vector-io/query', body: () => ({ vector_store_id: 'vs_fuzz', query: 'hello', params: { max_chunks: 3 } }) },
];

/** The largest string a case carries: well within the suite's BODY_LIMIT of 2 MB. */
const HUGE = 1024 * 1024;

const STRINGS = [
  '',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83d',
  '\u202eevil\u202c',
  '😀👩‍👩‍👧‍👦',
  '\uFEFF',
  '\uFFFF',
  '..',
  '../..',
  '%00',
  '%2F',
  '/',
  '\\',
  "' OR 1=1 --",
  '{{name}}',
  '<script>alert(1)</script>',
  'null',
  '\r\n\r\n',
  ' ',
  'ÿ',
  'conv_',
  'resp_' + 'g'.repeat(48),
];

function randomUnicode(r: Rng, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const range = int(r, 4);
    const code = range === 0 ? int(r, 0x80) : range === 1 ? 0xd800 + int(r, 0x800) : range === 2 ? 0x590 + int(r, 0x200) : int(r, 0x10000);
    out += String.fromCharCode(code);
  }
  return out;
}

export function hostileString(r: Rng): string {
  const roll = r();
  if (roll < 0.02) return pick(r, ['x', '😀', '\u0000', 'é']).repeat(HUGE / 4 + int(r, HUGE / 4));
  if (roll < 0.1) return 'y'.repeat(1000 + int(r, 20_000));
  if (roll < 0.4) return randomUnicode(r, 1 + int(r, 40));
  return pick(r, STRINGS);
}

const NUMBERS = [0, -1, 1, 1.5, -0.5, 1e308, -1e308, 2 ** 53 + 2, 5e-324, 2147483648, 129, 2049];

function nested(depth: number, leaf: unknown, asArray: boolean): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
}

export function hostileValue(r: Rng, depth = 0): unknown {
  const roll = int(r, 12);
  if (depth > 3) return pick(r, [null, 1, 'x', true]);
  switch (roll) {
    case 0:
    case 1:
    case 2:
      return hostileString(r);
    case 3:
      return pick(r, NUMBERS);
    case 4:
      return pick(r, [true, false, null]);
    case 5:
      return [];
    case 6:
      return {};
    case 7:
      return Array.from({ length: 1 + int(r, 4) }, () => hostileValue(r, depth + 1));
    case 8:
      return Object.fromEntries(Array.from({ length: 1 + int(r, 3) }, () => [hostileString(r).slice(0, 2000), hostileValue(r, depth + 1)]));
    case 9:
      // Around the depth cap of 64: some under, some over.
      return nested(20 + int(r, 80), 'deep', r() < 0.5);
    case 10:
      return { type: pick(r, ['message', 'input_text', 'function_call', 'nope', '']), role: pick(r, ['user', 'system', 'x']), content: hostileValue(r, depth + 1) };
    default:
      return Array.from({ length: int(r, 3000) }, () => 'x');
  }
}

/** A random place inside a JSON value (a key path), for mutation. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...prefix, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], root);
  parent[path[path.length - 1]!] = value;
  return root;
}

const CLIMBING_IDS = ['.', '..', '../..', 'a/b', '%2F', '%00', '\u0000', 'x\u0000', '?x=1', '#x', ' '];

const AIMED: Record<string, unknown[]> = {
  prompt: [...CLIMBING_IDS.map((id) => ({ id })), { id: `pmpt_${'0'.repeat(48)}`, version: '..' }, { id: `pmpt_${'0'.repeat(48)}`, variables: { ['\u0000']: 1 } }],
  conversation: [...CLIMBING_IDS, ...CLIMBING_IDS.map((id) => ({ id }))],
  previous_response_id: CLIMBING_IDS,
  items: [[{ type: 'item_reference', id: '..' }], [{ type: 'message', role: 'user', content: [{ type: 'input_image', file_id: '../x' }] }]],
};

function mutateBody(r: Rng, template: unknown): { body: unknown; note: string } {
  const all = paths(template);
  const roll = int(r, 5);
  if (roll === 0) return { body: hostileValue(r), note: 'body replaced by a hostile value' };
  if (roll === 1) {
    const path = pick(r, all.slice(1).length ? all.slice(1) : all);
    const parent = path.slice(0, -1).reduce<any>((node, key) => node[key], template);
    if (parent && typeof parent === 'object' && path.length > 0) {
      if (Array.isArray(parent)) parent.splice(path[path.length - 1] as number, 1);
      else delete parent[path[path.length - 1] as string];
    }
    return { body: template, note: `removed ${path.join('.')}` };
  }
  if (roll === 2 && template && typeof template === 'object' && !Array.isArray(template)) {
    const key = pick(r, ['stream', 'background', 'previous_response_id', 'conversation', 'prompt', 'tools', 'tool_choice', 'include', 'unknown_field', 'dimensions', 'n', 'max_output_tokens', 'text', 'reasoning', 'instructions', 'metadata', 'items']);
    // Half the time a value aimed at what the key names (ids that climb out of a URL path).
    const aimed = AIMED[key];
    (template as Record<string, unknown>)[key] = aimed && r() < 0.5 ? pick(r, aimed) : hostileValue(r);
    return { body: template, note: `set ${key}` };
  }
  const path = pick(r, all);
  return { body: setAt(template, path, hostileValue(r)), note: `replaced ${path.join('.') || '(root)'}` };
}

function malformedJson(r: Rng, text: string): { body: string | Uint8Array; note: string } {
  switch (int(r, 10)) {
    case 0:
      return { body: text.slice(0, int(r, text.length)), note: 'truncated JSON' };
    case 1: {
      const at = int(r, text.length);
      return { body: text.slice(0, at) + pick(r, ['"', '{', ']', ',', '\\', '\u0000', '\n', "'"]) + text.slice(at), note: 'a stray character' };
    }
    case 2:
      return { body: pick(r, ['{"a":', '{,}', "{'a':1}", 'NaN', '{"model":1e999}', '[1,]', '{"a":1}{"b":2}', 'undefined', '"\u0000"', '{"a":"\u0001"}']), note: 'invalid JSON text' };
    case 3:
      return { body: `\uFEFF${text}`, note: 'BOM before the JSON' };
    case 4:
      return { body: `${text} trailing`, note: 'trailing garbage' };
    case 5:
      return { body: '', note: 'empty body' };
    case 6: {
      const bytes = Buffer.from(text);
      const at = Math.max(1, bytes.indexOf('"', 1) + 1);
      return { body: Buffer.concat([bytes.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), bytes.subarray(at)]), note: 'invalid UTF-8 inside a string' };
    }
    case 7: {
      const depth = pick(r, [65, 1000, 100_000]);
      return { body: '['.repeat(depth) + ']'.repeat(depth), note: `nesting ${depth} deep` };
    }
    case 8:
      return { body: `{"model":"${'\\u0000'.repeat(10)}","input":"\\ud800","messages":[{"role":"user","content":"\\udfff"}]}`, note: 'escaped NUL and lone surrogates' };
    default:
      return { body: text.replace(/"[^"]*"/, '"' + 'z'.repeat(HUGE / 2) + '"'), note: 'a half-megabyte string' };
  }
}

const BAD_IDS = [
  '.',
  '..',
  '%00',
  '%2F',
  '%2e%2e',
  '%2e%2e%2Fconversations',
  'conv_%00',
  'resp_%00',
  'pmpt_%00',
  'x'.repeat(5000),
  '%ZZ',
  '%',
  '%ED%A0%80',
  '%F0%9F%98%80',
  '%E2%80%AE',
  'conv_' + 'g'.repeat(48),
  'resp_' + '0'.repeat(48),
  'pmpt_' + '0'.repeat(48),
  'msg_' + '0'.repeat(48),
  '%20',
  ';',
  'null',
  '-1',
  '1e999',
  "'%20OR%201=1",
];

const QUERY_KEYS = ['limit', 'order', 'after', 'before', 'include', 'include[]', 'version', 'stream', 'starting_after', 'include_obfuscation'];
const QUERY_VALUES = ['-1', '0', '1e9', 'abc', '', '%00', '..', '%2F', 'asc', 'desc', 'sideways', 'true', 'nope', '1.5', '%ED%A0%80', 'x'.repeat(3000), 'conv_%00', 'msg_' + '0'.repeat(48)];

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=utf-16',
  'application/json, text/plain',
  'application/' + 'j'.repeat(5000),
];

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'];

function fill(path: string, ids: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]!);
}

const PLACEHOLDER_IDS = { file: 'file-1111111111111111', upload: 'upload_1111111111111111', vs: 'vs_1111111111111111', conv: `conv_${'1'.repeat(48)}`, item: `msg_${'1'.repeat(48)}`, prompt: `pmpt_${'1'.repeat(48)}`, resp: `resp_${'1'.repeat(48)}`, model: 'mock-model' };

function withQuery(path: string, query: Record<string, string> | undefined): string {
  if (!query) return path;
  return `${path}?${Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

/** The `index`-th case of the run seeded with `seed`: the same inputs give the same request. */
export function fuzzCase(seed: number, index: number, ids: FuzzIds): FuzzCase {
  const r = prng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);
  const spec = pick(r, ROUTES);
  const route = `${spec.method} ${spec.path}`;
  const real = { ...ids, model: 'mock-model' };
  const target = spec.destructive ? PLACEHOLDER_IDS : r() < 0.5 ? real : PLACEHOLDER_IDS;
  const json = { 'content-type': 'application/json' };
  const base = { index, route, method: spec.method, headers: {} as Record<string, string> };
  const kind = chooseKind(r, spec);
  const validBody = () => (spec.body ? JSON.stringify(spec.body()) : undefined);
  const path = withQuery(fill(spec.path, target), spec.query);

  switch (kind) {
    case 'bad-id': {
      // Every placeholder replaced by an id fetch sends as it is (`%00`, `..`, `%2F`, ...).
      const bad = pick(r, BAD_IDS);
      const body = validBody();
      return { ...base, kind, path: withQuery(spec.path.replace(/\{(\w+)\}/g, () => bad), spec.query), headers: body ? json : {}, body, note: `id ${JSON.stringify(bad.slice(0, 40))}` };
    }
    case 'query': {
      const pairs = Array.from({ length: 1 + int(r, 3) }, () => `${pick(r, QUERY_KEYS)}=${pick(r, QUERY_VALUES)}`);
      const body = validBody();
      return { ...base, kind, path: `${fill(spec.path, target)}?${pairs.join('&')}`, headers: body ? json : {}, body, note: pairs.join('&').slice(0, 80) };
    }
    case 'wrong-method': {
      const method = pick(r, METHODS.filter((m) => m !== spec.method));
      const body = method === 'GET' || method === 'HEAD' ? undefined : '{}';
      return { ...base, kind, method, path: fill(spec.path, PLACEHOLDER_IDS), headers: body ? json : {}, body, note: method };
    }
    case 'unexpected-body':
      return { ...base, kind, path, headers: json, body: JSON.stringify(hostileValue(r)) ?? 'null', note: 'a body on a route that takes none' };
    case 'content-type': {
      const type = pick(r, [...CONTENT_TYPES, 'gzip', 'none']);
      const body = validBody()!;
      if (type === 'none') return { ...base, kind, path, headers: {}, body: Buffer.from(body), note: 'no content-type' };
      if (type === 'gzip') return { ...base, kind, path, headers: { ...json, 'content-encoding': 'gzip' }, body, note: 'content-encoding gzip, plain body' };
      return { ...base, kind, path, headers: { 'content-type': type }, body, note: type.slice(0, 60) };
    }
    case 'raw':
      // Lying content lengths and other bytes fetch will not send, over a raw socket.
      return { ...base, kind, path, ...rawCase(r, spec.method, path, validBody() ?? '{}') };
    case 'malformed-json': {
      const { body, note } = malformedJson(r, validBody()!);
      return { ...base, kind, path, headers: json, body, note };
    }
    default: {
      // Well-formed JSON of the wrong shape.
      const { body, note } = mutateBody(r, spec.body!());
      return { ...base, kind, path, headers: json, body: JSON.stringify(body) ?? 'null', note };
    }
  }
}

type Kind = 'bad-id' | 'query' | 'wrong-method' | 'unexpected-body' | 'content-type' | 'raw' | 'malformed-json' | 'mutated-body';

/** Weighted by what a route can go wrong with: bodies for routes that take one, ids and queries for the rest. */
function chooseKind(r: Rng, spec: RouteSpec): Kind {
  const hasIds = spec.path.includes('{');
  const weights: [Kind, number][] = spec.body
    ? [['mutated-body', 32], ['malformed-json', 20], ['content-type', 8], ['raw', 8], ['bad-id', hasIds ? 14 : 0], ['query', 8], ['wrong-method', 6]]
    : [['bad-id', hasIds ? 40 : 0], ['query', 30], ['wrong-method', 10], ['unexpected-body', spec.method === 'GET' ? 0 : 10], ['raw', 10]];
  let roll = r() * weights.reduce((sum, [, w]) => sum + w, 0);
  for (const [kind, weight] of weights) {
    roll -= weight;
    if (roll < 0) return kind;
  }
  return weights[0]![0];
}

/** The shared platforms require a key: raw requests carry it too, so they reach the routes. */
const AUTH = `authorization: Bearer ${TEST_KEY}\r\n`;

function rawCase(r: Rng, method: string, path: string, body: string): { headers: Record<string, string>; raw: Buffer; note: string } {
  const bytes = Buffer.from(body);
  const start = `${method} ${path} HTTP/1.1\r\nhost: localhost\r\n${AUTH}content-type: application/json\r\n`;
  const variants: [string, Buffer][] = [
    // Shorter than declared: the connection is then half-closed by the client.
    ['declares more than it sends', Buffer.concat([Buffer.from(`${start}content-length: ${bytes.length + 50}\r\n\r\n`), bytes])],
    ['declares less than it sends', Buffer.concat([Buffer.from(`${start}content-length: ${Math.max(1, bytes.length - 5)}\r\n\r\n`), bytes])],
    ['content-length and chunked together', Buffer.concat([Buffer.from(`${start}content-length: ${bytes.length}\r\ntransfer-encoding: chunked\r\n\r\n`), bytes])],
    ['bad chunk size', Buffer.from(`${start}transfer-encoding: chunked\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`)],
    ['two content-lengths', Buffer.concat([Buffer.from(`${start}content-length: ${bytes.length}\r\ncontent-length: 3\r\n\r\n`), bytes])],
    ['negative content-length', Buffer.concat([Buffer.from(`${start}content-length: -1\r\n\r\n`), bytes])],
    ['NUL in the path', Buffer.from(`GET ${path}\u0000x HTTP/1.1\r\nhost: localhost\r\n${AUTH}\r\n`, 'latin1')],
    ['space in the path', Buffer.from(`GET ${path} x HTTP/1.1\r\nhost: localhost\r\n${AUTH}\r\n`)],
    ['raw UTF-8 in the path', Buffer.from(`GET ${path}/é😀 HTTP/1.1\r\nhost: localhost\r\n${AUTH}\r\n`)],
    ['HTTP/1.0 without host', Buffer.from(`${method} ${path} HTTP/1.0\r\n${AUTH}content-type: application/json\r\ncontent-length: ${bytes.length}\r\n\r\n${body}`)],
  ];
  const [note, raw] = pick(r, variants);
  return { headers: {}, raw, note };
}
