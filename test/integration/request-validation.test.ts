import { connect } from 'node:net';
import { BadRequestError, NotFoundError } from 'openai';
import { describe, expect, it } from 'vitest';
import { openai, platforms } from '../support/context.js';
import { authFetch, TEST_KEY } from '../support/auth.js';

type ErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

async function rejection(p: Promise<unknown>): Promise<{ status?: number; error?: unknown; param?: string | null; code?: string | null }> {
  return p.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err as { status?: number; param?: string | null; code?: string | null },
  );
}

const UNKNOWN_HEX = '0'.repeat(48);

// The request-input rules every route shares (shared/src/http/register-routes.ts), through the
// front door: the same answer in both modes, where Postgres used to answer NUL with a 500.
describe.each(platforms)('request validation ($mode)', (p) => {
  const client = openai(p);

  async function get(path: string): Promise<{ status: number; body: ErrorBody }> {
    const res = await authFetch(`${p.origin}${path}`);
    return { status: res.status, body: (await res.json()) as ErrorBody };
  }

  async function post(path: string, body: string): Promise<{ status: number; body: ErrorBody }> {
    const res = await authFetch(`${p.origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return { status: res.status, body: (await res.json()) as ErrorBody };
  }

  it('answers NUL in path ids with 400 naming the param', async () => {
    const conv = await client.conversations.create({});
    for (const [path, param] of [
      ['/v1/responses/resp_a%00b', 'response_id'],
      ['/v1/responses/resp_a%00b/input_items', 'response_id'],
      ['/v1/conversations/conv_a%00b', 'conversation_id'],
      [`/v1/conversations/${conv.id}/items/msg_a%00b`, 'item_id'],
      ['/v1/prompts/pmpt_a%00b', 'prompt_id'],
      ['/v1/models/mock%00model', 'model'],
    ] as const) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.body.error, path).toMatchObject({ type: 'invalid_request_error', param });
    }
  });

  it('answers NUL, absurd length and unsafe characters in cursors with 400 naming the cursor', async () => {
    const conv = await client.conversations.create({});
    for (const after of ['msg_\u0000', 'x'.repeat(300), "msg_' OR 1=1"]) {
      const err = await rejection(client.conversations.items.list(conv.id, { after }));
      expect(err, after).toBeInstanceOf(BadRequestError);
      expect(err.param, after).toBe('after');
    }
    for (const path of ['/v1/responses?after=resp_%00', '/v1/conversations?after=conv_%00', '/v1/responses?before=resp_%00', `/v1/responses/resp_${UNKNOWN_HEX}/input_items?after=%00`]) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(res.body.error.param, path).toMatch(/^(after|before)$/);
    }
  });

  it('answers NUL in bodies with 400 before anything is stored', async () => {
    const err = await rejection(client.conversations.create({ metadata: { k: 'a\u0000b' } }));
    expect(err).toBeInstanceOf(BadRequestError);
    const conv = await client.conversations.create({});
    expect(await rejection(client.conversations.items.create(conv.id, { items: [{ type: 'message', role: 'user', content: 'a\u0000b' }] }))).toBeInstanceOf(BadRequestError);
    expect((await client.conversations.items.list(conv.id)).data).toEqual([]);
    expect(await rejection(client.responses.create({ model: 'mock-model', input: 'a\u0000b' }))).toBeInstanceOf(BadRequestError);
    expect((await post('/v1/prompts', '{"prompt":"a\\u0000b"}')).status).toBe(400);
  });

  it('answers JSON nested deeper than 64 levels with 400 json_too_deep', async () => {
    const deep = `{"metadata":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    for (const path of ['/v1/conversations', '/v1/responses', '/v1/prompts']) {
      const res = await post(path, deep);
      expect(res.status, path).toBe(400);
      expect(res.body.error.code, path).toBe('json_too_deep');
    }
  });

  it('answers a malformed id with 400 naming the param and an unknown one with 404', async () => {
    const bad = await rejection(client.responses.retrieve('abc'));
    expect(bad).toBeInstanceOf(BadRequestError);
    expect(bad.param).toBe('response_id');
    expect((await rejection(client.responses.delete(`resp_${'a'.repeat(300)}`))).param).toBe('response_id');
    expect(await rejection(client.responses.retrieve(`resp_${UNKNOWN_HEX}`))).toBeInstanceOf(NotFoundError);

    const conv = await client.conversations.create({});
    const badItem = await rejection(client.conversations.items.retrieve('no such item', { conversation_id: conv.id }));
    expect(badItem).toBeInstanceOf(BadRequestError);
    expect(badItem.param).toBe('item_id');
    const missingItem = await rejection(client.conversations.items.retrieve(`msg_${UNKNOWN_HEX}`, { conversation_id: conv.id }));
    expect(missingItem).toBeInstanceOf(NotFoundError);
    expect(missingItem.param).toBe('item_id');
    expect((await rejection(client.conversations.delete('conv-nope'))).param).toBe('conversation_id');
  });

  it('answers a body whose declared Content-Length is over the limit with 413 at once', async () => {
    // The client declares 60 MB (over the default 50 MB limit) and sends two bytes: the answer must
    // not wait for the rest.
    const url = new URL(p.origin);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      let data = '';
      socket.on('error', reject);
      socket.on('connect', () =>
        socket.write(`POST /v1/conversations HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nAuthorization: Bearer ${TEST_KEY}\r\nContent-Length: 60000000\r\n\r\n{}`),
      );
      socket.on('data', (chunk) => {
        data += chunk.toString('utf8');
        const end = data.indexOf('\r\n\r\n');
        if (end === -1) return;
        const length = Number(/content-length: (\d+)/i.exec(data)?.[1] ?? 0);
        if (data.length < end + 4 + length) return;
        socket.destroy();
        resolve(data);
      });
    });
    expect(answer.slice(0, answer.indexOf('\r\n'))).toMatch(/^HTTP\/1\.1 413 /);
    expect((JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as ErrorBody).error.code).toBe('request_too_large');
  });
});
