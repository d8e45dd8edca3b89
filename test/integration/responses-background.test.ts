import { BadRequestError, ConflictError, NotFoundError } from 'openai';
import type { Response as OpenAIResponse, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { beforeEach, describe, expect, it } from 'vitest';
import { mock, openai, platforms } from '../support/context.js';
import { errorOf } from '../support/errors.js';
import { waitFor } from '../support/wait.js';

const CHAT = '/v1/chat/completions';


describe.each(platforms)('responses: background ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it('queues, returns at once, and completes in the background', async () => {
    await mock.enqueue({ type: 'text', text: 'done in the background', delayMs: 20 });
    const r = await client.responses.create({ model: 'mock-model', input: 'work', background: true });
    expect(r).toMatchObject({ status: 'queued', background: true, output: [], usage: null });
    const done = await waitFor(() => client.responses.retrieve(r.id), (x) => x.status === 'completed');
    expect(done.output_text).toBe('done in the background');
    expect(done.usage?.total_tokens).toBe(18);
    expect(done.background).toBe(true);
  });

  it('rejects background with store:false', async () => {
    const err = await client.responses.create({ model: 'mock-model', input: 'x', background: true, store: false }).catch((e) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.param).toBe('background');
  });

  it('cancels a running background response and stops its upstream call', async () => {
    await mock.enqueue({ type: 'hang' });
    const r = await client.responses.create({ model: 'mock-model', input: 'never ends', background: true });
    await waitFor(() => mock.requests('/v1/chat/completions'), (reqs) => reqs.length === 1);
    const cancelled = await client.responses.cancel(r.id);
    expect(cancelled).toMatchObject({ id: r.id, status: 'cancelled', background: true });
    await waitFor(() => mock.abortedCount(), (n) => n === 1);
    expect((await client.responses.retrieve(r.id)).status).toBe('cancelled');
    // Cancelling again is idempotent.
    expect((await client.responses.cancel(r.id)).status).toBe('cancelled');
  });

  it('answers cancel of a finished (409), foreground (400) and unknown (404) response', async () => {
    const bg = await client.responses.create({ model: 'mock-model', input: 'quick', background: true });
    await waitFor(() => client.responses.retrieve(bg.id), (x) => x.status === 'completed');
    const conflict = await client.responses.cancel(bg.id).catch((e) => e);
    expect(conflict).toBeInstanceOf(ConflictError);
    // Retrying cannot change the answer: the SDK (which retries a 409 by default) is told not to.
    expect(new Headers(conflict.headers).get('x-should-retry')).toBe('false');
    const fg = await client.responses.create({ model: 'mock-model', input: 'fg' });
    await expect(client.responses.cancel(fg.id)).rejects.toBeInstanceOf(BadRequestError);
    await expect(client.responses.cancel('resp_unknown')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('streams a background response live, and resumes after a disconnect without gaps', async () => {
    const words = Array.from({ length: 30 }, (_, i) => `w${i} `);
    await mock.enqueue({ type: 'text', text: words.join(''), chunks: words, delayMs: 30 });
    const controller = new AbortController();
    const stream = await client.responses.create({ model: 'mock-model', input: 'long', background: true, stream: true }, { signal: controller.signal });
    const seen: ResponseStreamEvent[] = [];
    for await (const e of stream) {
      seen.push(e);
      if (seen.length === 6) break;
    }
    controller.abort();
    expect(seen.map((e) => e.sequence_number)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen[0]).toMatchObject({ type: 'response.created', response: { status: 'queued', background: true } });
    expect(seen[1]).toMatchObject({ type: 'response.queued', response: { status: 'queued' } });
    expect(seen[2]).toMatchObject({ type: 'response.in_progress' });
    const id = (seen[0] as { response: OpenAIResponse }).response.id;
    const last = seen.at(-1)!.sequence_number;

    const resumed: ResponseStreamEvent[] = [];
    for await (const e of await client.responses.retrieve(id, { stream: true, starting_after: last })) resumed.push(e);
    expect(resumed.map((e) => e.sequence_number)).toEqual(resumed.map((_, i) => last + 1 + i));
    expect(resumed.at(-1)!.type).toBe('response.completed');
    const text = [...seen, ...resumed].filter((e) => e.type === 'response.output_text.delta').map((e) => (e as { delta: string }).delta).join('');
    expect(text).toBe(words.join(''));
    // The whole stream can be replayed from the start, and the run finished despite the disconnect.
    const replay: ResponseStreamEvent[] = [];
    for await (const e of await client.responses.retrieve(id, { stream: true })) replay.push(e);
    expect(replay.map((e) => e.sequence_number)).toEqual(replay.map((_, i) => i));
    expect((await client.responses.retrieve(id)).status).toBe('completed');
  });

  it('follows a background response with the SDK stream helper by response_id', async () => {
    await mock.enqueue({ type: 'text', text: 'helper output here', delayMs: 10 });
    const bg = await client.responses.create({ model: 'mock-model', input: 'helper', background: true });
    const stream = client.responses.stream({ response_id: bg.id });
    const final = await stream.finalResponse();
    expect(final).toMatchObject({ id: bg.id, status: 'completed', output_text: 'helper output here' });
  });

  it('shows progress of a running background response on retrieve', async () => {
    await mock.enqueue({ type: 'text', text: 'a b c d e f g h', delayMs: 60 });
    const r = await client.responses.create({ model: 'mock-model', input: 'progress', background: true });
    const running = await waitFor(() => client.responses.retrieve(r.id), (x) => x.status === 'in_progress');
    expect(running.output).toEqual([]);
    await waitFor(() => client.responses.retrieve(r.id), (x) => x.status === 'completed');
  });

  it('refuses to stream a foreground response by id', async () => {
    const fg = await client.responses.create({ model: 'mock-model', input: 'fg' });
    const err = await client.responses.retrieve(fg.id, { stream: true }).then(async (s) => {
      for await (const _ of s);
    }).catch((e) => e);
    expect(err).toBeInstanceOf(BadRequestError);
  });

  it('continues a chain from a finished background response', async () => {
    const bg = await client.responses.create({ model: 'mock-model', input: 'bg question', background: true });
    await waitFor(() => client.responses.retrieve(bg.id), (x) => x.status === 'completed');
    await client.responses.create({ model: 'mock-model', input: 'follow-up', previous_response_id: bg.id });
    const reqs = await mock.requests('/v1/chat/completions');
    expect(reqs[1]!.body.messages.map((m: { content: string }) => m.content)).toEqual(['bg question', 'echo: bg question', 'follow-up']);
  });
});

describe.each(platforms)('responses: lifecycle through the SDK stream helper ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it('a background run whose model call fails: the stream helper sees response.failed, finalResponse is the failed Response', async () => {
    await mock.enqueue({ type: 'error', status: 500, body: { error: { message: 'model crashed' } } });
    const r = await client.responses.create({ model: 'mock-model', input: 'x', background: true });
    await waitFor(() => client.responses.retrieve(r.id), (x) => x.status === 'failed');
    const helper = client.responses.stream({ response_id: r.id });
    const types: string[] = [];
    for await (const e of helper) types.push(e.type);
    expect(types).toEqual(['response.created', 'response.queued', 'response.in_progress', 'response.failed']);
    const final = await helper.finalResponse();
    expect(final).toMatchObject({ id: r.id, status: 'failed', error: { code: 'server_error' } });
  });

  it('background + stream starts with response.created and response.queued from the stored response', async () => {
    await mock.enqueue({ type: 'text', text: 'queued then done' });
    const stream = await client.responses.create({ model: 'mock-model', input: 'q', background: true, stream: true });
    const seen: ResponseStreamEvent[] = [];
    for await (const e of stream) seen.push(e);
    expect(seen.slice(0, 3).map((e) => e.type)).toEqual(['response.created', 'response.queued', 'response.in_progress']);
    expect(seen[0]).toMatchObject({ sequence_number: 0, response: { status: 'queued' } });
    expect(seen.map((e) => e.sequence_number)).toEqual(seen.map((_, i) => i));
    expect(seen.at(-1)).toMatchObject({ type: 'response.completed', response: { status: 'completed' } });
  });

  it('following a cancelled background response ends cleanly (no throw) with what was stored', async () => {
    await mock.enqueue({ type: 'hang' });
    const r = await client.responses.create({ model: 'mock-model', input: 'never ends', background: true });
    await waitFor(() => mock.requests(CHAT), (reqs) => reqs.length === 1);
    await client.responses.cancel(r.id);
    const helper = client.responses.stream({ response_id: r.id });
    const types: string[] = [];
    for await (const e of helper) types.push(e.type);
    expect(types).toEqual(['response.created', 'response.queued', 'response.in_progress']);
    const final = await helper.finalResponse();
    expect(final.id).toBe(r.id);
    expect((await client.responses.retrieve(r.id)).status).toBe('cancelled');
  });

  it('deleting a running background response stops its model call', async () => {
    await mock.enqueue({ type: 'hang' });
    const r = await client.responses.create({ model: 'mock-model', input: 'never ends', background: true });
    await waitFor(() => mock.requests(CHAT), (reqs) => reqs.length === 1);
    await client.responses.delete(r.id);
    await waitFor(() => mock.abortedCount(), (n) => n === 1);
    expect(await errorOf(client.responses.retrieve(r.id))).toBeInstanceOf(NotFoundError);
  });

  it('a foreground stream the client leaves is stored cancelled, its open message incomplete', async () => {
    const words = Array.from({ length: 20 }, (_, i) => `w${i} `);
    await mock.enqueue({ type: 'text', text: words.join(''), chunks: words, delayMs: 40 });
    const controller = new AbortController();
    const stream = await client.responses.create({ model: 'mock-model', input: 'long', stream: true }, { signal: controller.signal });
    let id = '';
    for await (const e of stream) {
      if (e.type === 'response.created') id = e.response.id;
      if (e.type === 'response.output_text.delta') break;
    }
    controller.abort();
    const stored = await waitFor(() => client.responses.retrieve(id).catch(() => null), (x) => x?.status === 'cancelled');
    expect(stored!.output).toEqual([expect.objectContaining({ type: 'message', status: 'incomplete' })]);
  });

  it('checks a background request like a foreground one: an input item already in the conversation is a 400', async () => {
    const conv = await client.conversations.create();
    const first = await client.responses.create({ model: 'mock-model', input: 'hello', conversation: conv.id });
    await mock.reset();
    const err = await errorOf(client.responses.create({ model: 'mock-model', conversation: conv.id, input: [first.output[0] as any], background: true }));
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.param).toBe('input[0].id');
    expect(await mock.requests(CHAT)).toHaveLength(0);
  });
});

describe.each(platforms)('responses: list cursors ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it('honours before (and after), and answers an unknown cursor with 404 naming it', async () => {
    const model = `mock-model`;
    const metadata = { run: `cursor-${Date.now()}` };
    const made = [];
    for (const input of ['a', 'b', 'c']) made.push(await client.responses.create({ model, input, metadata }));
    const [a, b, c] = made.map((r) => r.id);
    const list = (query: Record<string, unknown>) => client.get('/responses', { query }) as Promise<{ data: { id: string }[] }>;
    expect((await list({ before: a, order: 'desc', limit: 100 })).data.map((r) => r.id).slice(0, 2)).toEqual([c, b]);
    expect((await list({ before: c, order: 'asc', limit: 100 })).data.map((r) => r.id).slice(-2)).toEqual([a, b]);
    expect((await list({ after: c, before: a, order: 'desc' })).data.map((r) => r.id)).toEqual([b]);
    const unknownAfter = await errorOf(list({ after: 'resp_nope' }));
    expect([unknownAfter.status, unknownAfter.param]).toEqual([404, 'after']);
    const unknownBefore = await errorOf(list({ before: 'resp_nope' }));
    expect([unknownBefore.status, unknownBefore.param]).toEqual([404, 'before']);
  });
});
