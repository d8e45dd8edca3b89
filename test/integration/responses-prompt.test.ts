import LlamaStackClient from 'llama-stack-client';
import { BadRequestError, NotFoundError } from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { mock, openai, platforms } from '../support/context.js';
import { TEST_KEY } from '../support/auth.js';

const CHAT = '/v1/chat/completions';

describe.each(platforms)('responses rendered from a stored prompt ($mode)', (p) => {
  const client = openai(p);
  const llama = new LlamaStackClient({ baseURL: p.origin, apiKey: TEST_KEY, maxRetries: 0 });
  beforeEach(() => mock.reset());

  async function lastMessages(): Promise<any[]> {
    const calls = await mock.requests(CHAT);
    return calls.at(-1)!.body.messages;
  }

  it('renders the default version with the variables as leading instructions, then appends instructions', async () => {
    const prompt = await llama.prompts.create({ prompt: 'You are a {{ role }} assistant. Answer in {{lang}}.', variables: ['role', 'lang'] });
    const res = await client.responses.create({
      model: 'mock-model',
      input: 'hello',
      instructions: 'Keep it short.',
      prompt: { id: prompt.prompt_id, variables: { role: 'helpful', lang: 'French' } },
    });
    expect(res.prompt).toMatchObject({ id: prompt.prompt_id, variables: { role: 'helpful', lang: 'French' } });
    const messages = await lastMessages();
    const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => (typeof m.content === 'string' ? m.content : m.content.map((c: any) => c.text).join('')));
    expect(system.join('\n')).toBe('You are a helpful assistant. Answer in French.\nKeep it short.');
    expect(messages.at(-1)).toMatchObject({ role: 'user' });
  });

  it('uses the version asked for, and the new default after an update', async () => {
    const v1 = await llama.prompts.create({ prompt: 'Version one.' });
    await llama.prompts.update(v1.prompt_id, { prompt: 'Version two.', version: 1, set_as_default: true });
    await client.responses.create({ model: 'mock-model', input: 'x', prompt: { id: v1.prompt_id, version: '1' } });
    expect(JSON.stringify((await lastMessages())[0])).toContain('Version one.');
    await client.responses.create({ model: 'mock-model', input: 'x', prompt: { id: v1.prompt_id } });
    expect(JSON.stringify((await lastMessages())[0])).toContain('Version two.');
  });

  it('sends an input_image variable to the model as an image part', async () => {
    const prompt = await llama.prompts.create({ prompt: 'Describe {{picture}} briefly.', variables: ['picture'] });
    await client.responses.create({
      model: 'mock-model',
      input: 'go',
      prompt: { id: prompt.prompt_id, variables: { picture: { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'auto' } } },
    });
    const parts = (await lastMessages()).flatMap((m) => (Array.isArray(m.content) ? m.content : []));
    expect(parts).toContainEqual(expect.objectContaining({ type: 'image_url', image_url: expect.objectContaining({ url: 'https://example.com/cat.png' }) }));
  });

  it('works when streaming', async () => {
    const prompt = await llama.prompts.create({ prompt: 'Streamed {{x}}.', variables: ['x'] });
    const final = await client.responses.stream({ model: 'mock-model', input: 'hi', prompt: { id: prompt.prompt_id, variables: { x: 'prompt' } } }).finalResponse();
    expect(final.status).toBe('completed');
    expect(final.prompt?.id).toBe(prompt.prompt_id);
    expect(JSON.stringify((await lastMessages())[0])).toContain('Streamed prompt.');
  });

  it('names the problem: unknown prompt or version 404, missing or undeclared variable 400', async () => {
    const prompt = await llama.prompts.create({ prompt: 'Hi {{name}}.', variables: ['name'] });
    const unknown = await client.responses.create({ model: 'mock-model', input: 'x', prompt: { id: 'pmpt_' + 'a'.repeat(48) } }).catch((e) => e);
    expect(unknown).toBeInstanceOf(NotFoundError);
    const badVersion = await client.responses.create({ model: 'mock-model', input: 'x', prompt: { id: prompt.prompt_id, version: '9' } }).catch((e) => e);
    expect(badVersion).toBeInstanceOf(NotFoundError);
    const missing = await client.responses.create({ model: 'mock-model', input: 'x', prompt: { id: prompt.prompt_id } }).catch((e) => e);
    expect(missing).toBeInstanceOf(BadRequestError);
    expect(missing.message).toContain('name');
    const undeclared = await client.responses.create({ model: 'mock-model', input: 'x', prompt: { id: prompt.prompt_id, variables: { name: 'A', extra: 'B' } } }).catch((e) => e);
    expect(undeclared).toBeInstanceOf(BadRequestError);
    expect(undeclared.message).toContain('extra');
    expect(await mock.requests(CHAT)).toHaveLength(0);
  });
  it('shows the rendered prompt as the instructions list, and renders for background responses too', async () => {
    const prompt = await llama.prompts.create({ prompt: 'Talk like a {{who}}.', variables: ['who'] });
    await mock.enqueue({ type: 'text', text: 'arr' });
    let res = await client.responses.create({ model: 'mock-model', input: 'hi', background: true, instructions: 'Short.', prompt: { id: prompt.prompt_id, variables: { who: 'pirate' } } });
    expect(res.prompt).toEqual({ id: prompt.prompt_id, version: '1', variables: { who: 'pirate' } });
    expect(res.instructions).toEqual([
      expect.objectContaining({ type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Talk like a pirate.' }] }),
      expect.objectContaining({ type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Short.' }] }),
    ]);
    for (let i = 0; i < 100 && (res.status === 'queued' || res.status === 'in_progress'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      res = await client.responses.retrieve(res.id);
    }
    expect(res.status).toBe('completed');
    expect(res.output_text).toBe('arr');
    expect((await lastMessages())[0]).toEqual({ role: 'system', content: 'Talk like a pirate.\nShort.' });
  });
});
