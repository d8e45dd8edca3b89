import type LlamaStackClient from 'llama-stack-client';
import type OpenAI from 'openai';
import { beforeEach, expect, it } from 'vitest';
import { mock } from './context.js';
import { errorOf } from './errors.js';
import { waitFor } from './wait.js';

/** Two callers of two different projects, through the official SDKs. */
export interface Tenants {
  a: OpenAI;
  b: OpenAI;
  llamaA: LlamaStackClient;
  llamaB: LlamaStackClient;
}

const MODEL = 'mock-model';

/** A 404 as every SDK surfaces it: another project's object is unknown, never forbidden (403). */
async function notFound(call: PromiseLike<unknown> | (() => PromiseLike<unknown>), param?: string): Promise<void> {
  const err = await errorOf<{ status?: number; param?: string | null; error?: { param?: string | null } }>(typeof call === 'function' ? call() : call);
  expect(err.status, JSON.stringify(err)).toBe(404);
  if (param !== undefined) expect(err.param ?? err.error?.param).toBe(param);
}


type Page = { data: { id: string }[] };
const listResponses = (c: OpenAI, query: Record<string, unknown> = {}) => c.get('/responses', { query: { limit: 100, ...query } }) as Promise<Page>;
const listConversations = (c: OpenAI, query: Record<string, unknown> = {}) => c.get('/conversations', { query: { limit: 100, ...query } }) as Promise<Page>;

/**
 * Per-project isolation, resource family by resource family: project B never reads, lists, pages
 * from, updates, deletes, continues or references anything of project A's (each is a 404, as for an
 * id that never existed), and A's objects are untouched by B's attempts. Registered inside a
 * describe block; `tenants` is read when the tests run.
 */
