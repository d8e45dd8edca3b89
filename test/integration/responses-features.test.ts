import { BadRequestError } from 'openai';
import type { ResponseOutputMessage, ResponseOutputText } from 'openai/resources/responses/responses';
import { beforeEach, describe, expect, it } from 'vitest';
import { mock, openai, platforms } from '../support/context.js';

describe.each(platforms)('responses: more request features ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it('returns logprobs on output_text when top_logprobs is set', async () => {
    await mock.enqueue({ type: 'text', text: 'Hi you', chunks: ['Hi', ' you'], logprobs: true });
    const r = await client.responses.create({ model: 'mock-model', input: 'x', top_logprobs: 2, include: ['message.output_text.logprobs'] });
    const part = (r.output[0] as ResponseOutputMessage).content[0] as ResponseOutputText;
    expect(part.logprobs).toHaveLength(2);
    expect(part.logprobs![0]).toEqual({
      token: 'Hi',
      logprob: -0.5,
      bytes: [72, 105],
      top_logprobs: [
        { token: 'Hi#0', logprob: -1, bytes: [...Buffer.from('Hi#0')] },
        { token: 'Hi#1', logprob: -2, bytes: [...Buffer.from('Hi#1')] },
      ],
    });
    expect(r.top_logprobs).toBe(2);
    const [req] = await mock.requests('/v1/chat/completions');
    expect(req!.body).toMatchObject({ logprobs: true, top_logprobs: 2 });
  });

  it('reports cached and reasoning token details from the model server', async () => {
    await mock.enqueue({
      type: 'text',
      text: 'ok',
      usage: { prompt_tokens: 100, completion_tokens: 30, total_tokens: 130, prompt_tokens_details: { cached_tokens: 64 }, completion_tokens_details: { reasoning_tokens: 20 } },
    });
    const r = await client.responses.create({ model: 'mock-model', input: 'x' });
    expect(r.usage).toEqual({
      input_tokens: 100,
      input_tokens_details: { cached_tokens: 64, cache_write_tokens: 0 },
      output_tokens: 30,
      output_tokens_details: { reasoning_tokens: 20 },
      total_tokens: 130,
    });
  });

  it('truncation auto drops the oldest context when the model server reports an overflow', async () => {
    const overflow = { type: 'error' as const, status: 400, body: { error: { message: "This model's maximum context length is 64 tokens.", type: 'invalid_request_error' } } };
    await mock.enqueue(overflow, { type: 'text', text: 'fits now' });
    const r = await client.responses.create({
      model: 'mock-model',
      instructions: 'keep me',
      truncation: 'auto',
      input: [
        { role: 'user', content: 'very old' },
        { role: 'assistant', content: 'old reply' },
        { role: 'user', content: 'latest' },
      ],
    });
    expect(r.output_text).toBe('fits now');
    const [first, second] = await mock.requests('/v1/chat/completions');
    expect(first!.body.messages).toHaveLength(4);
    expect(second!.body.messages.map((m: { content: string }) => m.content)).toEqual(['keep me', 'old reply', 'latest']);
  });

  it('counts input tokens through the model server', async () => {
    await mock.enqueue({ type: 'text', text: 'x', usage: { prompt_tokens: 42, completion_tokens: 1, total_tokens: 43 } });
    const count = await client.responses.inputTokens.count({ model: 'mock-model', input: 'How many tokens is this?', instructions: 'sys' });
    expect(count).toEqual({ object: 'response.input_tokens', input_tokens: 42 });
    const [req] = await mock.requests('/v1/chat/completions');
    expect(req!.body).toMatchObject({ max_tokens: 1, messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'How many tokens is this?' }] });
  });

  it('falls back to an estimate when the model server cannot count', async () => {
    await mock.enqueue({ type: 'error', status: 500, body: { error: { message: 'boom' } } });
    const count = await client.responses.inputTokens.count({ model: 'mock-model', input: 'a'.repeat(400) });
    expect(count.object).toBe('response.input_tokens');
    expect(count.input_tokens).toBeGreaterThan(90);
    expect(count.input_tokens).toBeLessThan(200);
  });

  it('counts the stored chain of previous_response_id too', async () => {
    const r1 = await client.responses.create({ model: 'mock-model', input: 'first turn' });
    await client.responses.inputTokens.count({ model: 'mock-model', input: 'second', previous_response_id: r1.id });
    const reqs = await mock.requests('/v1/chat/completions');
    expect(reqs[1]!.body.messages.map((m: { content: string }) => m.content)).toEqual(['first turn', 'echo: first turn', 'second']);
  });

  it('accepts include on retrieve and input_items, and rejects unknown include values', async () => {
    const r = await client.responses.create({ model: 'mock-model', input: 'x' });
    expect((await client.responses.retrieve(r.id, { include: ['message.output_text.logprobs'] })).id).toBe(r.id);
    expect((await client.responses.inputItems.list(r.id, { include: ['message.input_image.image_url'] })).data).toHaveLength(1);
    await expect(client.responses.retrieve(r.id, { include: ['nonsense' as never] })).rejects.toBeInstanceOf(BadRequestError);
  });

  it('passes json_object format, reasoning effort and verbosity upstream', async () => {
    await client.responses.create({ model: 'mock-model', input: 'x', text: { format: { type: 'json_object' }, verbosity: 'low' }, reasoning: { effort: 'high' } });
    const [req] = await mock.requests('/v1/chat/completions');
    expect(req!.body).toMatchObject({ response_format: { type: 'json_object' }, verbosity: 'low', reasoning_effort: 'high' });
  });
});
