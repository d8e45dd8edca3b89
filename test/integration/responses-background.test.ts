import { BadRequestError, ConflictError, NotFoundError } from 'openai';
import type { Response as OpenAIResponse, ResponseStreamEvent } from 'openai/resources/responses/responses';
import { beforeEach, describe, expect, it } from 'vitest';
import { mock, openai, platforms } from '../support/context.js';

async function waitFor<T>(get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > until) throw new Error(`condition not met in time (last: ${JSON.stringify(v).slice(0, 300)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
    await expect(client.responses.cancel(bg.id)).rejects.toBeInstanceOf(ConflictError);
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
    expect(seen[1]).toMatchObject({ type: 'response.in_progress' });
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
