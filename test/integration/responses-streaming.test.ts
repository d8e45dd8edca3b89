import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { beforeEach, describe, expect, it } from 'vitest';
import { mock, openai, platforms } from '../support/context.js';

async function collect(stream: AsyncIterable<ResponseStreamEvent>): Promise<ResponseStreamEvent[]> {
  const events: ResponseStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

/** Sequence numbers from 0 without gaps. */
function expectNumbered(events: { sequence_number: number }[]): void {
  expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
}

describe.each(platforms)('responses: streaming ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it('emits the OpenAI event sequence for a text answer, event by event', async () => {
    await mock.enqueue({ type: 'text', text: 'Hi there', chunks: ['Hi', ' there'] });
    const events = await collect(await client.responses.create({ model: 'mock-model', input: 'hello', stream: true }));
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expectNumbered(events);
    const [created, inProgress, added, partAdded, d1, d2, textDone, partDone, itemDone, completed] = events as any[];
    expect(created.response).toMatchObject({ status: 'in_progress', output: [] });
    expect(inProgress.response.status).toBe('in_progress');
    const itemId = added.item.id;
    expect(added).toMatchObject({ output_index: 0, item: { type: 'message', status: 'in_progress', role: 'assistant', content: [] } });
    expect(partAdded).toMatchObject({ item_id: itemId, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    expect(d1).toMatchObject({ item_id: itemId, output_index: 0, content_index: 0, delta: 'Hi' });
    expect(d2).toMatchObject({ item_id: itemId, delta: ' there' });
    expect(textDone).toMatchObject({ item_id: itemId, text: 'Hi there' });
    expect(partDone).toMatchObject({ item_id: itemId, part: { type: 'output_text', text: 'Hi there' } });
    expect(itemDone).toMatchObject({ output_index: 0, item: { id: itemId, status: 'completed', content: [{ type: 'output_text', text: 'Hi there' }] } });
    expect(completed.response).toMatchObject({ id: created.response.id, status: 'completed', output: [{ id: itemId }] });
    expect(completed.response.usage.total_tokens).toBe(18);
  });

  it('works with the SDK stream helper and finalResponse()', async () => {
    await mock.enqueue({ type: 'text', text: 'streamed answer here' });
    const stream = client.responses.stream({ model: 'mock-model', input: 'hello' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe('streamed answer here');
    expect(deltas.join('')).toBe('streamed answer here');
  });

  it('streams reasoning, then text, with consistent indexes', async () => {
    await mock.enqueue({ type: 'text', text: 'Four.', reasoning: 'add them' });
    const events = await collect(await client.responses.create({ model: 'mock-model', input: '2+2', stream: true }));
    expectNumbered(events);
    const types = events.map((e) => e.type);
    expect(types.slice(2, 8)).toEqual([
      'response.output_item.added',
      'response.content_part.added',
      'response.reasoning_text.delta',
      'response.reasoning_text.done',
      'response.content_part.done',
      'response.output_item.done',
    ]);
    const messageAdded = events.find((e) => e.type === 'response.output_item.added' && e.item.type === 'message') as any;
    expect(messageAdded.output_index).toBe(1);
    for (const e of events as any[]) if (e.type === 'response.output_text.delta') expect(e).toMatchObject({ item_id: messageAdded.item.id, output_index: 1, content_index: 0 });
  });

  it('streams refusals with refusal events', async () => {
    await mock.enqueue({ type: 'text', text: '', chunks: [], refusal: 'No.' });
    const stream = client.responses.stream({ model: 'mock-model', input: 'x' });
    const events = await collect(stream);
    expect(events.map((e) => e.type)).toContain('response.refusal.delta');
    expect(events.find((e) => e.type === 'response.refusal.done')).toMatchObject({ refusal: 'No.' });
    expect((await stream.finalResponse()).output[0]).toMatchObject({ content: [{ type: 'refusal', refusal: 'No.' }] });
  });

  it('streams function calls with argument deltas', async () => {
    await mock.enqueue({ type: 'tool_calls', calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}', id: 'call_w1' }] });
    const events = await collect(
      await client.responses.create({
        model: 'mock-model',
        input: 'weather?',
        stream: true,
        tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false }],
      }),
    );
    expectNumbered(events);
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.delta',
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const added = events[2] as any;
    expect(added.item).toMatchObject({ type: 'function_call', status: 'in_progress', call_id: 'call_w1', name: 'get_weather', arguments: '' });
    expect(added.item.id).toMatch(/^fc_/);
    expect(events[5]).toMatchObject({ item_id: added.item.id, name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect((events[6] as any).item).toMatchObject({ status: 'completed', arguments: '{"city":"Paris"}' });
  });

  it('answers an upstream error before any output with an HTTP error, not a stream', async () => {
    await mock.enqueue({ type: 'error', status: 400, body: { error: { message: 'bad things', type: 'invalid_request_error' } } });
    const err = await client.responses.create({ model: 'mock-model', input: 'x', stream: true }).catch((e) => e);
    expect(err.status).toBe(400);
  });

  // In distributed mode this crosses the gateway's proxy, which must pass the disconnect on to the service.
  it('aborts the upstream request when the client goes away', async () => {
    await mock.enqueue({ type: 'hang' });
    const controller = new AbortController();
    const pending = client.responses.create({ model: 'mock-model', input: 'x', stream: true }, { signal: controller.signal });
    await waitFor(async () => (await mock.requests('/v1/chat/completions')).length === 1);
    controller.abort();
    await pending.catch(() => undefined);
    await waitFor(async () => (await mock.abortedCount()) === 1);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
