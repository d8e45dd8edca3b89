import { BadRequestError, NotFoundError } from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { mock, openai, platforms } from '../support/context.js';
import { authFetch } from '../support/auth.js';

const fn = { type: 'function' as const, name: 'f', parameters: { type: 'object', properties: {} }, strict: false };

describe.each(platforms)('responses: errors ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  async function badRequest(body: Record<string, unknown>): Promise<BadRequestError> {
    const err = await client.responses.create({ model: 'mock-model', input: 'x', ...body } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    return err as BadRequestError;
  }

  /** For bodies the SDK types cannot express. */
  async function raw(body: unknown): Promise<{ status: number; error: { message: string; type: string; param: string | null; code: string | null } }> {
    const res = await authFetch(`${p.baseURL}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, ...((await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } }) };
  }

  it('404s an unknown model with code model_not_found, before streaming', async () => {
    for (const stream of [false, true]) {
      const err = await client.responses.create({ model: 'no-such-model', input: 'x', stream }).catch((e) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect(err.code).toBe('model_not_found');
    }
  });

  it('404s an unknown previous_response_id naming the param', async () => {
    const err = await client.responses.create({ model: 'mock-model', input: 'x', previous_response_id: 'resp_nope', stream: true }).catch((e) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.param).toBe('previous_response_id');
  });

  it('404s retrieve, delete, input_items and cancel of unknown ids', async () => {
    await expect(client.responses.retrieve('resp_nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.responses.delete('resp_nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.responses.inputItems.list('resp_nope')).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.responses.cancel('resp_nope')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('400s out-of-range values naming the param', async () => {
    expect((await badRequest({ temperature: 2.5 })).param).toBe('temperature');
    expect((await badRequest({ top_p: -0.1 })).param).toBe('top_p');
    expect((await badRequest({ max_output_tokens: 15 })).param).toBe('max_output_tokens');
    expect((await badRequest({ max_tool_calls: 0 })).param).toBe('max_tool_calls');
    expect((await badRequest({ top_logprobs: 21 })).param).toBe('top_logprobs');
    expect((await badRequest({ metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) })).param).toBe('metadata');
    expect((await badRequest({ metadata: { ['k'.repeat(65)]: 'v' } })).param).toMatch(/^metadata/);
    expect((await badRequest({ metadata: { k: 'v'.repeat(513) } })).param).toMatch(/^metadata/);
  });

  it('400s a tool_choice naming a function that is not in tools', async () => {
    const err = await badRequest({ tools: [fn], tool_choice: { type: 'function', name: 'other' } });
    expect(err.param).toBe('tool_choice');
  });

  it('400s unsupported tool types naming the tool', async () => {
    expect((await badRequest({ tools: [{ type: 'web_search' }] })).param).toBe('tools[0].type');
  });

  it('400s malformed input items naming the field', async () => {
    expect((await raw({ model: 'mock-model', input: [{ role: 'user', content: 'ok' }, { role: 'wizard', content: 'x' }] })).error.param).toBe('input[1].role');
    expect((await raw({ model: 'mock-model', input: [{ type: 'function_call_output', output: 'x' }] })).error.param).toBe('input[0].call_id');
    expect((await raw({ model: 'mock-model', input: [{ role: 'user', content: [{ type: 'input_text' }] }] })).error.param).toBe('input[0].content[0].text');
    const unknownType = await raw({ model: 'mock-model', input: [{ type: 'teleport' }] });
    expect(unknownType.status).toBe(400);
    expect(unknownType.error.param).toMatch(/^input\[0\]/);
  });

  it('400s unknown top-level parameters naming them', async () => {
    const r = await raw({ model: 'mock-model', input: 'x', temprature: 1 });
    expect(r.status).toBe(400);
    expect(r.error).toMatchObject({ param: 'temprature', code: 'unknown_parameter', type: 'invalid_request_error' });
  });

  it('400s a missing model', async () => {
    const r = await raw({ input: 'x' });
    expect(r.status).toBe(400);
    expect(r.error.param).toBe('model');
  });

  it('404s an unknown item_reference', async () => {
    const r = await raw({ model: 'mock-model', input: [{ type: 'item_reference', id: 'msg_nope' }] });
    expect(r.status).toBe(404);
    expect(r.error.param).toBe('input[0].id');
  });

  it('relays a model-server 4xx before any output as an HTTP error (non-streaming)', async () => {
    await mock.enqueue({ type: 'error', status: 422, body: { error: { message: 'unprocessable thing', type: 'invalid_request_error' } } });
    const err = await client.responses.create({ model: 'mock-model', input: 'x' }).catch((e) => e);
    expect(err.status).toBe(422);
    expect(err.message).toContain('unprocessable thing');
    expect(err.headers.get('x-error-source')).toBe('upstream');
  });

  it('fails a background response whose model server errors, with an error object', async () => {
    await mock.enqueue({ type: 'error', status: 500, body: { error: { message: 'model crashed' } } });
    const r = await client.responses.create({ model: 'mock-model', input: 'x', background: true });
    let got = r;
    for (let i = 0; i < 100 && (got.status === 'queued' || got.status === 'in_progress'); i++) {
      await new Promise((res) => setTimeout(res, 50));
      got = await client.responses.retrieve(r.id);
    }
    expect(got.status).toBe('failed');
    expect(got.error).toMatchObject({ code: 'server_error', message: expect.stringContaining('model crashed') });
  });

  it('fails with a clear 400 when the context overflows and truncation is disabled', async () => {
    await mock.enqueue({ type: 'error', status: 400, body: { error: { message: "This model's maximum context length is 4096 tokens.", type: 'invalid_request_error' } } });
    const err = await badRequest({ input: 'huge' });
    expect(err.code).toBe('context_length_exceeded');
    expect(err.param).toBe('input');
  });
});
