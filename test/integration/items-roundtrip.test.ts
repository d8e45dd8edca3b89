import { BadRequestError } from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { VALID_ITEMS } from '../../shared/src/wire/items/__fixtures__/valid-items.js';
import { mock, openai, platforms } from '../support/context.js';

// One item model for Responses and Conversations: every item type a response accepts as input is
// appended to its conversation as sent (same id, same content), and `include` shapes what the
// Responses and Conversations APIs return of those items alike.

const ALL_INCLUDES = [
  'file_search_call.results',
  'web_search_call.action.sources',
  'message.input_image.image_url',
  'computer_call_output.output.image_url',
  'code_interpreter_call.outputs',
  'reasoning.encrypted_content',
  'message.output_text.logprobs',
] as const;

const IMAGE = 'data:image/png;base64,iVBORw0KGgo=';

/** Every input item type, plus the message shapes: an EasyInputMessage (no type) and an assistant message with a phase, ids not `msg_`. */
const INPUT: Record<string, unknown>[] = [
  { id: 'easy-1', role: 'developer', content: 'Answer briefly.' },
  ...Object.values(VALID_ITEMS),
  { id: 'assistant-1', type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Earlier answer.', annotations: [] }], phase: 'final_answer' },
  { id: 'user-2', role: 'user', content: 'And now?' },
];

describe.each(platforms)('one item model for responses and conversations ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  async function conversationItems(id: string, include: readonly string[] = ALL_INCLUDES): Promise<Record<string, any>[]> {
    const page = await client.conversations.items.list(id, { order: 'asc', limit: 100, include: include as never });
    return page.data as never;
  }

  it('appends every item type a response accepts to its conversation, with the same ids and content', async () => {
    const conv = await client.conversations.create();
    await mock.enqueue({ type: 'text', text: 'Done.' });
    const r = await client.responses.create({ model: 'mock-model', conversation: conv.id, input: INPUT as never });
    expect(r.status).toBe('completed');

    const items = await conversationItems(conv.id);
    expect(items.map((i) => i.id)).toEqual([...INPUT.map((i) => i.id), r.output[0]!.id]);
    INPUT.forEach((sent, i) => {
      const expected = typeof sent.content === 'string' ? { ...sent, content: [{ type: 'input_text', text: sent.content }] } : sent;
      expect(items[i], String(sent.id)).toMatchObject({ ...expected, type: sent.type ?? 'message' });
    });
    // Content as sent: parts kept (defaults filled in), a string expanded into one text part.
    expect(items[0]!.content).toEqual([{ type: 'input_text', text: 'Answer briefly.' }]);
    expect(items[1]!.content).toEqual([
      { type: 'input_text', text: 'hi' },
      { type: 'input_image', image_url: IMAGE, file_id: null, detail: 'auto' },
    ]);
    expect(items.find((i) => i.id === 'assistant-1')).toMatchObject({ phase: 'final_answer', content: [{ type: 'output_text', text: 'Earlier answer.', annotations: [], logprobs: [] }] });
    expect(items.at(-1)).toMatchObject({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Done.' }] });

    // The response's own input items are the same items.
    const inputItems = await client.responses.inputItems.list(r.id, { order: 'asc', limit: 100, include: ALL_INCLUDES as never });
    expect(inputItems.data).toEqual(items.slice(0, INPUT.length));
  });

  it('replays messages, function calls, custom tool calls and file searches (a tool run here) to the model, and leaves other hosted-tool items out', async () => {
    await client.responses.create({ model: 'mock-model', input: INPUT as never });
    const [call] = await mock.requests('/v1/chat/completions');
    const messages = call!.body.messages as Record<string, any>[];
    expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant', 'tool', 'assistant', 'tool', 'assistant', 'user']);
    expect(messages[2]!.tool_calls.map((c: any) => c.function.name)).toEqual(['get_weather']);
    expect(messages[4]!.tool_calls.map((c: any) => c.function)).toEqual([{ name: 'file_search', arguments: '{"queries":["q"]}' }]);
    expect(messages[5]).toMatchObject({ role: 'tool', content: '[a.txt]\na' });
    expect(messages[6]!.tool_calls.map((c: any) => c.function)).toEqual([{ name: 'grammar', arguments: 'x' }]);
  });

  it('appends the items of a streamed response too', async () => {
    const conv = await client.conversations.create();
    const sent = [VALID_ITEMS.file_search_call!, VALID_ITEMS.web_search_call!, { id: 'stream-q', role: 'user', content: 'q' }];
    const stream = client.responses.stream({ model: 'mock-model', conversation: conv.id, input: sent as never });
    const final = await stream.finalResponse();
    const items = await conversationItems(conv.id);
    expect(items.map((i) => i.id)).toEqual(['client-fs-1', 'client-ws-1', 'stream-q', final.output[0]!.id]);
    expect(items[0]).toEqual(VALID_ITEMS.file_search_call);
    expect(items[1]).toEqual(VALID_ITEMS.web_search_call);
  });

  it('refuses, before anything streams, input the conversation would refuse, and appends nothing', async () => {
    const conv = await client.conversations.create({ items: [{ id: 'taken', type: 'message', role: 'user', content: 'x' } as never] });
    const err = await client.responses.create({ model: 'mock-model', conversation: conv.id, stream: true, input: [{ id: 'taken', role: 'user', content: 'again' }] }).catch((e) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.param).toBe('input[0].id');
    const bad = await client.responses.create({ model: 'mock-model', conversation: conv.id, input: [{ id: 'no spaces please', role: 'user', content: 'x' }] }).catch((e) => e);
    expect([bad.status, bad.param]).toEqual([400, 'input[0].id']);
    expect((await conversationItems(conv.id)).map((i) => i.id)).toEqual(['taken']);
    expect(await mock.requests('/v1/chat/completions')).toHaveLength(0);
  });

  it('applies include to conversation items and to a response’s input items alike', async () => {
    const conv = await client.conversations.create();
    const sent = [VALID_ITEMS.message!, VALID_ITEMS.reasoning!, VALID_ITEMS.file_search_call!, VALID_ITEMS.computer_call_output!, VALID_ITEMS.code_interpreter_call!];
    const r = await client.responses.create({ model: 'mock-model', conversation: conv.id, input: sent as never });
    const plainInput = (await client.responses.inputItems.list(r.id, { order: 'asc' })).data as Record<string, any>[];
    const plainConv = (await conversationItems(conv.id, [])).slice(0, sent.length);
    for (const plain of [plainInput, plainConv]) {
      expect(plain[0]!.content[1]).toEqual({ type: 'input_image', image_url: null, file_id: null, detail: 'auto' });
      expect(plain[1]).not.toHaveProperty('encrypted_content');
      expect(plain[2]!.results).toBeNull();
      expect(plain[3]!.output.image_url).toBeNull();
      expect(plain[4]!.outputs).toBeNull();
    }
    const full = (await client.responses.inputItems.list(r.id, { order: 'asc', include: ALL_INCLUDES as never })).data;
    expect(full).toEqual(sent.map((s, i) => ({ ...s, ...(i === 0 ? { status: 'completed', content: expect.any(Array) } : {}), ...(i === 3 ? { status: 'completed' } : {}) })));
    expect((full[0] as any).content[1].image_url).toBe(IMAGE);
    const onlyImages = (await client.responses.inputItems.list(r.id, { order: 'asc', include: ['message.input_image.image_url'] })).data as Record<string, any>[];
    expect(onlyImages[0]!.content[1].image_url).toBe(IMAGE);
    expect(onlyImages[1]).not.toHaveProperty('encrypted_content');
  });

  it('applies include on retrieve: logprobs only when asked for', async () => {
    await mock.enqueue({ type: 'text', text: 'Hi you', chunks: ['Hi', ' you'], logprobs: true });
    const r = await client.responses.create({ model: 'mock-model', input: 'x', top_logprobs: 2, include: ['message.output_text.logprobs'] });
    const logprobsOf = (res: { output: unknown[] }) => (res.output[0] as any).content[0].logprobs;
    expect(logprobsOf(r)).toHaveLength(2);
    expect(logprobsOf(await client.responses.retrieve(r.id))).toEqual([]);
    expect(logprobsOf(await client.responses.retrieve(r.id, { include: ['message.output_text.logprobs'] }))).toEqual(logprobsOf(r));
  });
});
