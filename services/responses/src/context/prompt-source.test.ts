import { ApiError, type PromptObject } from '@rgw/shared';
import { describe, expect, it, vi } from 'vitest';
import { itemsToChatMessages } from '../chat/items-to-chat.js';
import { PromptSource, promptInstructions, type PromptsApi } from './prompt-source.js';

const ID = 'pmpt_' + 'b'.repeat(48);

function stored(prompt: string, variables: string[], version = 3): PromptObject {
  return { prompt_id: ID, prompt, version, variables, is_default: true };
}

function source(result: PromptObject | ApiError): { prompts: PromptSource; getPrompt: ReturnType<typeof vi.fn> } {
  const getPrompt = vi.fn(async () => {
    if (result instanceof ApiError) throw result;
    return result;
  });
  return { prompts: new PromptSource({ getPrompt } as PromptsApi), getPrompt };
}

describe('promptInstructions', () => {
  const image = { type: 'input_image' as const, image_url: 'https://x/cat.png' };

  it('puts the rendered text first, the request instructions next, and image/file parts in a user message', () => {
    const out = promptInstructions({ text: 'Describe [pic].', parts: [image] }, ['pic'], 'Be brief.');
    expect(out).toEqual([
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Describe [pic].' }] },
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Be brief.' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: '[pic]' }, image] },
    ]);
  });

  it('leaves out what is empty', () => {
    expect(promptInstructions({ text: '', parts: [] }, [], null)).toEqual([]);
    expect(promptInstructions({ text: 'Hi.', parts: [image] }, [undefined], undefined)).toEqual([
      { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'Hi.' }] },
      { type: 'message', role: 'user', content: [image] },
    ]);
  });

  it('becomes one leading system message, then the parts, for the model server', () => {
    const messages = itemsToChatMessages(promptInstructions({ text: 'Describe [pic].', parts: [image] }, ['pic'], 'Be brief.'), []);
    expect(messages).toEqual([
      { role: 'system', content: 'Describe [pic].\nBe brief.' },
      { role: 'user', content: [{ type: 'text', text: '[pic]' }, { type: 'image_url', image_url: { url: 'https://x/cat.png' } }] },
    ]);
  });
});

describe('PromptSource', () => {
  it('fetches the version asked for, renders the variables and echoes the version as a string', async () => {
    const { prompts, getPrompt } = source(stored('You are {{ role }}.', ['role']));
    const out = await prompts.resolve({ id: ID, version: '3', variables: { role: 'kind' } }, null, { requestId: 'req_1' });
    expect(getPrompt).toHaveBeenCalledWith(ID, '3', { requestId: 'req_1' });
    expect(out.echo).toEqual({ id: ID, version: '3', variables: { role: 'kind' } });
    expect(out.instructions).toEqual([{ type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You are kind.' }] }]);
  });

  it('asks for the default version when none is given, and echoes the one it got', async () => {
    const { prompts, getPrompt } = source(stored('Fixed.', [], 7));
    const out = await prompts.resolve({ id: ID }, 'extra', undefined);
    expect(getPrompt).toHaveBeenCalledWith(ID, null, { requestId: undefined });
    expect(out.echo).toEqual({ id: ID, version: '7', variables: null });
    expect(out.instructions).toHaveLength(2);
  });

  it("renames the prompts service's params to ours", async () => {
    const missing = await source(new ApiError(404, 'Version 9 not found.', { param: 'version', code: 'not_found' })).prompts.resolve({ id: ID, version: '9' }, null).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, param: 'prompt.version' });
    const unknown = await source(new ApiError(404, 'Prompt not found.', { param: 'prompt_id' })).prompts.resolve({ id: ID }, null).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ status: 404, param: 'prompt.id' });
  });

  it('names the variable whose value is missing, undeclared or cannot be sent', async () => {
    const { prompts } = source(stored('See {{pic}}.', ['pic']));
    await expect(prompts.resolve({ id: ID }, null)).rejects.toMatchObject({ status: 400, param: 'prompt.variables.pic' });
    await expect(prompts.resolve({ id: ID, variables: { pic: 'x', other: 'y' } }, null)).rejects.toMatchObject({ status: 400, param: 'prompt.variables.other' });
    await expect(prompts.resolve({ id: ID, variables: { pic: { type: 'input_image' } } }, null)).rejects.toMatchObject({ status: 400, param: 'prompt.variables.pic.image_url' });
    await expect(prompts.resolve({ id: ID, variables: { pic: { type: 'input_image', file_id: 'file-1' } } }, null)).rejects.toMatchObject({ status: 400, param: 'prompt.variables.pic' });
  });
});

describe('PromptSource against hostile ids and a malformed service reply', () => {
  it.each(['.', '..', '../conversations', 'a/b', 'pmpt_x%2F..', 'x\u0000y', ' ', 'x'.repeat(129)])('refuses the id %j with a 400 naming prompt.id, without calling the service', async (id) => {
    const { prompts, getPrompt } = source(stored('Hi', []));
    const err = await prompts.resolve({ id }, null).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, param: 'prompt.id', code: 'invalid_value' });
    expect(err.message.length).toBeLessThan(300);
    expect(getPrompt).not.toHaveBeenCalled();
  });

  it('reads a prompt without variables or text as an empty one', async () => {
    const { prompts } = source({ prompt_id: ID, version: 2 } as unknown as PromptObject);
    const out = await prompts.resolve({ id: ID }, 'Be brief.');
    expect(out.echo).toEqual({ id: ID, version: '2', variables: null });
  });

  it('answers a reply it cannot read (e.g. a list instead of a prompt) with a 502, not a crash', async () => {
    const { prompts } = source({ object: 'list', data: [] } as unknown as PromptObject);
    const err = await prompts.resolve({ id: ID }, null).catch((e) => e);
    expect(err).toMatchObject({ status: 502, code: 'invalid_service_response' });
  });
});
