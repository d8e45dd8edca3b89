import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { ConversationsClient } from './conversations-client.js';
import { errorFromResponse } from './gateway-request.js';
import { PromptsClient } from './prompts-client.js';
import { errorOf as rejection } from '../../../test/support/errors.js';

// A scripted stand-in for the gateway: records what the clients send and answers from `handler`.

interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: unknown;
}

let server: Server;
let base = '';
let seen: Seen[] = [];
let handler: (req: Seen) => { status?: number; body?: unknown };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString();
      const entry: Seen = { method: req.method!, url: new URL(req.url!, base), headers: req.headers, body: raw ? JSON.parse(raw) : undefined };
      seen.push(entry);
      const { status = 200, body } = handler(entry);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen = [];
});

const transport = { baseUrl: () => base };

function items(from: number, to: number) {
  return Array.from({ length: to - from }, (_, i) => ({ id: `msg_${from + i}`, type: 'message' }));
}

describe('ConversationsClient', () => {
  const client = new ConversationsClient(transport);

  it('gets a conversation, passing the request id', async () => {
    handler = () => ({ body: { id: 'conv_1', object: 'conversation', created_at: 1, metadata: {} } });
    expect(await client.getConversation('conv_1', { requestId: 'req_abc' })).toMatchObject({ id: 'conv_1' });
    expect(seen[0]!.method).toBe('GET');
    expect(seen[0]!.url.pathname).toBe('/v1/conversations/conv_1');
    expect(seen[0]!.headers['x-request-id']).toBe('req_abc');
  });

  it('lists all items ascending, following cursors until has_more is false', async () => {
    const all = items(0, 250);
    handler = ({ url }) => {
      const after = url.searchParams.get('after');
      const start = after ? all.findIndex((i) => i.id === after) + 1 : 0;
      const data = all.slice(start, start + Number(url.searchParams.get('limit')));
      return { body: { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + data.length < all.length } };
    };
    const got = await client.listAllItems('conv_1');
    expect(got.map((i) => i.id)).toEqual(all.map((i) => i.id));
    expect(seen).toHaveLength(3);
    expect(seen.map((s) => s.url.searchParams.get('after'))).toEqual([null, 'msg_99', 'msg_199']);
    for (const s of seen) {
      expect(s.url.searchParams.get('order')).toBe('asc');
      expect(s.url.searchParams.getAll('include[]')).toContain('reasoning.encrypted_content');
    }
  });

  it('appends in chunks of 20, in order, returning the stored items', async () => {
    handler = ({ body }) => {
      const data = (body as { items: { n: number }[] }).items.map((i) => ({ id: `msg_${i.n}`, type: 'message' }));
      return { body: { object: 'list', data, first_id: data[0]!.id, last_id: data.at(-1)!.id, has_more: false } };
    };
    const input = Array.from({ length: 45 }, (_, n) => ({ type: 'message', role: 'user', content: 'x', n }));
    const stored = await client.appendItems('conv_1', input, { requestId: 'req_x' });
    expect(stored.map((i) => i.id)).toEqual(input.map((i) => `msg_${i.n}`));
    expect(seen.map((s) => (s.body as { items: unknown[] }).items.length)).toEqual([20, 20, 5]);
    expect(seen.every((s) => s.method === 'POST' && s.url.pathname === '/v1/conversations/conv_1/items' && s.headers['x-request-id'] === 'req_x')).toBe(true);
    expect(await client.appendItems('conv_1', [])).toEqual([]);
  });

  it('maps the error envelope back to an ApiError with status, param and code', async () => {
    handler = () => ({ status: 400, body: { error: { message: 'bad item', type: 'invalid_request_error', param: 'items[0].content', code: 'invalid_type' } } });
    const err = await rejection(client.appendItems('conv_1', [{}]));
    expect(err.status).toBe(400);
    expect(err.message).toBe('bad item');
    expect(err.param).toBe('items[0].content');
    expect(err.code).toBe('invalid_type');
    handler = () => ({ status: 404, body: { error: { message: 'Conversation not found', type: 'invalid_request_error', param: 'conversation_id', code: 'not_found' } } });
    const missing = await rejection(client.getConversation('conv_2'));
    expect(missing.status).toBe(404);
    expect(missing.toBody().error).toEqual({ message: 'Conversation not found', type: 'invalid_request_error', param: 'conversation_id', code: 'not_found' });
  });

  it('answers 502 when the gateway cannot be reached', async () => {
    const offline = new ConversationsClient({ baseUrl: () => 'http://127.0.0.1:1' });
    const err = await rejection(offline.getConversation('conv_1'));
    expect(err.status).toBe(502);
    expect(err.code).toBe('service_unreachable');
    // Our own service being down is not a model-server failure: no upstream marker.
    expect(err.headers).toEqual({});
  });

  it('answers 504 without the upstream marker when the service does not answer in time', async () => {
    const hung = new ConversationsClient({ baseUrl: () => 'http://127.0.0.1:1', fetch: (_url, init) => new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason))) });
    const err = await rejection(hung.getConversation('conv_1', { signal: AbortSignal.timeout(20) }));
    expect(err.status).toBe(504);
    expect(err.code).toBe('service_timeout');
    expect(err.headers).toEqual({});
  });
});

describe('PromptsClient', () => {
  const client = new PromptsClient(transport);

  it('gets the default version, or the version asked for', async () => {
    handler = ({ url }) => ({ body: { prompt_id: 'pmpt_1', prompt: 'p', version: Number(url.searchParams.get('version') ?? 1), variables: [], is_default: true } });
    expect((await client.getPrompt('pmpt_1')).version).toBe(1);
    expect(seen[0]!.url.search).toBe('');
    expect((await client.getPrompt('pmpt_1', '3', { requestId: 'req_p' })).version).toBe(3);
    expect(seen[1]!.url.searchParams.get('version')).toBe('3');
    expect(seen[1]!.headers['x-request-id']).toBe('req_p');
  });

  it('maps a 404 back to an ApiError', async () => {
    handler = () => ({ status: 404, body: { error: { message: 'nope', type: 'invalid_request_error', param: 'prompt_id', code: 'not_found' } } });
    const err = await rejection(client.getPrompt('pmpt_x', 2));
    expect(err.status).toBe(404);
    expect(err.param).toBe('prompt_id');
  });
});

describe('errorFromResponse', () => {
  it('keeps the status of a body that is not our envelope', () => {
    const err = errorFromResponse(503, '<html>down</html>', 'prompts');
    expect(err.status).toBe(503);
    expect(err.type).toBe('server_error');
    expect(err.message).toContain('prompts');
  });
});
