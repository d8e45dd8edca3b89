import type OpenAI from 'openai';
import type { Response as OpenAIResponse } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFaultPlatform, type FaultPlatform } from '../support/fault-harness.js';
import { client, FAULT_ENV, faultModes, mock, sleep, slowReply, TERMINAL, waitFor } from '../support/fault-support.js';

/**
 * kill -9 of the process running responses while background, streaming, non-streaming and
 * conversation-bound responses run; restarted at once (the redelivered jobs find leases still
 * held by the dead process) and after 12 s (past the old 10 s heartbeat window). Every response the
 * client was told about must be readable and end, `GET ?stream=true` must end, and the conversation
 * must hold each completed turn exactly once.
 */
const MODEL = 'mock-model';
/** Lease 8 s + sweep 1 s, with room for a loaded machine. */
const TERMINAL_BOUND_MS = 25_000;

/**
 * Reads a stream until its output has begun, then keeps draining it in the background (it dies with
 * the process). `abort` gives up on it: through the distributed gateway a proxied stream whose
 * service died is not always ended (a gateway matter, not this suite's).
 */
async function startStream(c: OpenAI, body: Record<string, unknown>): Promise<{ id: string; drained: Promise<unknown>; abort: () => void }> {
  const controller = new AbortController();
  const stream = (await c.responses.create({ model: MODEL, stream: true, ...body } as never, { signal: controller.signal })) as unknown as AsyncIterable<{ type: string; response?: OpenAIResponse }>;
  const it = stream[Symbol.asyncIterator]();
  let id: string | undefined;
  let deltas = 0;
  while (deltas < 3) {
    const step = await it.next();
    if (step.done) throw new Error('stream ended before the crash');
    if (step.value.type === 'response.created') id = step.value.response!.id;
    if (step.value.type === 'response.output_text.delta') deltas++;
  }
  const drained = (async () => {
    for (;;) if ((await it.next()).done) return;
  })().catch((e: unknown) => e);
  return { id: id!, drained, abort: () => controller.abort() };
}

/** Follows a background response with GET ?stream=true to its end; the last event type. */
async function followToEnd(c: OpenAI, id: string): Promise<string | undefined> {
  let last: string | undefined;
  const stream = (await c.responses.retrieve(id, { stream: true })) as unknown as AsyncIterable<{ type: string }>;
  for await (const event of stream) last = event.type;
  return last;
}

async function listResponses(baseURL: string): Promise<OpenAIResponse[]> {
  return ((await (await fetch(`${baseURL}/responses?limit=100`)).json()) as { data: OpenAIResponse[] }).data;
}

const figures: Record<string, unknown>[] = [];

describe.each(await faultModes())('fault: crash of the responses process (%s)', (mode) => {
  let p: FaultPlatform;
  let c: OpenAI;

  beforeAll(async () => {
    // A lease longer than a restart takes: the redelivered jobs of the fast restart find it still held.
    p = await startFaultPlatform(mode, { ...FAULT_ENV, RESPONSE_LEASE_MS: '8000' });
    c = client(p.baseURL);
  }, 120_000);

  afterAll(async () => {
    await p?.stop();
    await mock.reset();
    console.log(`fault figures: ${JSON.stringify(figures)}`);
  }, 60_000);

  beforeEach(() => mock.reset());

  it.each([
    ['at once', 0],
    ['after 12 s', 12_000],
  ])('ends every interrupted response, restarted %s', async (label, restartDelayMs) => {
    const earlier = new Set((await listResponses(p.baseURL)).map((r) => r.id));
    const conv = await c.conversations.create();
    await mock.enqueue({ type: 'text', text: 'before the crash' });
    const before = await c.responses.create({ model: MODEL, input: 'first question', conversation: conv.id });
    expect(before.status).toBe('completed');

    // Every upstream call from here on streams for much longer than the test waits.
    await mock.enqueue(...Array.from({ length: 8 }, () => slowReply(30)));
    const background = await Promise.all(['bg one', 'bg two'].map((input) => c.responses.create({ model: MODEL, input, background: true })));
    const bgInConversation = await c.responses.create({ model: MODEL, input: 'bg in conversation', background: true, conversation: conv.id });
    const streamed = await startStream(c, { input: 'streamed' });
    const streamedInConversation = await startStream(c, { input: 'streamed in conversation', conversation: conv.id });
    // A non-streaming request: the client never learns its id, but its row must not stay in progress either.
    const blockingAbort = new AbortController();
    const blocking = c.responses.create({ model: MODEL, input: 'blocking' }, { signal: blockingAbort.signal }).catch((e: unknown) => e);
    const ids = [...background, bgInConversation].map((r) => r.id);
    await waitFor(() => Promise.all(ids.map((id) => c.responses.retrieve(id))), (rs) => Array.isArray(rs) && rs.every((r) => r.status === 'in_progress'), 10_000, 'background runs started');
    // Long enough for the streams' reasoning items (done when the text began) to be saved.
    await sleep(1_500);

    await p.crash();
    const crashedAt = Date.now();
    await Promise.race([Promise.all([streamed.drained, streamedInConversation.drained, blocking]), sleep(3_000)]);
    for (const s of [streamed, streamedInConversation]) s.abort();
    blockingAbort.abort();
    await sleep(restartDelayMs);
    await p.restart();
    const restartedAt = Date.now();
    const downMs = restartedAt - crashedAt;

    const all = [...ids, streamed.id, streamedInConversation.id];
    // Followers started now must end, with the stored terminal event.
    const followers = Promise.all(ids.map((id) => followToEnd(c, id)));
    const ended = await waitFor(
      () => Promise.all(all.map((id) => c.responses.retrieve(id))),
      (rs) => Array.isArray(rs) && rs.every((r) => TERMINAL.has(r.status!)),
      TERMINAL_BOUND_MS,
      'every interrupted response terminal',
    );
    const toTerminalMs = Date.now() - restartedAt;
    expect(await followers).toEqual(ids.map(() => 'response.failed'));

    for (const r of ended) expect(r).toMatchObject({ status: 'failed', error: { code: 'server_error' } });
    // The streamed ones kept what they had completed before the crash.
    for (const id of [streamed.id, streamedInConversation.id]) {
      const r = ended.find((x) => x.id === id)!;
      expect(r.output.map((o) => o.type)).toContain('reasoning');
    }
    // Nothing anywhere is left queued or in progress (the non-streaming one included). Its lease was
    // taken a moment after the others', so a sweep tick later may end it: wait within the same bound.
    const interrupted = async () => (await listResponses(p.baseURL)).filter((r) => !earlier.has(r.id) && r.id !== before.id);
    const listed = await waitFor(interrupted, (rs) => rs.length === all.length + 1 && rs.every((r) => TERMINAL.has(r.status!)), TERMINAL_BOUND_MS, 'every listed response terminal').catch(() => interrupted());
    const stuck = listed.filter((r) => !TERMINAL.has(r.status!));
    expect(stuck).toEqual([]);
    expect(listed.length).toBe(all.length + 1);
    // The conversation holds the completed turn exactly once, and nothing of the interrupted ones.
    const items = await c.conversations.items.list(conv.id, { order: 'asc' });
    expect(items.data.map((i) => (i as { role?: string }).role)).toEqual(['user', 'assistant']);
    expect((await c.responses.retrieve(before.id)).status).toBe('completed');

    figures.push({ mode, restart: label, interrupted: listed.length, terminal: listed.length - stuck.length, stuck: stuck.length, downMs, toTerminalMs });
  }, 120_000);
});
