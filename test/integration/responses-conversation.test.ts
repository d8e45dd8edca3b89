import { BadRequestError, NotFoundError } from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { mock, openai, platforms } from '../support/context.js';

const CHAT = '/v1/chat/completions';
const texts = (messages: any[]) => messages.map((m) => `${m.role}:${typeof m.content === 'string' ? m.content : m.content.map((p: any) => p.text ?? '').join('')}`);

describe.each(platforms)('responses with a conversation ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  async function itemTexts(conversationId: string): Promise<string[]> {
    const page = await client.conversations.items.list(conversationId, { order: 'asc', limit: 100 });
    return page.data.map((item: any) => `${item.role}:${item.content.map((c: any) => c.text).join('')}`);
  }

  it('keeps a multi-turn chat in the conversation: the model sees earlier turns, items are appended', async () => {
    const conv = await client.conversations.create({ metadata: { topic: 'names' } });
    await mock.enqueue({ type: 'text', text: 'Nice to meet you, Ada.' }, { type: 'text', text: 'Your name is Ada.' });
    const first = await client.responses.create({ model: 'mock-model', input: 'My name is Ada.', conversation: conv.id });
    expect(first.conversation).toEqual({ id: conv.id });
    const second = await client.responses.create({ model: 'mock-model', input: 'What is my name?', conversation: { id: conv.id } });
    expect(second.output_text).toBe('Your name is Ada.');
    const [, secondCall] = await mock.requests(CHAT);
    expect(texts(secondCall!.body.messages)).toEqual(['user:My name is Ada.', 'assistant:Nice to meet you, Ada.', 'user:What is my name?']);
    expect(await itemTexts(conv.id)).toEqual([
      'user:My name is Ada.',
      'assistant:Nice to meet you, Ada.',
      'user:What is my name?',
      'assistant:Your name is Ada.',
    ]);
  });

  it('uses items added through the Conversations API as context', async () => {
    const conv = await client.conversations.create({
      items: [{ type: 'message', role: 'user', content: 'Remember: the code is 42.' }],
    });
    await client.responses.create({ model: 'mock-model', input: 'What is the code?', conversation: conv.id, instructions: 'Be brief.' });
    const [call] = await mock.requests(CHAT);
    expect(texts(call!.body.messages)).toEqual(['system:Be brief.', 'user:Remember: the code is 42.', 'user:What is the code?']);
  });

  it('with store:false reads the conversation but leaves it untouched', async () => {
    const conv = await client.conversations.create({ items: [{ type: 'message', role: 'user', content: 'earlier' }] });
    await client.responses.create({ model: 'mock-model', input: 'now', conversation: conv.id, store: false });
    const [call] = await mock.requests(CHAT);
    expect(texts(call!.body.messages)).toEqual(['user:earlier', 'user:now']);
    expect(await itemTexts(conv.id)).toEqual(['user:earlier']);
  });

  it('appends streamed and background responses too', async () => {
    const conv = await client.conversations.create();
    await mock.enqueue({ type: 'text', text: 'streamed answer' });
    const stream = client.responses.stream({ model: 'mock-model', input: 'stream it', conversation: conv.id });
    const final = await stream.finalResponse();
    expect(final.conversation).toEqual({ id: conv.id });
    expect(await itemTexts(conv.id)).toEqual(['user:stream it', 'assistant:streamed answer']);

    await mock.enqueue({ type: 'text', text: 'background answer' });
    let bg = await client.responses.create({ model: 'mock-model', input: 'in the background', conversation: conv.id, background: true });
    for (let i = 0; i < 100 && (bg.status === 'queued' || bg.status === 'in_progress'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      bg = await client.responses.retrieve(bg.id);
    }
    expect(bg.status).toBe('completed');
    expect(await itemTexts(conv.id)).toEqual(['user:stream it', 'assistant:streamed answer', 'user:in the background', 'assistant:background answer']);
  });

  it('answers an unknown conversation with 404 and a malformed one with 400', async () => {
    const missing = await client.responses.create({ model: 'mock-model', input: 'x', conversation: 'conv_' + '0'.repeat(48) }).catch((e) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.param).toBe('conversation');
    const malformed = await client.responses.create({ model: 'mock-model', input: 'x', conversation: 'not a conversation id' }).catch((e) => e);
    expect(malformed).toBeInstanceOf(BadRequestError);
    expect(malformed.param).toBe('conversation');
    expect(await mock.requests(CHAT)).toHaveLength(0);
  });

  it('refuses conversation together with previous_response_id, naming both', async () => {
    const conv = await client.conversations.create();
    const prev = await client.responses.create({ model: 'mock-model', input: 'first' });
    await mock.reset();
    const err = await client.responses.create({ model: 'mock-model', input: 'x', conversation: conv.id, previous_response_id: prev.id }).catch((e) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.message).toContain('conversation');
    expect(err.message).toContain('previous_response_id');
    expect(await mock.requests(CHAT)).toHaveLength(0);
  });
  it('lists only its own input as input_items, and a chain continued from it does not bring the conversation along', async () => {
    const conv = await client.conversations.create({ items: [{ type: 'message', role: 'user', content: 'conversation secret' }] });
    await mock.enqueue({ type: 'text', text: 'ok' }, { type: 'text', text: 'next' });
    const inConv = await client.responses.create({ model: 'mock-model', input: 'in the conversation', conversation: conv.id });
    const inputItems = await client.responses.inputItems.list(inConv.id);
    expect(inputItems.data.map((i: any) => i.content[0].text)).toEqual(['in the conversation']);
    const chained = await client.responses.create({ model: 'mock-model', input: 'chained', previous_response_id: inConv.id });
    expect(chained.conversation).toBeNull();
    const [, call] = await mock.requests(CHAT);
    expect(texts(call!.body.messages)).toEqual(['user:in the conversation', 'assistant:ok', 'user:chained']);
    expect(await itemTexts(conv.id)).toEqual(['user:conversation secret', 'user:in the conversation', 'assistant:ok']);
  });

  it('appends an incomplete response, and nothing when the model server fails', async () => {
    const conv = await client.conversations.create();
    await mock.enqueue({ type: 'text', text: 'cut sh', finish_reason: 'length' });
    const cut = await client.responses.create({ model: 'mock-model', input: 'long story', conversation: conv.id });
    expect(cut.status).toBe('incomplete');
    await mock.enqueue({ type: 'error', status: 500, body: { error: { message: 'boom' } } });
    await expect(client.responses.create({ model: 'mock-model', input: 'fails', conversation: conv.id })).rejects.toThrow();
    expect(await itemTexts(conv.id)).toEqual(['user:long story', 'assistant:cut sh']);
  });

  it('refuses an input item that is already in the conversation, before calling the model', async () => {
    const conv = await client.conversations.create();
    const first = await client.responses.create({ model: 'mock-model', input: 'hello', conversation: conv.id });
    await mock.reset();
    const err = await client.responses
      .create({ model: 'mock-model', conversation: conv.id, input: [first.output[0] as any, { role: 'user', content: 'again' }] })
      .catch((e) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.param).toBe('input[0].id');
    expect(await mock.requests(CHAT)).toHaveLength(0);
  });

  it('counts input tokens with the conversation as context', async () => {
    const conv = await client.conversations.create({ items: [{ type: 'message', role: 'user', content: 'x'.repeat(4000) }] });
    const withConv = await client.responses.inputTokens.count({ input: 'hi', conversation: conv.id });
    const without = await client.responses.inputTokens.count({ input: 'hi' });
    expect(withConv.input_tokens).toBeGreaterThan(without.input_tokens + 500);
  });
});
