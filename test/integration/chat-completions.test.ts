import OpenAI, { BadRequestError, NotFoundError, RateLimitError } from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { mock, openai, platforms } from '../support/context.js';
import { authFetch } from '../support/auth.js';

const CHAT = '/v1/chat/completions';

describe.each(platforms)('chat completions ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it('answers a non-streaming completion with what the model server said', async () => {
    const completion = await client.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'hello there' }] });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]!.message.content).toBe('echo: hello there');
    expect(completion.usage?.total_tokens).toBe(18);
    const [sent] = await mock.requests(CHAT);
    expect(sent!.body.messages).toEqual([{ role: 'user', content: 'hello there' }]);
    expect(sent!.headers.authorization).toBe('Bearer mock-key');
  });

  it('streams chunks ending with usage when stream_options.include_usage is set', async () => {
    await mock.enqueue({ type: 'text', text: 'one two three', chunks: ['one ', 'two ', 'three'] });
    const stream = await client.chat.completions.create({
      model: 'mock-model',
      messages: [{ role: 'user', content: 'count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) deltas.push(chunk.choices[0].delta.content);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(deltas).toEqual(['one ', 'two ', 'three']);
    expect(usage?.prompt_tokens).toBe(11);
  });

  it('passes tools, tool_choice and response_format through and returns tool calls', async () => {
    await mock.enqueue({ type: 'tool_calls', calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}', id: 'call_w' }] });
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const completion = await client.chat.completions.create({
      model: 'mock-model',
      messages: [{ role: 'user', content: 'weather?' }],
      tools,
      tool_choice: 'required',
      response_format: { type: 'json_object' },
    });
    const call = completion.choices[0]!.message.tool_calls![0]!;
    expect(call).toMatchObject({ id: 'call_w', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } });
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    const [sent] = await mock.requests(CHAT);
    expect(sent!.body.tools).toEqual(tools);
    expect(sent!.body.tool_choice).toBe('required');
    expect(sent!.body.response_format).toEqual({ type: 'json_object' });
  });

  it('streams tool call deltas', async () => {
    await mock.enqueue({ type: 'tool_calls', calls: [{ name: 'lookup', arguments: '{"q":"abc"}' }] });
    const stream = client.chat.completions.stream({
      model: 'mock-model',
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]!.message.tool_calls![0]!.function).toMatchObject({ name: 'lookup', arguments: '{"q":"abc"}' });
  });

  it('relays unknown extra fields untouched', async () => {
    await client.chat.completions.create({
      model: 'mock-model',
      messages: [{ role: 'user', content: 'x' }],
      // @ts-expect-error vendor extension unknown to the SDK types
      chat_template_kwargs: { enable_thinking: false },
      top_k: 5,
    });
    const [sent] = await mock.requests(CHAT);
    expect(sent!.body.chat_template_kwargs).toEqual({ enable_thinking: false });
    expect(sent!.body.top_k).toBe(5);
  });

  it('routes provider-qualified ids to that provider with the plain model name', async () => {
    const completion = await client.chat.completions.create({ model: 'mirror/mock-model', messages: [{ role: 'user', content: 'via mirror' }] });
    expect(completion.choices[0]!.message.content).toBe('echo: via mirror');
    const [sent] = await mock.requests(CHAT);
    expect(sent!.body.model).toBe('mock-model');
  });

  it('answers an unknown model with NotFoundError model_not_found, even with a provider down', async () => {
    const err = await client.chat.completions.create({ model: 'ghost', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.code).toBe('model_not_found');
    expect(err.param).toBe('model');
    expect(await mock.requests(CHAT)).toHaveLength(0);
  });

  it('rejects a malformed request with BadRequestError naming the param, before calling upstream', async () => {
    const err = await client.chat.completions.create({ model: 'mock-model', messages: [] }).catch((e) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.param).toBe('messages');
    const err2 = await client.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'x' }], temperature: 7 }).catch((e) => e);
    expect(err2).toBeInstanceOf(BadRequestError);
    expect(err2.param).toBe('temperature');
    expect(await mock.requests(CHAT)).toHaveLength(0);
  });

  it('relays a model-server error with its status and message, marked as upstream', async () => {
    await mock.enqueue({ type: 'error', status: 429, body: { error: { message: 'slow down', type: 'rate_limit_error', code: 'rate_limited' } } });
    const err = await client.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err.message).toContain('slow down');
    expect(err.code).toBe('rate_limited');
    expect(err.headers.get('x-error-source')).toBe('upstream');
  });

  it('aborts the upstream request when the client disconnects', async () => {
    await mock.enqueue({ type: 'hang' });
    const controller = new AbortController();
    const pending = client.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'x' }], stream: true }, { signal: controller.signal });
    await waitFor(async () => (await mock.requests(CHAT)).length === 1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await waitFor(async () => (await mock.abortedCount()) === 1);
  });

  it('propagates x-request-id to the model server and back', async () => {
    const { response } = await client.chat.completions
      .create({ model: 'mock-model', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-request-id': 'req-test-123' } })
      .withResponse();
    expect(response.headers.get('x-request-id')).toBe('req-test-123');
    const [sent] = await mock.requests(CHAT);
    expect(sent!.headers['x-request-id']).toBe('req-test-123');
  });
});

describe.each(platforms)('request errors on the wire ($mode)', (p) => {
  const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
    authFetch(`${p.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const res = await post('{"model": ');
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json', param: null });
  });

  it('answers a body over the limit with 413 in the envelope', async () => {
    const big = JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'x'.repeat(3 * 1024 * 1024) }] });
    const res = await post(big);
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe('request_too_large');
  });

  it('answers an unknown route with 404 in the envelope and a request id', async () => {
    const res = await authFetch(`${p.baseURL}/no/such/thing`);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    expect(((await res.json()) as any).error).toMatchObject({ type: 'invalid_request_error', code: 'unknown_url' });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}
