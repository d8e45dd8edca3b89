import { ApiError, createLogger } from '@rgw/shared';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { ChatChunk } from '../chat/chat-chunk.js';
import { planTools } from '../chat/chat-request.js';
import { newResponseObject } from '../response/response-object.js';
import { ToolRegistry } from '../tools/tool-registry.js';
import type { CreateResponseBody } from '../wire/create-response-schema.js';
import type { ResponseStreamEvent } from '../wire/response-types.js';
import { echoTool } from './engine-test-support.js';
import { generateResponse, type RunPlan } from './response-engine.js';
import { withSequenceNumbers } from './sequence.js';

const log = createLogger('test', 'silent');

/** Chunks, an error before any chunk, or chunks and then an error (the stream breaks mid-way). */
type Step = ChatChunk[] | ApiError | { chunks: ChatChunk[]; error: ApiError };

/** Fake upstream: one scripted chunk list (or error) per call; records the bodies it got. */
function fakeInference(steps: Step[]) {
  const bodies: Record<string, any>[] = [];
  return {
    bodies,
    inference: {
      async *chatCompletionStream<T>(body: Record<string, unknown>): AsyncGenerator<T> {
        bodies.push(structuredClone(body));
        const step = steps.shift();
        if (!step) throw new Error('no scripted step left');
        if (step instanceof ApiError) throw step;
        for (const c of Array.isArray(step) ? step : step.chunks) yield c as T;
        if (!Array.isArray(step)) throw step.error;
      },
    } as never,
  };
}

const text = (t: string, finish = 'stop'): ChatChunk[] => [{ choices: [{ index: 0, delta: { content: t }, finish_reason: finish }] }, { choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } }];
const call = (name: string, args: string, id = 'call_x'): ChatChunk[] => [
  { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id, function: { name, arguments: args } }] }, finish_reason: 'tool_calls' }] },
  { choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } },
];

function plan(body: Partial<CreateResponseBody>, registry = new ToolRegistry([echoTool])): RunPlan {
  const full = { model: 'm', ...body } as CreateResponseBody;
  return {
    response: newResponseObject('resp_t', full, 0, 'in_progress'),
    messages: [{ role: 'user', content: 'hi' }],
    params: { model: 'm' },
    tools: planTools(full, registry),
    parallelToolCalls: full.parallel_tool_calls ?? true,
    maxToolCalls: full.max_tool_calls ?? null,
    truncation: full.truncation ?? 'disabled',
    logprobs: false,
    include: [],
  };
}

async function run(p: RunPlan, steps: Step[], maxIterations?: number, throwBeforeOutput = false) {
  const fake = fakeInference(steps);
  const events: ResponseStreamEvent[] = [];
  const gen = withSequenceNumbers(generateResponse(p, { inference: fake.inference, log, maxIterations }, { signal: new AbortController().signal, throwBeforeOutput }));
  for await (const e of gen) events.push(e);
  return { events, bodies: fake.bodies, response: p.response };
}

