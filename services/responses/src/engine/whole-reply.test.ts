import { ApiError, createLogger } from '@rgw/shared';
import { describe, expect, it } from 'vitest';
import type { ChatChunk, ChatCompletion } from '../chat/chat-chunk.js';
import { planTools } from '../chat/chat-request.js';
import { newResponseObject } from '../response/response-object.js';
import { ToolRegistry } from '../tools/tool-registry.js';
import type { CreateResponseBody } from '../wire/create-response-schema.js';
import { echoTool } from './engine-test-support.js';
import { generateResponse, type RunPlan } from './response-engine.js';

// A collected (non-streaming) response asks the model for whole replies (streamUpstream: false).
// Whatever the reply, the Response must be the one the same reply streamed would have built.

const log = createLogger('test', 'silent');

type Message = NonNullable<NonNullable<ChatCompletion['choices']>[number]['message']>;
type Logprobs = { token: string; logprob: number; bytes: number[]; top_logprobs: { token: string; logprob: number; bytes: null }[] }[];

const usage = { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8, completion_tokens_details: { reasoning_tokens: 1 } };
const reply = (message: Message, finish = 'stop', logprobs?: Logprobs): ChatCompletion => ({ choices: [{ index: 0, message, finish_reason: finish, logprobs: logprobs ? { content: logprobs } : null }], usage });

/** The chunks a server streams for `reply`: role, reasoning, refusal, content word by word, calls in halves, finish, usage. */
function streamed(r: ChatCompletion): ChatChunk[] {
  const c = r.choices![0]!;
  const m = c.message!;
  const chunk = (delta: object, extra: object = {}): ChatChunk => ({ choices: [{ index: 0, delta, finish_reason: null, ...extra }] });
  const chunks = [chunk({ role: 'assistant', content: '' })];
  if (m.reasoning_content) chunks.push(chunk({ reasoning_content: m.reasoning_content }));
  if (m.refusal) chunks.push(chunk({ refusal: m.refusal }));
  const words = m.content?.split(/(?<= )/) ?? [];
  words.forEach((w, i) => chunks.push(chunk({ content: w }, c.logprobs?.content ? { logprobs: { content: [c.logprobs.content[i]] } } : {})));
  for (const [index, tc] of (m.tool_calls ?? []).entries()) {
    const args = tc.function!.arguments!;
    chunks.push(chunk({ tool_calls: [{ index, id: tc.id, type: 'function', function: { name: tc.function!.name, arguments: args.slice(0, 3) } }] }));
    chunks.push(chunk({ tool_calls: [{ index, function: { arguments: args.slice(3) } }] }));
  }
  chunks.push({ choices: [{ index: 0, delta: {}, finish_reason: c.finish_reason }] }, { choices: [], usage: r.usage });
  return chunks;
}

/** Fake upstream answering each call from the same script, whole or streamed; records the bodies. */
function fakeInference(steps: (ChatCompletion | ApiError)[]) {
  const bodies: Record<string, unknown>[] = [];
  const next = (body: Record<string, unknown>) => {
    bodies.push(structuredClone(body));
    const step = steps.shift();
    if (!step) throw new Error('no scripted step left');
    if (step instanceof ApiError) throw step;
    return step;
  };
  return {
    bodies,
    inference: {
      async chatCompletion<T>(body: Record<string, unknown>): Promise<T> {
        return next(body) as T;
      },
      async *chatCompletionStream<T>(body: Record<string, unknown>): AsyncGenerator<T> {
        for (const c of streamed(next(body))) yield c as T;
      },
    },
  };
}

function plan(body: Partial<CreateResponseBody>, logprobs = false): RunPlan {
  const full = { model: 'm', ...body } as CreateResponseBody;
  return {
    response: newResponseObject('resp_t', full, 0, 'in_progress'),
    messages: [{ role: 'user', content: 'hi' }],
    params: { model: 'm' },
    tools: planTools(full, new ToolRegistry([echoTool])),
    parallelToolCalls: full.parallel_tool_calls ?? true,
    maxToolCalls: full.max_tool_calls ?? null,
    truncation: full.truncation ?? 'disabled',
    logprobs,
    include: [],
  };
}

/** The final Response with its minted ids and clock readings replaced by their shapes. */
function comparable(response: unknown): unknown {
  return JSON.parse(JSON.stringify(response), (key, value) => {
    if (key === 'completed_at' && typeof value === 'number') return 'time';
    if ((key === 'id' || key === 'call_id') && typeof value === 'string') return value.replace(/^([a-z]+_)[A-Za-z0-9]+$/, '$1…');
    return value;
  });
}

