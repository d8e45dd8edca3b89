import { beforeEach, describe, expect, it } from 'vitest';
import { mock, openai, platforms } from '../support/context.js';
import { errorOf } from '../support/errors.js';

const RESPONSE_FIELDS = [
  'id', 'object', 'created_at', 'status', 'background', 'completed_at', 'conversation', 'error', 'incomplete_details',
  'instructions', 'max_output_tokens', 'max_tool_calls', 'model', 'output', 'parallel_tool_calls', 'previous_response_id',
  'prompt', 'prompt_cache_key', 'prompt_cache_retention', 'prompt_cache_options', 'moderation', 'reasoning', 'safety_identifier', 'service_tier', 'store', 'temperature', 'text',
  'tool_choice', 'tools', 'top_logprobs', 'top_p', 'truncation', 'usage', 'user', 'metadata',
];

describe.each(platforms)('responses: basics ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it('answers a text input with a completed Response carrying every field', async () => {
    await mock.enqueue({ type: 'text', text: 'Hello there!' });
    const r = await client.responses.create({ model: 'mock-model', input: 'Say hello' });
    for (const f of RESPONSE_FIELDS) expect(r, `field ${f}`).toHaveProperty(f);
    expect(r.id).toMatch(/^resp_[0-9a-f]{48}$/);
    expect(r).toMatchObject({ object: 'response', status: 'completed', model: 'mock-model', error: null, incomplete_details: null, store: true, background: false });
    expect(r.completed_at).toEqual(expect.any(Number));
    expect(r.output).toHaveLength(1);
    const msg = r.output[0]!;
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hello there!', annotations: [] }] });
    expect(msg.id).toMatch(/^msg_/);
    expect(r.output_text).toBe('Hello there!');
    expect(r.usage).toEqual({
      input_tokens: 11,
      input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: 7,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 18,
    });
    const [upstream] = await mock.requests('/v1/chat/completions');
    expect(upstream!.body.messages).toEqual([{ role: 'user', content: 'Say hello' }]);
  });

  it('maps instructions, system and developer messages and inline multi-turn history', async () => {
    const r = await client.responses.create({
      model: 'mock-model',
      instructions: 'Be brief.',
      input: [
        { role: 'system', content: 'System rule.' },
        { role: 'developer', content: [{ type: 'input_text', text: 'Developer rule.' }] },
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'first answer' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'second question' }] },
      ],
    });
    expect(r.output_text).toBe('echo: second question');
    expect(r.instructions).toBe('Be brief.');
    const [upstream] = await mock.requests('/v1/chat/completions');
    expect(upstream!.body.messages).toEqual([
      { role: 'system', content: 'Be brief.\nSystem rule.\nDeveloper rule.' },
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'second question' },
    ]);
  });

  it('passes images through as image_url parts', async () => {
    const dataUrl = 'data:image/png;base64,iVBORw0KGgo=';
    await client.responses.create({
      model: 'mock-model',
      input: [
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'What is in these?' },
            { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'high' },
            { type: 'input_image', image_url: dataUrl, detail: 'auto' },
          ],
        },
      ],
    });
    const [upstream] = await mock.requests('/v1/chat/completions');
    expect(upstream!.body.messages[0].content).toEqual([
      { type: 'text', text: 'What is in these?' },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'high' } },
      { type: 'image_url', image_url: { url: dataUrl } },
    ]);
  });

  it('sends sampling parameters the client set, and only those', async () => {
    await client.responses.create({ model: 'mock-model', input: 'x', temperature: 0.2, top_p: 0.9, max_output_tokens: 64, user: 'u-1' });
    await client.responses.create({ model: 'mock-model', input: 'y' });
    const [first, second] = await mock.requests('/v1/chat/completions');
    // A non-streaming response asks the model for its whole reply (no stream_options without stream).
    expect(first!.body).toMatchObject({ temperature: 0.2, top_p: 0.9, max_tokens: 64, user: 'u-1', stream: false });
    expect(first!.body).not.toHaveProperty('stream_options');
    expect(second!.body).not.toHaveProperty('temperature');
    expect(second!.body).not.toHaveProperty('max_tokens');
  });

  it('echoes request settings and metadata on the Response', async () => {
    const r = await client.responses.create({
      model: 'mock-model',
      input: 'x',
      temperature: 0.5,
      metadata: { team: 'a' },
      truncation: 'auto',
      safety_identifier: 'sid',
      prompt_cache_key: 'pck',
    });
    expect(r).toMatchObject({ temperature: 0.5, top_p: 1, metadata: { team: 'a' }, truncation: 'auto', safety_identifier: 'sid', prompt_cache_key: 'pck', tool_choice: 'auto', tools: [], parallel_tool_calls: true, text: { format: { type: 'text' } } });
  });

  it('echoes reasoning.context and prompt_cache_options (defaults filled in), and rejects a bad prompt_cache_options', async () => {
    const r = await client.responses.create({ model: 'mock-model', input: 'x', reasoning: { context: 'all_turns' }, prompt_cache_options: { mode: 'explicit' } } as any);
    expect(r.reasoning).toMatchObject({ context: 'all_turns' });
    expect((r as any).prompt_cache_options).toEqual({ ttl: '30m', mode: 'explicit' });
    const plain = await client.responses.create({ model: 'mock-model', input: 'x' });
    expect([(plain as any).prompt_cache_options, (plain.reasoning as any).context]).toEqual([null, null]);
    const err = await errorOf(client.responses.create({ model: 'mock-model', input: 'x', prompt_cache_options: { ttl: '1h' } } as any));
    expect([err.status, err.param]).toEqual([400, 'prompt_cache_options.ttl']);
  });

  it('requests json_schema output as response_format upstream', async () => {
    await mock.enqueue({ type: 'text', text: '{"city":"Paris"}' });
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
    const r = await client.responses.create({
      model: 'mock-model',
      input: 'Capital of France as JSON',
      text: { format: { type: 'json_schema', name: 'city', schema, strict: true } },
    });
    expect(JSON.parse(r.output_text)).toEqual({ city: 'Paris' });
    expect(r.text!.format).toMatchObject({ type: 'json_schema', name: 'city', strict: true });
    const [upstream] = await mock.requests('/v1/chat/completions');
    expect(upstream!.body.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'city', schema, strict: true } });
  });

  it('reports max_output_tokens cut-offs as incomplete', async () => {
    await mock.enqueue({ type: 'text', text: 'partial answ', finish_reason: 'length' });
    const r = await client.responses.create({ model: 'mock-model', input: 'long story', max_output_tokens: 16 });
    expect(r.status).toBe('incomplete');
    expect(r.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(r.output[0]).toMatchObject({ type: 'message', status: 'incomplete' });
  });

  it('reports content_filter as incomplete', async () => {
    await mock.enqueue({ type: 'text', text: 'redacted', finish_reason: 'content_filter' });
    const r = await client.responses.create({ model: 'mock-model', input: 'x' });
    expect(r).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
  });

  it('turns reasoning_content into a reasoning item before the message', async () => {
    await mock.enqueue({ type: 'text', text: 'The answer is 4.', reasoning: 'Two plus two is four.' });
    const r = await client.responses.create({ model: 'mock-model', input: '2+2?', reasoning: { effort: 'low' } });
    expect(r.output.map((o) => o.type)).toEqual(['reasoning', 'message']);
    expect(r.output[0]).toMatchObject({ type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: 'Two plus two is four.' }] });
    expect(r.output[0]!.id).toMatch(/^rs_/);
    expect(r.reasoning).toMatchObject({ effort: 'low' });
    const [upstream] = await mock.requests('/v1/chat/completions');
    expect(upstream!.body.reasoning_effort).toBe('low');
  });

  it('turns a refusal into a refusal content part', async () => {
    await mock.enqueue({ type: 'text', text: '', chunks: [], refusal: 'I cannot help with that.' });
    const r = await client.responses.create({ model: 'mock-model', input: 'bad thing' });
    expect(r.output[0]).toMatchObject({ type: 'message', content: [{ type: 'refusal', refusal: 'I cannot help with that.' }] });
  });

  it('accepts reasoning items passed back in the input and does not send them upstream', async () => {
    await client.responses.create({
      model: 'mock-model',
      input: [
        { role: 'user', content: 'q1' },
        { type: 'reasoning', id: 'rs_abc', summary: [], content: [{ type: 'reasoning_text', text: 'thinking' }], encrypted_content: null },
        { role: 'assistant', content: 'a1' },
        { role: 'user', content: 'q2' },
      ],
    });
    const [upstream] = await mock.requests('/v1/chat/completions');
    expect(upstream!.body.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user']);
  });
});
