import LlamaStackClient, { NotFoundError } from 'llama-stack-client';
import { describe, expect, it } from 'vitest';
import { platforms } from '../support/context.js';
import { errorOf as rejection } from '../support/errors.js';
import { TEST_KEY } from '../support/auth.js';

describe.each(platforms)('conversations through llama-stack-client ($mode)', (p) => {
  const client = new LlamaStackClient({ baseURL: p.origin, apiKey: TEST_KEY, maxRetries: 0 });

  it('manages a conversation and its items', async () => {
    const conv = await client.conversations.create({ metadata: { via: 'llama' }, items: [{ type: 'message', role: 'user', content: 'hello' }] });
    expect(conv).toMatchObject({ object: 'conversation', metadata: { via: 'llama' } });
    expect((await client.conversations.update(conv.id, { metadata: { via: 'llama-2' } })).metadata).toEqual({ via: 'llama-2' });

    await client.conversations.items.create(conv.id, { items: [{ type: 'message', role: 'assistant', content: 'hi there' }] });
    const page = await client.conversations.items.list(conv.id, { order: 'asc', limit: 1 });
    expect(page.data).toHaveLength(1);
    expect(page.has_more).toBe(true);
    const all: { id?: string; role?: string }[] = [];
    for await (const item of client.conversations.items.list(conv.id, { order: 'asc', limit: 1 })) all.push(item as { id?: string; role?: string });
    expect(all.map((i) => i.role)).toEqual(['user', 'assistant']);

    expect(await client.conversations.items.get(conv.id, all[0]!.id!)).toMatchObject({ type: 'message', role: 'user' });
    expect(await client.conversations.items.delete(conv.id, all[0]!.id!)).toMatchObject({ id: conv.id, object: 'conversation' });
    expect(await client.conversations.delete(conv.id)).toEqual({ id: conv.id, object: 'conversation.deleted', deleted: true });
    expect(await rejection(client.conversations.retrieve(conv.id))).toBeInstanceOf(NotFoundError);
  });
});
