import { describe, expect, it } from 'vitest';
import { normalizeInput } from '../request/normalize-input.js';
import type { ResponseItem } from '../wire/response-types.js';
import { itemsToChatMessages } from './items-to-chat.js';

function items(input: unknown[]): ResponseItem[] {
  return normalizeInput(input).map((n) => (n.kind === 'item' ? n.item : { id: n.id, type: 'item_reference' }));
}

describe('itemsToChatMessages', () => {
  it('puts instructions first and maps roles (developer becomes system)', () => {
    const msgs = itemsToChatMessages('be nice', items([
      { role: 'developer', content: 'dev' },
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'u' },
      { role: 'assistant', content: 'a' },
    ]));
    expect(msgs).toEqual([
      { role: 'system', content: 'be nice\ndev\nsys' },
      { role: 'user', content: 'u' },
      { role: 'assistant', content: 'a' },
    ]);
  });

  it('keeps a system or developer message in the middle of the conversation where it is', () => {
    const msgs = itemsToChatMessages('rules', items([
      { role: 'user', content: 'u1' },
      { role: 'developer', content: 'now answer in French' },
      { role: 'user', content: 'u2' },
    ]));
    expect(msgs.map((m) => `${m.role}:${m.content}`)).toEqual(['system:rules', 'user:u1', 'system:now answer in French', 'user:u2']);
  });

  it('maps images, text files and other files to chat parts', () => {
    const textFile = `data:text/plain;base64,${Buffer.from('file body').toString('base64')}`;
    const [msg] = itemsToChatMessages(null, items([
      {
        role: 'user',
        content: [
          { type: 'input_text', text: 'look' },
          { type: 'input_image', image_url: 'https://x/y.png', detail: 'low' },
          { type: 'input_file', filename: 'notes.txt', file_data: textFile },
          { type: 'input_file', file_id: 'file-123' },
        ],
      },
    ]));
    expect(msg!.content).toEqual([
      { type: 'text', text: 'look' },
      { type: 'image_url', image_url: { url: 'https://x/y.png', detail: 'low' } },
      { type: 'text', text: '[file: notes.txt]\nfile body' },
      { type: 'file', file: { file_id: 'file-123' } },
    ]);
  });

  it('merges an assistant message and the function calls right after it into one tool_calls message', () => {
    const msgs = itemsToChatMessages(null, items([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'checking' },
      { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{}' },
      { type: 'function_call', call_id: 'c2', name: 'g', arguments: '{"x":1}' },
      { type: 'function_call_output', call_id: 'c1', output: 'one' },
      { type: 'function_call_output', call_id: 'c2', output: [{ type: 'input_text', text: 'two' }] },
    ]));
    expect(msgs).toEqual([
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: 'checking',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } },
          { id: 'c2', type: 'function', function: { name: 'g', arguments: '{"x":1}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'one' },
      { role: 'tool', tool_call_id: 'c2', content: 'two' },
    ]);
  });

  it('skips reasoning items and uses registered mappers for server-tool items', () => {
    const mappers = new Map([['echo_call', (i: ResponseItem) => [{ role: 'assistant' as const, content: `echo ${String(i.result)}` }]]]);
    const msgs = itemsToChatMessages(null, [
      { id: 'rs_1', type: 'reasoning', summary: [] },
      { id: 'x_1', type: 'echo_call', result: 'R' },
      { id: 'x_2', type: 'unknown_thing' },
    ], mappers);
    expect(msgs).toEqual([{ role: 'assistant', content: 'echo R' }]);
  });

  it('leaves a placeholder for an image given only by file_id (input-files/ puts its data URL in before the model is asked)', () => {
    expect(itemsToChatMessages(null, items([{ role: 'user', content: [{ type: 'input_image', file_id: 'file-1' }] }]))).toEqual([{ role: 'user', content: '[image: file-1]' }]);
  });
});

describe('normalizeInput', () => {
  it('gives every item an id and status, keeping ids the client sent', () => {
    const [a, b, c] = items([
      { role: 'user', content: 'x' },
      { type: 'function_call', id: 'fc_mine', call_id: 'c', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c', output: 'o' },
    ]);
    expect(a).toMatchObject({ id: expect.stringMatching(/^msg_/), status: 'completed', content: [{ type: 'input_text', text: 'x' }] });
    expect(b).toMatchObject({ id: 'fc_mine', status: 'completed' });
    expect(c).toMatchObject({ id: expect.stringMatching(/^fco_/), type: 'function_call_output' });
  });

  it('names the offending field of a bad item', () => {
    expect(() => normalizeInput([{ role: 'user', content: [{ type: 'input_text', text: 'ok' }, { type: 'input_image' }] }])).toThrow(expect.objectContaining({ param: 'input[0].content[1].image_url' }));
    expect(() => normalizeInput([{ type: 'function_call', name: 'f', arguments: '{}' }])).toThrow(expect.objectContaining({ param: 'input[0].call_id' }));
  });
});

describe('itemsToChatMessages: items of other tools', () => {
  it('replays a custom tool call and its output like a function call, its input as the arguments', () => {
    const msgs = itemsToChatMessages(null, items([
      { role: 'user', content: 'q' },
      { type: 'custom_tool_call', call_id: 'ct1', name: 'grammar', input: 'a b' },
      { type: 'custom_tool_call_output', call_id: 'ct1', output: 'ok' },
    ]));
    expect(msgs.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'ct1', type: 'function', function: { name: 'grammar', arguments: 'a b' } }] },
      { role: 'tool', tool_call_id: 'ct1', content: 'ok' },
    ]);
  });

  it('leaves out hosted-tool items (no tool of the model server made them) and a custom output without its call', () => {
    const msgs = itemsToChatMessages(null, items([
      { role: 'user', content: 'q' },
      { type: 'file_search_call', status: 'completed', queries: ['q'], results: [{ file_id: 'f', text: 't' }] },
      { type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'q' } },
      { type: 'computer_call', call_id: 'cu', action: { type: 'screenshot' }, pending_safety_checks: [], status: 'completed' },
      { type: 'computer_call_output', call_id: 'cu', output: { type: 'computer_screenshot', file_id: 'f' } },
      { type: 'mcp_call', server_label: 's', name: 'n', arguments: '{}', output: 'o' },
      { type: 'custom_tool_call_output', call_id: 'elsewhere', output: 'x' },
      { role: 'assistant', content: 'a' },
    ]));
    expect(msgs).toEqual([{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }]);
  });

  it('replays a hosted-tool item through the mapper its tool registered', () => {
    const mappers = new Map([['file_search_call', (item: ResponseItem) => [{ role: 'user' as const, content: `searched ${String((item.queries as string[])[0])}` }]]]);
    const msgs = itemsToChatMessages(null, items([{ type: 'file_search_call', status: 'completed', queries: ['cats'] }]), mappers);
    expect(msgs).toEqual([{ role: 'user', content: 'searched cats' }]);
  });
});

