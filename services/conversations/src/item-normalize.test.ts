import { describe, expect, it } from 'vitest';
import { copyReferencedItem, mintItemId, toStoredItem } from './item-normalize.js';

const HEX48 = '[0-9a-f]{48}';

describe('toStoredItem', () => {
  it('mints ids by type', () => {
    expect(toStoredItem({ type: 'message', role: 'user', content: 'x' }).id).toMatch(new RegExp(`^msg_${HEX48}$`));
    expect(toStoredItem({ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }).id).toMatch(/^fc_/);
    expect(toStoredItem({ type: 'function_call_output', call_id: 'c', output: 'o', id: null }).id).toMatch(/^fco_/);
    expect(toStoredItem({ type: 'reasoning', summary: [] }).id).toMatch(/^rs_/);
    expect(toStoredItem({ type: 'mcp_call', name: 'n' }).id).toMatch(/^mcp_/);
    expect(mintItemId('something_new')).toMatch(/^item_/);
  });

  it('keeps a caller-supplied id', () => {
    expect(toStoredItem({ type: 'message', id: 'msg_mine', role: 'user', content: 'x' }).id).toBe('msg_mine');
  });

  it('expands string content to input_text, or output_text for the assistant', () => {
    expect(toStoredItem({ type: 'message', role: 'user', content: 'hello' })).toMatchObject({
      type: 'message',
      status: 'completed',
      role: 'user',
      content: [{ type: 'input_text', text: 'hello' }],
    });
    expect(toStoredItem({ type: 'message', role: 'assistant', content: 'hi' }).content).toEqual([
      { type: 'output_text', text: 'hi', annotations: [], logprobs: [] },
    ]);
  });

  it('fills the defaults the API returns', () => {
    const item = toStoredItem({
      type: 'message',
      role: 'user',
      status: 'incomplete',
      content: [{ type: 'input_image', image_url: 'https://x/y.png' }, { type: 'input_file', file_id: 'file-1', filename: null }],
    });
    expect(item.status).toBe('incomplete');
    expect(item.content).toEqual([
      { type: 'input_image', image_url: 'https://x/y.png', file_id: null, detail: 'auto' },
      { type: 'input_file', file_id: 'file-1' },
    ]);
    expect(toStoredItem({ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }).status).toBe('completed');
  });
});

describe('copyReferencedItem', () => {
  it('copies the item under a fresh id of its type', () => {
    const copy = copyReferencedItem({ id: 'fc_old', type: 'function_call', name: 'f' });
    expect(copy.id).toMatch(/^fc_/);
    expect(copy.id).not.toBe('fc_old');
    expect(copy.name).toBe('f');
  });
});