export function isolationCases(tenants: () => Tenants): void {
  beforeEach(() => mock.reset());

  it('responses: retrieve, list, cursors, input items, delete, previous_response_id and item_reference stay within a project', async () => {
    const { a, b } = tenants();
    const mine = await a.responses.create({ model: MODEL, input: 'secret of A' });
    const outputItem = mine.output[0]!;
    const [inputItem] = (await a.responses.inputItems.list(mine.id)).data;

    await notFound(b.responses.retrieve(mine.id));
    await notFound(b.responses.inputItems.list(mine.id));
    await notFound(b.responses.delete(mine.id));
    expect((await listResponses(b)).data.map((r) => r.id)).not.toContain(mine.id);
    // A's response as B's cursor: as unknown as a made-up id.
    await notFound(listResponses(b, { after: mine.id }), 'after');
    await notFound(listResponses(b, { before: mine.id }), 'before');
    const theirs = await b.responses.create({ model: MODEL, input: 'B asks' });
    const [theirInput] = (await b.responses.inputItems.list(theirs.id)).data;
    await notFound(b.responses.inputItems.list(theirs.id, { after: inputItem!.id }), 'after');
    expect((await b.responses.inputItems.list(theirs.id, { after: theirInput!.id })).data).toEqual([]);
    // Continuing or referencing A's objects.
    await notFound(b.responses.create({ model: MODEL, input: 'continue', previous_response_id: mine.id }), 'previous_response_id');
    await notFound(b.responses.create({ model: MODEL, input: [{ type: 'item_reference', id: outputItem.id! }] }), 'input[0].id');
    await notFound(b.responses.create({ model: MODEL, input: [{ type: 'item_reference', id: inputItem!.id }] }), 'input[0].id');
    await notFound(b.responses.inputTokens.count({ model: MODEL, input: 'count', previous_response_id: mine.id }), 'previous_response_id');

    // A still has all of it, and continues and references its own.
    expect((await a.responses.retrieve(mine.id)).output_text).toBe(mine.output_text);
    expect((await listResponses(a)).data.map((r) => r.id)).toContain(mine.id);
    expect((await listResponses(a)).data.map((r) => r.id)).not.toContain(theirs.id);
    const next = await a.responses.create({ model: MODEL, input: [{ type: 'item_reference', id: inputItem!.id }], previous_response_id: mine.id });
    expect(next.status).toBe('completed');
    await a.responses.delete(next.id);
    await a.responses.delete(mine.id);
    await notFound(a.responses.retrieve(mine.id));
  });

  it('background responses: cancel and stream resume are 404s across projects; the run acts for its own project', async () => {
    const { a, b } = tenants();
    await mock.enqueue({ type: 'hang' });
    const running = await a.responses.create({ model: MODEL, input: 'long job', background: true });
    await waitFor(() => mock.requests('/v1/chat/completions'), (reqs) => reqs.length === 1);
    await notFound(b.responses.cancel(running.id));
    await notFound(async () => {
      const stream = await b.responses.retrieve(running.id, { stream: true, starting_after: 0 });
      for await (const _ of stream);
    });
    await notFound(b.responses.retrieve(running.id));
    expect((await a.responses.retrieve(running.id)).status).toBe('in_progress');
    expect((await a.responses.cancel(running.id)).status).toBe('cancelled');

    // A background response in A's conversation: its run reads and appends as A (were it signed as
    // anyone else, the conversation would be unknown to it and the run would fail).
    const conv = await a.conversations.create({ items: [{ type: 'message', role: 'user', content: 'remember: blue' }] });
    const bg = await a.responses.create({ model: MODEL, input: 'what colour?', conversation: conv.id, background: true });
    const done = await waitFor(() => a.responses.retrieve(bg.id), (r) => r.status !== 'queued' && r.status !== 'in_progress');
    expect(done.status).toBe('completed');
    const items = await waitFor(() => a.conversations.items.list(conv.id, { order: 'asc' }), (page) => page.data.length === 3);
    expect(items.data.map((i) => i.type)).toEqual(['message', 'message', 'message']);
    const events: string[] = [];
    for await (const e of await a.responses.retrieve(bg.id, { stream: true, starting_after: 0 })) events.push(e.type);
    expect(events.at(-1)).toBe('response.completed');
    await notFound(async () => {
      const stream = await b.responses.retrieve(bg.id, { stream: true });
      for await (const _ of stream);
    });
  });

  it('conversations: retrieve, update, delete, items and the list stay within a project', async () => {
    const { a, b } = tenants();
    const conv = await a.conversations.create({ metadata: { owner: 'a' }, items: [{ type: 'message', role: 'user', content: 'A only' }] });
    const [item] = (await a.conversations.items.list(conv.id)).data;

    await notFound(b.conversations.retrieve(conv.id));
    await notFound(b.conversations.update(conv.id, { metadata: { owner: 'b' } }));
    await notFound(b.conversations.items.list(conv.id));
    await notFound(b.conversations.items.retrieve(item!.id!, { conversation_id: conv.id }));
    await notFound(b.conversations.items.delete(item!.id!, { conversation_id: conv.id }));
    await notFound(b.conversations.items.create(conv.id, { items: [{ type: 'message', role: 'user', content: 'intruder' }] }));
    await notFound(b.conversations.delete(conv.id));
    expect((await listConversations(b)).data.map((c) => c.id)).not.toContain(conv.id);
    // B's own conversation may not copy A's item in, nor may B's response run in A's conversation.
    const own = await b.conversations.create({});
    await notFound(b.conversations.items.create(own.id, { items: [{ type: 'item_reference', id: item!.id! }] }), 'items[0].id');
    await notFound(b.responses.create({ model: MODEL, input: 'peek', conversation: conv.id }), 'conversation');
    await notFound(b.responses.create({ model: MODEL, input: 'peek', conversation: conv.id, background: true }), 'conversation');
    // The same client-chosen item id in B's conversation does not collide with A's (no existence leak).
    await b.conversations.items.create(own.id, { items: [{ type: 'message', role: 'user', content: 'same id', id: item!.id } as never] });
    expect((await b.conversations.items.list(own.id)).data.map((i) => i.id)).toEqual([item!.id]);

    // A's conversation is untouched, and a foreground response in it appends as A.
    expect((await a.conversations.retrieve(conv.id)).metadata).toEqual({ owner: 'a' });
    expect((await listConversations(a)).data.map((c) => c.id)).toContain(conv.id);
    expect((await listConversations(a)).data.map((c) => c.id)).not.toContain(own.id);
    await a.responses.create({ model: MODEL, input: 'hello again', conversation: conv.id });
    expect((await a.conversations.items.list(conv.id)).data).toHaveLength(3);
    expect((await a.conversations.delete(conv.id)).deleted).toBe(true);
  });

  it('prompts: get, versions, update, set-default, delete, the list and `prompt` on a response stay within a project', async () => {
    const { a, b, llamaA, llamaB } = tenants();
    const prompt = await llamaA.prompts.create({ prompt: 'You serve {{who}}.', variables: ['who'] });
    const id = prompt.prompt_id;

    await notFound(llamaB.prompts.retrieve(id));
    await notFound(llamaB.prompts.retrieve(id, { version: 1 }));
    await notFound(llamaB.prompts.versions.list(id));
    await notFound(llamaB.prompts.update(id, { prompt: 'hijacked', version: 1 }));
    await notFound(llamaB.prompts.setDefaultVersion(id, { version: 1 }));
    await notFound(llamaB.prompts.delete(id));
    expect((await llamaB.prompts.list()).map((p) => p.prompt_id)).not.toContain(id);
    await notFound(b.responses.create({ model: MODEL, input: 'hi', prompt: { id, variables: { who: 'B' } } }), 'prompt.id');

    // A's prompt is untouched, and renders for A's responses (background too: its run reads as A).
    expect(await llamaA.prompts.retrieve(id)).toMatchObject({ prompt: 'You serve {{who}}.', version: 1, is_default: true });
    expect((await llamaA.prompts.list()).map((p) => p.prompt_id)).toContain(id);
    const r = await a.responses.create({ model: MODEL, input: 'hi', prompt: { id, variables: { who: 'A' } } });
    expect(r.prompt?.id).toBe(id);
    const bg = await a.responses.create({ model: MODEL, input: 'hi', prompt: { id, variables: { who: 'A' } }, background: true });
    expect((await waitFor(() => a.responses.retrieve(bg.id), (x) => x.status === 'completed' || x.status === 'failed')).status).toBe('completed');
    await llamaA.prompts.delete(id);
    await notFound(llamaA.prompts.retrieve(id));
  });
}
