import { describe, expect, it } from 'vitest';
import { ApiError } from '@rgw/shared';
import { quoteList, validateInputItem, validateInputItems } from './item-schema.js';
import { errorOf } from '../../../test/support/errors.js';

describe('validateInputItem', () => {
  it('takes an easy message without type as a message', () => {
    expect(validateInputItem({ role: 'user', content: 'hi' }, 'items[0]')).toEqual({ role: 'user', content: 'hi', type: 'message' });
  });

  it('takes a bare {id} as an item reference', () => {
    expect(validateInputItem({ id: 'msg_1' }, 'items[0]')).toEqual({ id: 'msg_1', type: 'item_reference' });
  });

  it('accepts input parts for users and output parts for the assistant', () => {
    const user = { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_image', image_url: 'https://x/y.png' }, { type: 'input_file', file_id: 'file-1' }] };
    expect(validateInputItem(user, 'items[0]').content).toHaveLength(3);
    const assistant = { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'b', annotations: [] }, { type: 'refusal', refusal: 'no' }] };
    expect(validateInputItem(assistant, 'items[0]').content).toHaveLength(2);
  });

  it('refuses a part type the role does not allow, naming the part', () => {
    const err = errorOf(() => validateInputItem({ role: 'assistant', content: [{ type: 'input_text', text: 'x' }] }, 'items[2]'));
    expect(err.status).toBe(400);
    expect(err.param).toBe('items[2].content[0].type');
    expect(err.message).toBe("Invalid value: 'input_text'. Supported values are: 'output_text' and 'refusal'.");
    expect(errorOf(() => validateInputItem({ role: 'user', content: [{ type: 'output_text', text: 'x' }] }, 'items[0]')).param).toBe('items[0].content[0].type');
  });

  it('names the param of bad content, bad roles, missing fields and unknown fields', () => {
    expect(errorOf(() => validateInputItem({ role: 'user', content: 5 }, 'items[0]')).param).toBe('items[0].content');
    expect(errorOf(() => validateInputItem({ role: 'robot', content: 'x' }, 'items[0]')).param).toBe('items[0].role');
    expect(errorOf(() => validateInputItem({ role: 'user', content: [{ type: 'input_text' }] }, 'items[1]')).param).toBe('items[1].content[0].text');
    expect(errorOf(() => validateInputItem({ type: 'function_call', call_id: 'c', arguments: '{}' }, 'items[0]')).param).toBe('items[0].name');
    const unknown = errorOf(() => validateInputItem({ role: 'user', content: 'x', colour: 'red' }, 'items[0]'));
    expect(unknown.param).toBe('items[0].colour');
    expect(unknown.code).toBe('unknown_parameter');
  });

  it('refuses unknown item types and untyped non-items', () => {
    const err = errorOf(() => validateInputItem({ type: 'banana' }, 'items[0]'));
    expect(err.param).toBe('items[0].type');
    expect(err.message).toContain("'message', 'function_call'");
    expect(errorOf(() => validateInputItem({ content: 'x' }, 'items[0]')).param).toBe('items[0].type');
    expect(errorOf(() => validateInputItem('hello', 'items[0]')).param).toBe('items[0]');
  });

  it('checks the prefix of caller-supplied ids where OpenAI does', () => {
    expect(errorOf(() => validateInputItem({ id: 'abc', type: 'message', role: 'user', content: 'x' }, 'items[0]')).message).toBe(
      "Invalid 'items[0].id': 'abc'. Expected an ID that begins with 'msg'.",
    );
    expect(errorOf(() => validateInputItem({ id: 'msg 1', type: 'message', role: 'user', content: 'x' }, 'items[0]')).param).toBe('items[0].id');
    expect(validateInputItem({ id: 'fc_1', type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }, 'items[0]').id).toBe('fc_1');
  });

  it('validates function_call_output content parts and reasoning summaries', () => {
    expect(validateInputItem({ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_text', text: 'r' }] }, 'items[0]').output).toHaveLength(1);
    expect(errorOf(() => validateInputItem({ type: 'function_call_output', call_id: 'c', output: [{ type: 'refusal', refusal: 'x' }] }, 'items[0]')).param).toBe(
      'items[0].output[0].type',
    );
    expect(errorOf(() => validateInputItem({ type: 'function_call_output', call_id: 'x'.repeat(65), output: 'r' }, 'items[0]')).param).toBe('items[0].call_id');
    expect(errorOf(() => validateInputItem({ type: 'reasoning', summary: [{ type: 'text', text: 'x' }] }, 'items[0]')).param).toBe('items[0].summary[0].type');
  });

  it('accepts hosted-tool items loosely by type', () => {
    const item = validateInputItem({ type: 'mcp_call', server_label: 's', name: 'n', arguments: '{}', extra: { any: 1 } }, 'items[0]');
    expect(item).toMatchObject({ type: 'mcp_call', extra: { any: 1 } });
  });

  it('needs an image_url or a file_id on input images', () => {
    expect(errorOf(() => validateInputItem({ role: 'user', content: [{ type: 'input_image', detail: 'low' }] }, 'items[0]')).param).toBe('items[0].content[0].image_url');
  });
});

describe('validateInputItems', () => {
  it('refuses more than 20 items and non-arrays', () => {
    const items = Array.from({ length: 21 }, () => ({ role: 'user', content: 'x' }));
    const err = errorOf(() => validateInputItems(items, 'items'));
    expect(err.param).toBe('items');
    expect(err.code).toBe('array_above_max_length');
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