describe('generateResponse: the tool loop', () => {
  it('runs a server tool between turns and feeds its result back', async () => {
    const { events, bodies, response } = await run(plan({ tools: [{ type: 'echo_tool' }] }), [call('echo_tool', '{"text":"abc"}', 'call_1'), text('Result: ABC')]);
    expect(response.status).toBe('completed');
    expect(response.output.map((o) => o.type)).toEqual(['echo_call', 'message']);
    expect(response.output[0]).toMatchObject({ call_id: 'call_1', result: 'ABC', status: 'completed' });
    expect(bodies[0]!.tools).toEqual([{ type: 'function', function: { name: 'echo_tool', description: 'Echoes', parameters: expect.any(Object) } }]);
    expect(bodies[1]!.messages.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'echo_tool', arguments: '{"text":"abc"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'ABC' },
    ]);
    // Usage adds up over both turns; sequence numbers run without gaps across them.
    expect(response.usage).toMatchObject({ input_tokens: 10, output_tokens: 4, total_tokens: 14 });
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.filter((e) => e.type === 'response.completed')).toHaveLength(1);
  });

  it('ends incomplete with max_iterations_exceeded when the model keeps calling tools', async () => {
    const steps = Array.from({ length: 3 }, () => call('echo_tool', '{"text":"again"}'));
    const { response, events } = await run(plan({ tools: [{ type: 'echo_tool' }] }), steps, 3);
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_iterations_exceeded' });
    expect(events.at(-1)!.type).toBe('response.incomplete');
  });

  it('stops offering server tools once max_tool_calls is used up', async () => {
    const { bodies, response } = await run(plan({ tools: [{ type: 'echo_tool' }], max_tool_calls: 1 }), [call('echo_tool', '{"text":"a"}'), text('done')]);
    expect(response.status).toBe('completed');
    expect(bodies[1]).not.toHaveProperty('tools');
  });

  it('hands client function calls back and ends the response', async () => {
    const fn = { type: 'function' as const, name: 'client_fn', parameters: {}, strict: false };
    const { response, bodies } = await run(plan({ tools: [fn, { type: 'echo_tool' }] }), [call('client_fn', '{}')]);
    expect(bodies).toHaveLength(1);
    expect(response.output).toEqual([expect.objectContaining({ type: 'function_call', name: 'client_fn', status: 'completed' })]);
  });

  it('ends with response.failed alone (no error event) when the model server fails mid-way', async () => {
    const { response, events } = await run(plan({ tools: [{ type: 'echo_tool' }] }), [call('echo_tool', '{"text":"a"}'), new ApiError(503, 'down')]);
    expect(response).toMatchObject({ status: 'failed', error: { code: 'server_error', message: 'down' } });
    expect(events.map((e) => e.type)).not.toContain('error');
    expect(events.at(-1)).toMatchObject({ type: 'response.failed', response: { status: 'failed', error: { code: 'server_error', message: 'down' } } });
  });

  it("lets the SDK's stream helper see response.failed after output started (foreground)", async () => {
    const partial: ChatChunk[] = [{ choices: [{ index: 0, delta: { content: 'half an ans' }, finish_reason: null }] }];
    const { events } = await run(plan({}), [{ chunks: partial, error: new ApiError(502, 'upstream went away') }], undefined, true);
    const sse = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
    // The official SDK reading these events as our SSE writer sends them.
    const client = new OpenAI({ apiKey: 'k', baseURL: 'http://sdk.test/v1', fetch: async () => new Response(sse, { headers: { 'content-type': 'text/event-stream' } }) });
    const helper = client.responses.stream({ model: 'm', input: 'hi' });
    const seen: string[] = [];
    helper.on('event', (e) => seen.push(e.type));
    const final = await helper.finalResponse();
    expect(seen.at(-1)).toBe('response.failed');
    expect(final).toMatchObject({ status: 'failed', error: { code: 'server_error', message: 'upstream went away' } });
    expect(final.output_text).toBe('half an ans');
  });

  it('rethrows an error before any output when asked to', async () => {
    await expect(run(plan({}), [new ApiError(400, 'nope')], undefined, true)).rejects.toThrow('nope');
  });

  it('drops the oldest context and retries on overflow with truncation auto', async () => {
    const p = plan({ truncation: 'auto' });
    p.messages = [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'old' },
      { role: 'assistant', content: 'old answer' },
      { role: 'user', content: 'new' },
    ];
    const overflow = new ApiError(400, "upstream: This model's maximum context length is 8 tokens");
    const { bodies, response } = await run(p, [overflow, overflow, text('ok')]);
    expect(response.status).toBe('completed');
    expect(bodies[2]!.messages.map((m: { content: string }) => m.content)).toEqual(['sys', 'new']);
  });
});

describe('generateResponse: events only collected (snapshots false)', () => {
  it('ends with the same Response and the same event types, the events carrying the live objects', async () => {
    const steps = () => [call('echo_tool', '{"text":"abc"}', 'call_1'), text('Result: ABC')];
    const copied = await run(plan({ tools: [{ type: 'echo_tool' }] }), steps());
    const live = plan({ tools: [{ type: 'echo_tool' }] });
    const fake = fakeInference(steps());
    const events: ResponseStreamEvent[] = [];
    for await (const e of withSequenceNumbers(generateResponse(live, { inference: fake.inference, log }, { signal: new AbortController().signal, throwBeforeOutput: false, snapshots: false }))) events.push(e);
    // The same but for the minted ids and clock readings.
    const comparable = (r: typeof live.response) => ({ ...r, created_at: 0, completed_at: 0, output: r.output.map((o) => ({ ...o, id: '' })) });
    expect(comparable(live.response)).toEqual(comparable(copied.response));
    expect(events.map((e) => [e.type, e.sequence_number])).toEqual(copied.events.map((e) => [e.type, e.sequence_number]));
    expect(events.find((e) => e.type === 'response.completed')!.response).toBe(live.response);
    expect(copied.events.find((e) => e.type === 'response.completed')!.response).not.toBe(copied.response);
  });
});
