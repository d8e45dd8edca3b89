import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../../test/support/errors.js';
import { VALID_ITEMS } from './__fixtures__/valid-items.js';
import { ITEM_TYPES, inputItemSchema, quoteList, validateInputItem, validateInputItems } from './item-schema.js';

/** For each type, one way to break it and the param that must be named. */
const INVALID: Record<string, [Record<string, unknown>, string]> = {
  message: [{ role: 'user', content: [{ type: 'input_text' }] }, 'content[0].text'],
  function_call: [{ name: undefined }, 'name'],
  function_call_output: [{ call_id: 'x'.repeat(65) }, 'call_id'],
  reasoning: [{ summary: [{ type: 'text', text: 'x' }] }, 'summary[0].type'],
  file_search_call: [{ queries: 'q' }, 'queries'],
  web_search_call: [{ action: { type: 'browse' } }, 'action.type'],
  computer_call: [{ pending_safety_checks: undefined }, 'pending_safety_checks'],
  computer_call_output: [{ output: { type: 'input_image', image_url: 'x' } }, 'output.type'],
  image_generation_call: [{ status: 'done' }, 'status'],
  code_interpreter_call: [{ container_id: undefined }, 'container_id'],
  local_shell_call: [{ action: undefined }, 'action'],
  local_shell_call_output: [{ output: 5 }, 'output'],
  shell_call: [{ call_id: undefined }, 'call_id'],
  shell_call_output: [{ output: 'text' }, 'output'],
  apply_patch_call: [{ status: 'failed' }, 'status'],
  apply_patch_call_output: [{ status: 'in_progress' }, 'status'],
  mcp_list_tools: [{ server_label: undefined }, 'server_label'],
  mcp_approval_request: [{ arguments: {} }, 'arguments'],
  mcp_approval_response: [{ approve: 'yes' }, 'approve'],
  mcp_call: [{ status: 'done' }, 'status'],
  custom_tool_call: [{ input: undefined }, 'input'],
  custom_tool_call_output: [{ output: [{ type: 'refusal', refusal: 'x' }] }, 'output[0].type'],
};

describe('validateInputItem: every item type', () => {
  it('has a valid and an invalid example for every type but item_reference', () => {
    expect(Object.keys(VALID_ITEMS).sort()).toEqual(ITEM_TYPES.filter((t) => t !== 'item_reference').sort());
    expect(Object.keys(INVALID).sort()).toEqual(Object.keys(VALID_ITEMS).sort());
  });

  for (const [type, item] of Object.entries(VALID_ITEMS)) {
    it(`accepts a ${type} (also through the zod union) and refuses a broken one, naming the field`, () => {
      expect(validateInputItem(item, 'input[0]')).toEqual(item);
      expect(inputItemSchema.safeParse(item).success).toBe(true);
      const [patch, param] = INVALID[type]!;
      const err = errorOf(() => validateInputItem({ ...item, ...patch }, 'input[3]'));
      expect([err.status, err.param]).toEqual([400, `input[3].${param}`]);
      const unknown = errorOf(() => validateInputItem({ ...item, colour: 'red' }, 'input[0]'));
      expect([unknown.param, unknown.code]).toEqual(['input[0].colour', 'unknown_parameter']);
    });
  }
});

