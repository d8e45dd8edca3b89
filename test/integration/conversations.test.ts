import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import { ConversationCursorPage } from 'openai/pagination';
import type { ConversationItem } from 'openai/resources/conversations/items';
import { describe, expect, it } from 'vitest';
import { openai, platforms } from '../support/context.js';
import { errorOf as rejection } from '../support/errors.js';
import { authFetch } from '../support/auth.js';

const ID = (prefix: string) => new RegExp(`^${prefix}_[0-9a-f]{48}$`);

function userMessages(n: number, from = 0) {
  return Array.from({ length: n }, (_, i) => ({ type: 'message' as const, role: 'user' as const, content: `m${from + i}` }));
}

function textOf(item: ConversationItem): string {
  if (item.type !== 'message') throw new Error(`not a message: ${item.type}`);
  const part = item.content[0] as { text?: string };
  return part.text ?? '';
}

/** Our extension: GET /v1/conversations, paged like every other OpenAI list. */
function listConversations(client: OpenAI, query: Record<string, unknown>) {
  type Conversation = OpenAI.Conversations.Conversation;
  return client.getAPIList<Conversation, ConversationCursorPage<Conversation>>('/conversations', ConversationCursorPage<Conversation>, { query });
}

describe.each(platforms)('conversations ($mode)', (p) => {
  const client = openai(p);

  it('creates, retrieves, updates and deletes a conversation', async () => {
    const created = await client.conversations.create({ metadata: { topic: 'demo' }, items: [{ type: 'message', role: 'user', content: 'Hello!' }] });
    expect(created).toEqual({ id: expect.stringMatching(ID('conv')), object: 'conversation', created_at: expect.any(Number), metadata: { topic: 'demo' } });
    expect(Math.abs(created.created_at - Date.now() / 1000)).toBeLessThan(60);

    expect(await client.conversations.retrieve(created.id)).toEqual(created);

    const updated = await client.conversations.update(created.id, { metadata: { topic: 'project-x', owner: 'me' } });
    expect(updated).toEqual({ ...created, metadata: { topic: 'project-x', owner: 'me' } });
    expect((await client.conversations.retrieve(created.id)).metadata).toEqual({ topic: 'project-x', owner: 'me' });

    expect(await client.conversations.delete(created.id)).toEqual({ id: created.id, object: 'conversation.deleted', deleted: true });
    const gone = await rejection<NotFoundError>(client.conversations.retrieve(created.id));
    expect(gone).toBeInstanceOf(NotFoundError);
    expect(gone.param).toBe('conversation_id');
    expect(await rejection(client.conversations.items.list(created.id))).toBeInstanceOf(NotFoundError);
  });

  it('creates an empty conversation with empty metadata', async () => {
    const created = await client.conversations.create({});
    expect(created.metadata).toEqual({});
    const items = await client.conversations.items.list(created.id);
    expect(items.data).toEqual([]);
    expect(items.has_more).toBe(false);
  });

  it('stores every item type with ids minted by type and the stored shape', async () => {
    const conv = await client.conversations.create({});
    const added = await client.conversations.items.create(conv.id, {
      items: [
        { type: 'message', role: 'developer', content: 'be brief' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'weather?' }] },
        { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_1', output: '{"temp":20}' },
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'thinking' }], encrypted_content: 'opaque' } as never,
        { type: 'message', role: 'assistant', content: 'It is 20 degrees.' },
        { type: 'mcp_call', id: 'mcp_1', server_label: 'srv', name: 'tool', arguments: '{}', output: 'ok' } as never,
      ],
    });
    expect(added.object).toBe('list');
    expect(added.has_more).toBe(false);
    expect(added.data.map((i) => i.type)).toEqual(['message', 'message', 'function_call', 'function_call_output', 'reasoning', 'message', 'mcp_call']);
    expect(added.first_id).toBe(added.data[0]!.id);
    expect(added.last_id).toBe('mcp_1');
    const [dev, user, call, output, reasoning, assistant] = added.data;
    expect(dev).toEqual({ id: expect.stringMatching(ID('msg')), type: 'message', status: 'completed', role: 'developer', content: [{ type: 'input_text', text: 'be brief' }] });
    expect(user!.id).toMatch(ID('msg'));
    expect(call).toEqual({ id: expect.stringMatching(ID('fc')), type: 'function_call', status: 'completed', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(output).toMatchObject({ id: expect.stringMatching(ID('fco')), type: 'function_call_output', call_id: 'call_1', output: '{"temp":20}', status: 'completed' });
    expect(reasoning).toEqual({ id: expect.stringMatching(ID('rs')), type: 'reasoning', summary: [{ type: 'summary_text', text: 'thinking' }] });
    expect(assistant).toMatchObject({ role: 'assistant', content: [{ type: 'output_text', text: 'It is 20 degrees.', annotations: [], logprobs: [] }] });

    expect(await client.conversations.items.retrieve(call!.id!, { conversation_id: conv.id })).toEqual(call);
    const withSecret = await client.conversations.items.retrieve(reasoning!.id!, { conversation_id: conv.id, include: ['reasoning.encrypted_content'] });
    expect(withSecret).toMatchObject({ encrypted_content: 'opaque' });
    const listed = await client.conversations.items.list(conv.id, { order: 'asc', include: ['reasoning.encrypted_content'] });
    expect(listed.data.find((i) => i.type === 'reasoning')).toMatchObject({ encrypted_content: 'opaque' });
  });

  it('pages items in both orders with cursors and a true has_more', async () => {
    const conv = await client.conversations.create({ items: userMessages(20) });
    await client.conversations.items.create(conv.id, { items: userMessages(5, 20) });

    const firstDesc = await client.conversations.items.list(conv.id);
    expect(firstDesc.data).toHaveLength(20);
    expect(firstDesc.data.map(textOf).slice(0, 2)).toEqual(['m24', 'm23']);
    expect(firstDesc.has_more).toBe(true);
    expect(firstDesc.last_id).toBe(firstDesc.data[19]!.id);
    expect(firstDesc.hasNextPage()).toBe(true);
    const secondDesc = await firstDesc.getNextPage();
    expect(secondDesc.data.map(textOf)).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
    expect(secondDesc.has_more).toBe(false);
    expect(secondDesc.hasNextPage()).toBe(false);

    const asc: string[] = [];
    for await (const item of client.conversations.items.list(conv.id, { order: 'asc', limit: 7 })) asc.push(textOf(item));
    expect(asc).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));

    const exact = await client.conversations.items.list(conv.id, { order: 'asc', limit: 25 });
    expect(exact.data).toHaveLength(25);
    expect(exact.has_more).toBe(false);

    const max = await client.conversations.items.list(conv.id, { limit: 100 });
    expect(max.data).toHaveLength(25);
    const afterCursor = await client.conversations.items.list(conv.id, { order: 'asc', limit: 3, after: exact.data[10]!.id });
    expect(afterCursor.data.map(textOf)).toEqual(['m11', 'm12', 'm13']);
    expect(afterCursor.has_more).toBe(true);
  });

  it('keeps each of several concurrent appends contiguous in the list', async () => {
    const tags = ['a', 'b', 'c'];
    const batch = (tag: string) => Array.from({ length: 20 }, (_, i) => ({ type: 'message' as const, role: 'user' as const, content: `${tag}${i}` }));
    // A few rounds: the first may run on a cold connection pool, which serialises the writers by accident.
    for (let round = 0; round < 3; round++) {
      const conv = await client.conversations.create({});
      await Promise.all(tags.map((tag) => client.conversations.items.create(conv.id, { items: batch(tag) })));

      const listed: string[] = [];
      for await (const item of client.conversations.items.list(conv.id, { order: 'asc', limit: 7 })) listed.push(textOf(item));
      expect(listed).toHaveLength(60);
      const runs = [0, 20, 40].map((start) => listed.slice(start, start + 20));
      expect(runs.map((run) => run[0]![0]).sort()).toEqual(tags);
      for (const run of runs) expect(run).toEqual(batch(run[0]![0]!).map((m) => m.content));
    }
  });

  it('deletes an item and answers with the conversation', async () => {
    const conv = await client.conversations.create({ metadata: { k: 'v' }, items: userMessages(3) });
    const items = await client.conversations.items.list(conv.id, { order: 'asc' });
    const middle = items.data[1] as { id: string };
    expect(await client.conversations.items.delete(middle.id, { conversation_id: conv.id })).toEqual(conv);
    expect((await client.conversations.items.list(conv.id, { order: 'asc' })).data.map(textOf)).toEqual(['m0', 'm2']);
    const again = await rejection<NotFoundError>(client.conversations.items.delete(middle.id, { conversation_id: conv.id }));
    expect(again).toBeInstanceOf(NotFoundError);
    expect(again.param).toBe('item_id');
    expect(await rejection(client.conversations.items.retrieve(middle.id, { conversation_id: conv.id }))).toBeInstanceOf(NotFoundError);
  });

  it('keeps caller-supplied ids, refuses duplicates and resolves item references', async () => {
    const conv = await client.conversations.create({ items: [{ type: 'message', id: 'msg_custom1', role: 'user', content: 'mine' } as never] });
    expect((await client.conversations.items.retrieve('msg_custom1', { conversation_id: conv.id })).id).toBe('msg_custom1');
    const dup = await rejection<BadRequestError>(client.conversations.items.create(conv.id, { items: [{ type: 'message', id: 'msg_custom1', role: 'user', content: 'x' } as never] }));
    expect(dup).toBeInstanceOf(BadRequestError);
    expect(dup.param).toBe('items[0].id');
    const ref = await client.conversations.items.create(conv.id, { items: [{ type: 'item_reference', id: 'msg_custom1' }] });
    expect(ref.data[0]).toMatchObject({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'mine' }] });
    expect(ref.data[0]!.id).toMatch(ID('msg'));
  });

  it('lists conversations (extension) with cursors in both orders', async () => {
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(await client.conversations.create({ metadata: { n: String(i) } }));
    const newest = await listConversations(client, { limit: 2 });
    expect(newest.data.map((c) => c.id)).toEqual([mine[2]!.id, mine[1]!.id]);
    expect(newest.has_more).toBe(true);
    const next = await newest.getNextPage();
    expect(next.data[0]!.id).toBe(mine[0]!.id);

    const all: string[] = [];
    for await (const c of listConversations(client, { order: 'asc', limit: 2 })) all.push(c.id);
    expect(all.slice(-3)).toEqual(mine.map((c) => c.id));
    expect(new Set(all).size).toBe(all.length);
  });

  describe('errors', () => {
    it('answers 400 naming conversation_id for a malformed id, 404 for an unknown one', async () => {
      const bad = await rejection<BadRequestError>(client.conversations.retrieve('abc'));
      expect(bad).toBeInstanceOf(BadRequestError);
      expect(bad.param).toBe('conversation_id');
      const missing = await rejection<NotFoundError>(client.conversations.retrieve(`conv_${'0'.repeat(48)}`));
      expect(missing).toBeInstanceOf(NotFoundError);
      expect(await rejection(client.conversations.update(`conv_${'0'.repeat(48)}`, { metadata: {} }))).toBeInstanceOf(NotFoundError);
      expect(await rejection(client.conversations.delete(`conv_${'0'.repeat(48)}`))).toBeInstanceOf(NotFoundError);
      expect(await rejection(client.conversations.items.create(`conv_${'0'.repeat(48)}`, { items: userMessages(1) }))).toBeInstanceOf(NotFoundError);
    });

    it('refuses more than 20 items on create and append', async () => {
      const tooMany = await rejection<BadRequestError>(client.conversations.create({ items: userMessages(21) }));
      expect(tooMany).toBeInstanceOf(BadRequestError);
      expect(tooMany.param).toBe('items');
      const conv = await client.conversations.create({});
      expect((await rejection<BadRequestError>(client.conversations.items.create(conv.id, { items: userMessages(21) }))).param).toBe('items');
      expect((await client.conversations.items.list(conv.id)).data).toEqual([]);
    });

    it('names the param of malformed items', async () => {
      const conv = await client.conversations.create({});
      const cases: [unknown, string][] = [
        [{ type: 'message', role: 'user', content: 42 }, 'items[0].content'],
        [{ type: 'message', role: 'robot', content: 'x' }, 'items[0].role'],
        [{ type: 'message', role: 'user', content: [{ type: 'output_text', text: 'x' }] }, 'items[0].content[0].type'],
        [{ type: 'message', role: 'user', content: [{ type: 'input_text' }] }, 'items[0].content[0].text'],
        [{ type: 'function_call', call_id: 'c', arguments: '{}' }, 'items[0].name'],
        [{ type: 'nonsense' }, 'items[0].type'],
        [{ type: 'message', id: 'not url-safe', role: 'user', content: 'x' }, 'items[0].id'],
        [{ type: 'file_search_call', status: 'completed' }, 'items[0].queries'],
      ];
      for (const [item, param] of cases) {
        const err = await rejection<BadRequestError>(client.conversations.items.create(conv.id, { items: [item as never] }));
        expect(err, param).toBeInstanceOf(BadRequestError);
        expect(err.param).toBe(param);
      }
      const second = await rejection<BadRequestError>(client.conversations.create({ items: [...userMessages(1), { type: 'message', role: 'user' } as never] }));
      expect(second.param).toBe('items[1].content');
    });

    it('enforces the metadata limits', async () => {
      const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
      expect((await rejection<BadRequestError>(client.conversations.create({ metadata: many }))).param).toBe('metadata');
      const longValue = await rejection<BadRequestError>(client.conversations.create({ metadata: { key: 'x'.repeat(513) } }));
      expect(longValue.param).toBe('metadata.key');
      expect(await rejection(client.conversations.create({ metadata: { ['k'.repeat(65)]: 'v' } }))).toBeInstanceOf(BadRequestError);
      expect(await rejection(client.conversations.create({ metadata: { n: 1 as never } }))).toBeInstanceOf(BadRequestError);
      const conv = await client.conversations.create({ metadata: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'x'.repeat(512)])) });
      expect(Object.keys(conv.metadata as object)).toHaveLength(16);
      expect((await rejection<BadRequestError>(client.conversations.update(conv.id, { metadata: many }))).param).toBe('metadata');
    });

    it('refuses unknown parameters, bad list queries and bad include values', async () => {
      const unknown = await rejection<BadRequestError>(client.conversations.create({ colour: 'red' } as never));
      expect(unknown.param).toBe('colour');
      const conv = await client.conversations.create({});
      expect((await rejection<BadRequestError>(client.conversations.items.list(conv.id, { limit: 0 }))).param).toBe('limit');
      expect((await rejection<BadRequestError>(client.conversations.items.list(conv.id, { limit: 101 }))).param).toBe('limit');
      expect((await rejection<BadRequestError>(client.conversations.items.list(conv.id, { order: 'up' as never }))).param).toBe('order');
      expect((await rejection<BadRequestError>(client.conversations.items.list(conv.id, { include: ['everything' as never] }))).param).toBe('include[0]');
      expect((await rejection<BadRequestError>(client.conversations.items.list(conv.id, { after: 'msg_unknown' }))).param).toBe('after');
      expect((await rejection<BadRequestError>(client.conversations.items.create(conv.id, {} as never))).param).toBe('items');
    });

    it('parses every body as JSON whatever its content type, and still takes requests without a body', async () => {
      const post = (body: string, contentType: string) => authFetch(`${p.baseURL}/conversations`, { method: 'POST', headers: { 'content-type': contentType }, body });
      const asText = await post('{"metadata":{"topic":"plain"}}', 'text/plain');
      expect(asText.status).toBe(200);
      const created = (await asText.json()) as { id: string; metadata: unknown };
      expect(created.metadata).toEqual({ topic: 'plain' });

      const unknownField = await post('{"colour":"red"}', 'text/plain');
      expect(unknownField.status).toBe(400);
      expect(((await unknownField.json()) as { error: { param: string } }).error.param).toBe('colour');
      for (const [body, type] of [['not json', 'text/plain'], ['metadata[topic]=form', 'application/x-www-form-urlencoded']]) {
        const res = await post(body!, type!);
        expect(res.status, type).toBe(400);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
      }

      const empty = await authFetch(`${p.baseURL}/conversations`, { method: 'POST' });
      expect(empty.status).toBe(200);
      expect(((await empty.json()) as { metadata: unknown }).metadata).toEqual({});
      expect((await authFetch(`${p.baseURL}/conversations/${created.id}`)).status).toBe(200);
      const deleted = await authFetch(`${p.baseURL}/conversations/${created.id}`, { method: 'DELETE', headers: { 'content-length': '0' } });
      expect(deleted.status).toBe(200);
      expect((await authFetch(`${p.baseURL}/conversations/${created.id}`, { method: 'DELETE' })).status).toBe(404);
    });

    it('answers a body that is not JSON with a 400 envelope', async () => {
      const res = await authFetch(`${p.baseURL}/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"items": [' });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { type: string } };
      expect(body.error.type).toBe('invalid_request_error');
    });
  });
});
