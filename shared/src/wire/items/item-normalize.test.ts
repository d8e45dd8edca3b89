import { describe, expect, it } from 'vitest';
import { VALID_ITEMS } from './__fixtures__/valid-items.js';
import { copyReferencedItem, mintItemId, toStoredItem } from './item-normalize.js';
import { validateInputItem, type InputItem } from './item-schema.js';

const HEX48 = '[0-9a-f]{48}';
const stored = (raw: Record<string, unknown>) => toStoredItem(validateInputItem(raw, 'input[0]'));

describe('toStoredItem', () => {
  it('mints ids by type', () => {
    expect(stored({ type: 'message', role: 'user', content: 'x' }).id).toMatch(new RegExp(`^msg_${HEX48}$`));
    expect(stored({ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }).id).toMatch(/^fc_/);
    expect(stored({ type: 'function_call_output', call_id: 'c', output: 'o', id: null }).id).toMatch(/^fco_/);
    expect(stored({ type: 'reasoning', summary: [] }).id).toMatch(/^rs_/);
    expect(stored({ type: 'mcp_call', server_label: 's', name: 'n', arguments: '{}' }).id).toMatch(/^mcp_/);
    expect(stored({ type: 'file_search_call', status: 'completed', queries: [] }).id).toMatch(/^fs_/);
    expect(stored({ type: 'web_search_call', status: 'completed', action: { type: 'search' } }).id).toMatch(/^ws_/);
    expect(mintItemId('something_new')).toMatch(/^item_/);
  });

  it('keeps every valid item as it was given, with its id, adding only the defaults the API returns', () => {
    for (const [type, item] of Object.entries(VALID_ITEMS)) {
      const out = stored(item);
      expect(out, type).toMatchObject(item);
      expect(out.id, type).toBe(item.id);
    }
  });

  it('expands string content to input_text, or output_text for the assistant, and keeps phase', () => {
    expect(stored({ role: 'user', content: 'hello' })).toEqual({ id: expect.any(String), type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_text', text: 'hello' }] });
    expect(stored({ role: 'assistant', content: 'hi', phase: 'final_answer' })).toMatchObject({
      content: [{ type: 'output_text', text: 'hi', annotations: [], logprobs: [] }],
      phase: 'final_answer',
    });
    expect(stored({ role: 'assistant', content: [{ type: 'input_text', text: 'earlier' }] }).content).toEqual([{ type: 'input_text', text: 'earlier' }]);
  });

  it('fills the defaults the API returns and drops optional nulls', () => {
    const item = stored({
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
    expect(stored({ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}', namespace: null }).status).toBe('completed');
    expect(stored({ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}', namespace: null })).not.toHaveProperty('namespace');
    expect(stored({ type: 'computer_call_output', call_id: 'c', output: { type: 'computer_screenshot', file_id: 'f' } }).status).toBe('completed');
    // Nullable fields the spec requires stay, as null.
    const ci = stored({ type: 'code_interpreter_call', status: 'completed', container_id: 'c', code: null, outputs: null });
    expect(ci).toMatchObject({ code: null, outputs: null });
    expect(ci).not.toHaveProperty('id', null);
  });

  it('keeps a namespace and caller of a function call (replayed back as sent)', () => {
    const call = stored({ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}', namespace: 'ns', caller: { type: 'direct' } });
    expect(call).toMatchObject({ namespace: 'ns', caller: { type: 'direct' } });
  });

  it('normalises the parts of a tool output list', () => {
    const out = stored({ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_image', file_id: 'file-1' }] });
    expect(out.output).toEqual([{ type: 'input_image', image_url: null, file_id: 'file-1', detail: 'auto' }]);
  });
});

describe('copyReferencedItem', () => {
  it('copies the item under a fresh id of its type', () => {
    const copy = copyReferencedItem({ id: 'fc_old', type: 'function_call', name: 'f' } as InputItem & { id: string });
    expect(copy.id).toMatch(/^fc_/);
    expect(copy.id).not.toBe('fc_old');
    expect(copy.name).toBe('f');
  });
});
