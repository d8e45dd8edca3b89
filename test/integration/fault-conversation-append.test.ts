import { APIError } from 'openai';
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signPrincipal } from '@rgw/shared';
import { openai, platforms } from '../support/context.js';
import { startFaultPlatform, type FaultPlatform } from '../support/fault-harness.js';
import { client, FAULT_ENV, faultModes, mock, sleep, waitFor } from '../support/fault-support.js';
import { authFetch, staticProjectOf, TEST_INTERNAL_TOKEN, TEST_KEY } from '../support/auth.js';

/**
 * The Conversations service dies while two responses of one conversation finish: both still say
 * `completed` (their appends wait in the responses service's outbox), a new turn is refused with a
 * 503 rather than run on a context that lacks them, and once the service is back the items land
 * exactly once, in order, without anyone resending anything. Distributed mode only: embedded runs
 * every service in one process (the outbox's unit tests cover it there).
 */
const MODEL = 'mock-model';
const modes = (await faultModes()).filter((m) => m === 'distributed');

async function drain(stream: AsyncIterable<{ type: string }>): Promise<string | undefined> {
  let last: string | undefined;
  for await (const event of stream) last = event.type;
  return last;
}

function textOf(item: unknown): string {
  const content = (item as { content?: { text?: string }[] }).content ?? [];
  return `${(item as { role?: string }).role}:${content.map((c) => c.text ?? '').join('')}`;
}

describe.each(modes)('fault: the conversations service fails during the append (%s)', (mode) => {
  let p: FaultPlatform;
  let c: OpenAI;

  beforeAll(async () => {
    p = await startFaultPlatform(mode, FAULT_ENV);
    c = client(p.baseURL);
  }, 120_000);

  afterAll(async () => {
    await p?.stop();
    await mock.reset();
  }, 60_000);

  beforeEach(() => mock.reset());

  it('keeps the responses completed and lands their items once, in order, when the service is back', async () => {
    const conv = await c.conversations.create();
    const slow = (text: string, words: number) => ({ type: 'text' as const, text, chunks: Array.from({ length: words }, (_, i) => (i === 0 ? text : '')), delayMs: 50 });
    await mock.enqueue(slow('answer A', 30), slow('answer B', 50));
    const a = await c.responses.create({ model: MODEL, input: 'question A', conversation: conv.id, stream: true });
    await sleep(300);
    const b = await c.responses.create({ model: MODEL, input: 'question B', conversation: conv.id, stream: true });
    await sleep(300);
    await p.conversations!.crash();

    // Both end completed: what they owe the conversation is durable in the outbox.
    expect(await Promise.all([drain(a), drain(b)])).toEqual(['response.completed', 'response.completed']);

    // A new turn cannot run on a context that lacks them: 503 in the envelope (retryable).
    const refused = await c.responses.create({ model: MODEL, input: 'question C', conversation: conv.id }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(APIError);
    expect((refused as APIError).status).toBe(503);
    expect((refused as APIError).code).toBe('conversation_append_pending');

    await p.conversations!.restart();
    const items = await waitFor(
      () => c.conversations.items.list(conv.id, { order: 'asc', limit: 100 }),
      (page) => Array.isArray((page as { data?: unknown[] }).data) && (page as { data: unknown[] }).data.length >= 4,
      20_000,
      'outbox delivered after the conversations service came back',
    );
    await sleep(1_500); // a duplicate delivery would show up by now
    const again = await c.conversations.items.list(conv.id, { order: 'asc', limit: 100 });
    expect(again.data.map(textOf)).toEqual(['user:question A', 'assistant:answer A', 'user:question B', 'assistant:answer B']);
    expect(items.data.length).toBe(4);

    // The next turn runs on the whole context.
    await mock.enqueue({ type: 'text', text: 'answer C' });
    const next = await c.responses.create({ model: MODEL, input: 'question C', conversation: conv.id });
    expect(next.status).toBe('completed');
    const [call] = (await mock.requests('/v1/chat/completions')).slice(-1);
    expect(call!.body.messages.map((m: { role: string; content: string }) => `${m.role}:${m.content}`)).toEqual([
      'user:question A',
      'assistant:answer A',
      'user:question B',
      'assistant:answer B',
      'user:question C',
    ]);
  }, 120_000);
});

describe.each(platforms)('conversations: the internal idempotent append ($mode)', (p) => {
  it('skips items already in the conversation with the header, and still refuses a duplicate without it', async () => {
    const conv = await openai(p).conversations.create();
    const item = (id: string, text: string) => ({ id, type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
    const post = (items: unknown[], headers: Record<string, string> = {}) =>
      authFetch(`${p.baseURL}/conversations/${conv.id}/items`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ items }) });
    const a = item('msg_' + 'a'.repeat(48), 'a');
    const b = item('msg_' + 'b'.repeat(48), 'b');
    expect((await post([a])).status).toBe(200);
    const refused = await post([a, b]);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('duplicate_item');
    // The header is internal: from a client it is dropped at the gateway; signed as our services sign it, it counts.
    expect((await post([a, b], { 'x-rgw-idempotent-append': 'true' })).status).toBe(400);
    const internal = { ...signPrincipal({ projectId: staticProjectOf(TEST_KEY) }, TEST_INTERNAL_TOKEN), 'x-rgw-idempotent-append': 'true' };
    expect((await post([a, b], internal)).status).toBe(200);
    expect((await post([a, b], internal)).status).toBe(200);
    const listed = await openai(p).conversations.items.list(conv.id, { order: 'asc' });
    expect(listed.data.map((i) => i.id)).toEqual([a.id, b.id]);
  });
});
