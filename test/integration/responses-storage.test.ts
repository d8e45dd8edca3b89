import { NotFoundError } from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { mock, openai, platforms } from '../support/context.js';

interface ListPage<T> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

describe.each(platforms)('responses: storage ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it('retrieves a stored response exactly as it was returned', async () => {
    const created = await client.responses.create({ model: 'mock-model', input: 'remember me', metadata: { k: 'v' } });
    const { output_text: _a, ...expected } = created;
    const got = await client.responses.retrieve(created.id);
    const { output_text: _b, ...actual } = got;
    expect(actual).toEqual(expected);
  });

  it('stores a streamed response before its terminal event is delivered', async () => {
    const stream = client.responses.stream({ model: 'mock-model', input: 'stream me' });
    const final = await stream.finalResponse();
    expect((await client.responses.retrieve(final.id)).output_text).toBe('echo: stream me');
  });

  it('store:false persists nothing', async () => {
    const r = await client.responses.create({ model: 'mock-model', input: 'forget me', store: false });
    expect(r).toMatchObject({ store: false });
    await expect(client.responses.retrieve(r.id)).rejects.toBeInstanceOf(NotFoundError);
    const err = await client.responses.create({ model: 'mock-model', input: 'x', previous_response_id: r.id }).catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
  });

  it('deletes a response, then 404s on it', async () => {
    const r = await client.responses.create({ model: 'mock-model', input: 'short-lived' });
    expect(await client.responses.delete(r.id)).toEqual({ id: r.id, object: 'response', deleted: true });
    await expect(client.responses.retrieve(r.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.responses.delete(r.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.responses.inputItems.list(r.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('continues a chain with full context from stored inputs and outputs, without re-sending instructions', async () => {
    const r1 = await client.responses.create({ model: 'mock-model', input: 'one', instructions: 'first instructions' });
    const r2 = await client.responses.create({ model: 'mock-model', input: 'two', previous_response_id: r1.id });
    await client.responses.create({ model: 'mock-model', input: 'three', previous_response_id: r2.id, instructions: 'third instructions' });
    const reqs = await mock.requests('/v1/chat/completions');
    expect(reqs[2]!.body.messages).toEqual([
      { role: 'system', content: 'third instructions' },
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'echo: one' },
      { role: 'user', content: 'two' },
      { role: 'assistant', content: 'echo: two' },
      { role: 'user', content: 'three' },
    ]);
  });

  it('keeps the context of a chain whose predecessor was deleted', async () => {
    const r1 = await client.responses.create({ model: 'mock-model', input: 'alpha' });
    const r2 = await client.responses.create({ model: 'mock-model', input: 'beta', previous_response_id: r1.id });
    await client.responses.delete(r1.id);
    await expect(client.responses.retrieve(r1.id)).rejects.toBeInstanceOf(NotFoundError);
    await client.responses.create({ model: 'mock-model', input: 'gamma', previous_response_id: r2.id });
    const reqs = await mock.requests('/v1/chat/completions');
    expect(reqs[2]!.body.messages.map((m: { content: string }) => m.content)).toEqual(['alpha', 'echo: alpha', 'beta', 'echo: beta', 'gamma']);
    // Deleting the rest of the chain works and leaves nothing reachable.
    await client.responses.delete(r2.id);
    await expect(client.responses.retrieve(r2.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lists input items with pagination in both orders', async () => {
    const r = await client.responses.create({
      model: 'mock-model',
      input: [
        { role: 'user', content: 'm0' },
        { role: 'assistant', content: 'm1' },
        { role: 'user', content: 'm2' },
        { role: 'user', content: 'm3' },
        { role: 'user', content: 'm4' },
      ],
    });
    const text = (item: any) => item.content[0].text;
    const desc = await client.responses.inputItems.list(r.id, { limit: 2 });
    expect(desc.data.map(text)).toEqual(['m4', 'm3']);
    expect(desc.has_more).toBe(true);
    const raw = (await client.get(`/responses/${r.id}/input_items`, { query: { limit: 2 } })) as ListPage<{ id: string }>;
    expect(raw).toMatchObject({ object: 'list', first_id: desc.data[0]!.id, last_id: desc.data[1]!.id, has_more: true });
    const next = await client.responses.inputItems.list(r.id, { limit: 2, after: raw.last_id! });
    expect(next.data.map(text)).toEqual(['m2', 'm1']);
    const all: string[] = [];
    for await (const item of client.responses.inputItems.list(r.id, { order: 'asc', limit: 2 })) all.push(text(item));
    expect(all).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    const asc = await client.responses.inputItems.list(r.id, { order: 'asc' });
    expect(asc.data[0]).toMatchObject({ type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: 'm0' }] });
    expect(asc.data[0]!.id).toMatch(/^msg_/);
    expect(asc.data[1]).toMatchObject({ role: 'assistant', content: [{ type: 'output_text', text: 'm1' }] });
    expect(asc.has_more).toBe(false);
    const before = (await client.get(`/responses/${r.id}/input_items`, { query: { order: 'asc', before: asc.data[3]!.id } })) as ListPage<{ id: string }>;
    expect(before.data.map(text)).toEqual(['m0', 'm1', 'm2']);
  });

  it('lists responses (Llama Stack extension) with after, limit, order and model', async () => {
    const model = 'mock-model';
    const ids: string[] = [];
    for (const input of ['l1', 'l2', 'l3']) ids.push((await client.responses.create({ model, input })).id);
    const page = (await client.get('/responses', { query: { limit: 2 } })) as ListPage<{ id: string; object: string; output: unknown[] }>;
    expect(page.object).toBe('list');
    expect(page.data.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect(page.has_more).toBe(true);
    expect(page.data[0]!.output).toHaveLength(1);
    const rest = (await client.get('/responses', { query: { limit: 2, after: page.last_id } })) as ListPage<{ id: string }>;
    expect(rest.data[0]!.id).toBe(ids[0]);
    const asc = (await client.get('/responses', { query: { order: 'asc', limit: 100 } })) as ListPage<{ id: string }>;
    const order = asc.data.map((r) => r.id).filter((id) => ids.includes(id));
    expect(order).toEqual(ids);
    const none = (await client.get('/responses', { query: { model: 'no-such' } })) as ListPage<unknown>;
    expect(none).toEqual({ object: 'list', data: [], first_id: null, last_id: null, has_more: false });
  });

  it('resolves item references to stored items', async () => {
    const r = await client.responses.create({ model: 'mock-model', input: 'referenced question' });
    const [item] = (await client.responses.inputItems.list(r.id)).data;
    await client.responses.create({ model: 'mock-model', input: [{ type: 'item_reference', id: item!.id }] });
    const reqs = await mock.requests('/v1/chat/completions');
    expect(reqs[1]!.body.messages).toEqual([{ role: 'user', content: 'referenced question' }]);
  });
});
