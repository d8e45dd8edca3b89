import type { ResponseFunctionToolCall } from 'openai/resources/responses/responses';
import { beforeEach, describe, expect, it } from 'vitest';
import { mock, openai, platforms } from '../support/context.js';

const weatherTool = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};
const timeTool = { type: 'function' as const, name: 'get_time', parameters: { type: 'object', properties: {} }, strict: false };

describe.each(platforms)('responses: function tools ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it('round-trips a function call through previous_response_id', async () => {
    await mock.enqueue({ type: 'tool_calls', calls: [{ name: 'get_weather', arguments: '{"city":"Paris"}', id: 'call_1' }] }, { type: 'text', text: 'It is sunny in Paris.' });
    const first = await client.responses.create({ model: 'mock-model', input: 'Weather in Paris?', tools: [weatherTool] });
    expect(first.status).toBe('completed');
    expect(first.output).toHaveLength(1);
    const call = first.output[0] as ResponseFunctionToolCall;
    expect(call).toMatchObject({ type: 'function_call', status: 'completed', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(call.id).toMatch(/^fc_/);
    expect(first.tools).toEqual([{ type: 'function', name: 'get_weather', description: 'Weather for a city', parameters: weatherTool.parameters, strict: true }]);

    const second = await client.responses.create({
      model: 'mock-model',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: 'call_1', output: '{"sky":"sunny"}' }],
      tools: [weatherTool],
    });
    expect(second.output_text).toBe('It is sunny in Paris.');
    expect(second.previous_response_id).toBe(first.id);

    const [req1, req2] = await mock.requests('/v1/chat/completions');
    expect(req1!.body.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: weatherTool.parameters, strict: true } }]);
    expect(req2!.body.messages).toEqual([
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"sky":"sunny"}' },
    ]);
  });

  it('round-trips with the whole history inline (output items passed back)', async () => {
    await mock.enqueue({ type: 'tool_calls', calls: [{ name: 'get_weather', arguments: '{"city":"Rome"}', id: 'call_9' }] });
    const first = await client.responses.create({ model: 'mock-model', input: 'Weather in Rome?', tools: [weatherTool], store: false });
    const second = await client.responses.create({
      model: 'mock-model',
      input: [{ role: 'user', content: 'Weather in Rome?' }, ...(first.output as ResponseFunctionToolCall[]), { type: 'function_call_output', call_id: 'call_9', output: 'rainy' }],
      tools: [weatherTool],
    });
    expect(second.status).toBe('completed');
    const [, req2] = await mock.requests('/v1/chat/completions');
    expect(req2!.body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'tool']);
  });

  it('returns parallel calls as separate items when allowed', async () => {
    await mock.enqueue({
      type: 'tool_calls',
      calls: [
        { name: 'get_weather', arguments: '{"city":"Oslo"}', id: 'call_a' },
        { name: 'get_time', arguments: '{}', id: 'call_b' },
      ],
    });
    const r = await client.responses.create({ model: 'mock-model', input: 'both', tools: [weatherTool, timeTool] });
    expect(r.output.map((o) => (o as ResponseFunctionToolCall).call_id)).toEqual(['call_a', 'call_b']);
    const [req] = await mock.requests('/v1/chat/completions');
    expect(req!.body).not.toHaveProperty('parallel_tool_calls');
  });

  it('keeps exactly one call with parallel_tool_calls false, and says so upstream', async () => {
    await mock.enqueue({
      type: 'tool_calls',
      calls: [
        { name: 'get_weather', arguments: '{"city":"Oslo"}', id: 'call_a' },
        { name: 'get_time', arguments: '{}', id: 'call_b' },
      ],
    });
    const r = await client.responses.create({ model: 'mock-model', input: 'both', tools: [weatherTool, timeTool], parallel_tool_calls: false });
    expect(r.output).toHaveLength(1);
    expect(r.output[0]).toMatchObject({ call_id: 'call_a', name: 'get_weather' });
    expect(r.parallel_tool_calls).toBe(false);
    const [req] = await mock.requests('/v1/chat/completions');
    expect(req!.body.parallel_tool_calls).toBe(false);
  });

  it('maps tool_choice forms upstream', async () => {
    await client.responses.create({ model: 'mock-model', input: 'x', tools: [weatherTool, timeTool], tool_choice: { type: 'function', name: 'get_time' } });
    await client.responses.create({ model: 'mock-model', input: 'x', tools: [weatherTool, timeTool], tool_choice: 'required' });
    await client.responses.create({
      model: 'mock-model',
      input: 'x',
      tools: [weatherTool, timeTool],
      tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'get_weather' }] },
    });
    const [a, b, c] = await mock.requests('/v1/chat/completions');
    expect(a!.body.tool_choice).toEqual({ type: 'function', function: { name: 'get_time' } });
    expect(b!.body.tool_choice).toBe('required');
    expect(c!.body.tool_choice).toBe('auto');
    expect(c!.body.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(['get_weather']);
  });

  it('streams a parallel call pair through the SDK helper', async () => {
    await mock.enqueue({
      type: 'tool_calls',
      calls: [
        { name: 'get_weather', arguments: '{"city":"Oslo"}', id: 'call_a' },
        { name: 'get_time', arguments: '{}', id: 'call_b' },
      ],
    });
    const stream = client.responses.stream({ model: 'mock-model', input: 'both', tools: [weatherTool, timeTool] });
    const final = await stream.finalResponse();
    expect(final.output.map((o) => (o as ResponseFunctionToolCall).arguments)).toEqual(['{"city":"Oslo"}', '{}']);
  });
});