describe('validateInputItem', () => {
  it('takes an easy message without type as a message, and a bare {id} as an item reference', () => {
    expect(validateInputItem({ role: 'user', content: 'hi' }, 'items[0]')).toEqual({ role: 'user', content: 'hi', type: 'message' });
    expect(validateInputItem({ id: 'msg_1' }, 'items[0]')).toEqual({ id: 'msg_1', type: 'item_reference' });
  });

  it('keeps phase on messages, as the spec types it', () => {
    expect(validateInputItem({ role: 'assistant', content: 'x', phase: 'commentary' }, 'input[0]').phase).toBe('commentary');
    expect(errorOf(() => validateInputItem({ role: 'assistant', content: 'x', phase: 'draft' }, 'input[0]')).param).toBe('input[0].phase');
  });

  it('takes input parts for users and input or output parts for the assistant', () => {
    const user = { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_image', image_url: 'https://x/y.png' }, { type: 'input_file', file_id: 'file-1' }] };
    expect(validateInputItem(user, 'items[0]').content).toHaveLength(3);
    const assistant = { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'b', annotations: [] }, { type: 'refusal', refusal: 'no' }] };
    expect(validateInputItem(assistant, 'items[0]').content).toHaveLength(2);
    // EasyInputMessage: an earlier answer replayed as input text.
    expect(validateInputItem({ role: 'assistant', content: [{ type: 'input_text', text: 'x' }] }, 'items[0]').content).toHaveLength(1);
  });

  it('refuses output parts outside assistant messages, naming the part', () => {
    for (const role of ['user', 'system', 'developer']) {
      const err = errorOf(() => validateInputItem({ role, content: [{ type: 'input_text', text: 'a' }, { type: 'output_text', text: 'x' }] }, 'input[0]'));
      expect(err.param).toBe('input[0].content[1].type');
      expect(err.message).toBe("Invalid value: 'output_text'. Supported values are: 'input_text', 'input_image', and 'input_file'.");
    }
  });

  it('names the param of bad content, bad roles and missing fields', () => {
    expect(errorOf(() => validateInputItem({ role: 'user', content: 5 }, 'items[0]')).param).toBe('items[0].content');
    expect(errorOf(() => validateInputItem({ role: 'user' }, 'items[1]')).param).toBe('items[1].content');
    expect(errorOf(() => validateInputItem({ role: 'robot', content: 'x' }, 'items[0]')).param).toBe('items[0].role');
    expect(errorOf(() => validateInputItem({ type: 'function_call_output', output: 'x' }, 'input[0]')).param).toBe('input[0].call_id');
    expect(errorOf(() => validateInputItem({ type: 'function_call_output', call_id: 'c', output: 'x'.repeat(10_485_761) }, 'input[0]')).param).toBe('input[0].output');
  });

  it('refuses unknown item types and untyped non-items', () => {
    const err = errorOf(() => validateInputItem({ type: 'banana' }, 'items[0]'));
    expect(err.param).toBe('items[0].type');
    expect(err.message).toContain("'message', 'function_call'");
    expect(err.message).toContain("'file_search_call'");
    expect(errorOf(() => validateInputItem({ content: 'x' }, 'items[0]')).param).toBe('items[0].type');
    expect(errorOf(() => validateInputItem('hello', 'items[0]')).param).toBe('items[0]');
  });

  it('keeps any URL-safe caller id whatever its prefix, and refuses others', () => {
    expect(validateInputItem({ id: 'abc', type: 'message', role: 'user', content: 'x' }, 'items[0]').id).toBe('abc');
    expect(validateInputItem({ id: 'call-1', type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }, 'items[0]').id).toBe('call-1');
    expect(errorOf(() => validateInputItem({ id: 'msg 1', type: 'message', role: 'user', content: 'x' }, 'items[0]')).param).toBe('items[0].id');
    expect(errorOf(() => validateInputItem({ id: 'a/b', type: 'item_reference' }, 'items[0]')).param).toBe('items[0].id');
    expect(errorOf(() => validateInputItem({ id: 'x'.repeat(129), role: 'user', content: 'x' }, 'items[0]')).param).toBe('items[0].id');
  });

  it('needs an image_url or a file_id on input images, and a source on input files', () => {
    expect(errorOf(() => validateInputItem({ role: 'user', content: [{ type: 'input_image', detail: 'low' }] }, 'items[0]')).param).toBe('items[0].content[0].image_url');
    expect(errorOf(() => validateInputItem({ role: 'user', content: [{ type: 'input_file', filename: 'a' }] }, 'items[0]')).param).toBe('items[0].content[0].file_id');
  });
});

describe('validateInputItems', () => {
  it('refuses more than 20 items and non-arrays', () => {
    const items = Array.from({ length: 21 }, () => ({ role: 'user', content: 'x' }));
    const err = errorOf(() => validateInputItems(items, 'items'));
    expect([err.param, err.code]).toEqual(['items', 'array_above_max_length']);
    expect(validateInputItems(items.slice(0, 20), 'items')).toHaveLength(20);
    expect(errorOf(() => validateInputItems({}, 'items')).param).toBe('items');
  });
});

describe('quoteList', () => {
  it('lists as OpenAI does', () => {
    expect(quoteList(['a'])).toBe("'a'");
    expect(quoteList(['a', 'b'])).toBe("'a' and 'b'");
    expect(quoteList(['a', 'b', 'c'])).toBe("'a', 'b', and 'c'");
  });
});