async function both(body: Partial<CreateResponseBody>, steps: () => (ChatCompletion | ApiError)[], opts: { logprobs?: boolean; throwBeforeOutput?: boolean } = {}) {
  const results = [];
  for (const streamUpstream of [true, false]) {
    const p = plan(body, opts.logprobs);
    const fake = fakeInference(steps());
    let thrown: unknown;
    try {
      for await (const _ of generateResponse(p, { inference: fake.inference, log }, { signal: new AbortController().signal, throwBeforeOutput: opts.throwBeforeOutput ?? false, snapshots: false, streamUpstream }));
    } catch (err) {
      thrown = err;
    }
    results.push({ response: comparable(p.response), thrown, bodies: fake.bodies });
  }
  const [stream, whole] = results;
  expect(whole!.response).toEqual(stream!.response);
  expect(whole!.thrown).toEqual(stream!.thrown);
  return { stream: stream!, whole: whole! };
}

describe('generateResponse with whole replies (streamUpstream false)', () => {
  it('builds the same Response as the streamed reply: text', async () => {
    const { whole, stream } = await both({}, () => [reply({ role: 'assistant', content: 'Hello there, world.' })]);
    expect(whole.response).toMatchObject({ status: 'completed', output: [{ type: 'message', content: [{ type: 'output_text', text: 'Hello there, world.' }] }], usage: { input_tokens: 5, output_tokens: 3 } });
    expect(stream.bodies[0]).toMatchObject({ stream_options: { include_usage: true } });
    expect(whole.bodies[0]).not.toHaveProperty('stream_options');
  });

  it('reasoning, then text', async () => {
    const { whole } = await both({}, () => [reply({ role: 'assistant', reasoning_content: 'Think.', content: 'Answer.' })]);
    expect((whole.response as { output: { type: string }[] }).output.map((i) => i.type)).toEqual(['reasoning', 'message']);
  });

  it('a refusal', async () => {
    await both({}, () => [reply({ role: 'assistant', refusal: 'No.', content: null })]);
  });

  it('function calls for the client, after some text', async () => {
    const calls = [
      { id: 'call_a', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
      { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET"}' } },
    ];
    const tools = [
      { type: 'function', name: 'get_weather', parameters: { type: 'object' } },
      { type: 'function', name: 'get_time', parameters: { type: 'object' } },
    ] as CreateResponseBody['tools'];
    const { whole } = await both({ tools }, () => [reply({ role: 'assistant', content: 'Checking.', tool_calls: calls }, 'tool_calls')]);
    expect((whole.response as { output: { type: string }[] }).output.map((i) => i.type)).toEqual(['message', 'function_call', 'function_call']);
  });

  it('only the first call without parallel tool calls', async () => {
    const calls = [
      { id: 'call_a', type: 'function', function: { name: 'f', arguments: '{}' } },
      { id: 'call_b', type: 'function', function: { name: 'f', arguments: '{"x":1}' } },
    ];
    await both({ tools: [{ type: 'function', name: 'f', parameters: { type: 'object' } }] as CreateResponseBody['tools'], parallel_tool_calls: false }, () => [reply({ role: 'assistant', content: null, tool_calls: calls }, 'tool_calls')]);
  });

  it('a reply cut by the length limit (incomplete)', async () => {
    const { whole } = await both({}, () => [reply({ role: 'assistant', content: 'Cut sho' }, 'length')]);
    expect(whole.response).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
  });

  it('logprobs', async () => {
    const lp = (token: string) => ({ token, logprob: -0.5, bytes: [...Buffer.from(token)], top_logprobs: [{ token: `${token}#0`, logprob: -1, bytes: null }] });
    const { whole } = await both({}, () => [reply({ role: 'assistant', content: 'a b' }, 'stop', [lp('a '), lp('b')])], { logprobs: true });
    expect(JSON.stringify(whole.response)).toContain('"top_logprobs":[{"token":"a #0"');
  });

  it('the server tool loop', async () => {
    const call = { id: 'call_e', type: 'function', function: { name: 'echo_tool', arguments: '{"text":"hey"}' } };
    const { whole } = await both({ tools: [{ type: 'echo_tool' }] as unknown as CreateResponseBody['tools'] }, () => [
      reply({ role: 'assistant', content: null, tool_calls: [call] }, 'tool_calls'),
      reply({ role: 'assistant', content: 'Echoed HEY.' }),
    ]);
    expect((whole.response as { output: { type: string }[] }).output.map((i) => i.type)).toEqual(['echo_call', 'message']);
    expect(whole.bodies[1]!.messages).toEqual(expect.arrayContaining([{ role: 'tool', tool_call_id: 'call_e', content: 'HEY' }]));
  });

  it('an upstream error: thrown before any output, or the same failed Response', async () => {
    const error = () => [new ApiError(429, 'slow down', { code: 'rate_limit_exceeded' })];
    const { whole } = await both({}, error, { throwBeforeOutput: true });
    expect(whole.thrown).toBeInstanceOf(ApiError);
    const failed = await both({}, error);
    expect(failed.whole.response).toMatchObject({ status: 'failed', error: { code: 'rate_limit_exceeded', message: 'slow down' } });
  });
});
