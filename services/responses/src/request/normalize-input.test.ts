import type { ApiError } from '@rgw/shared';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../../test/support/errors.js';
import { normalizeInput } from './normalize-input.js';

const paramOf = (item: unknown) => errorOf<ApiError>(() => normalizeInput([item])).param;

describe('normalizeInput: what the spec forbids', () => {
  it('refuses output parts in user, system and developer messages, naming the part', () => {
    for (const role of ['user', 'system', 'developer']) {
      expect(paramOf({ role, content: [{ type: 'input_text', text: 'a' }, { type: 'output_text', text: 'b' }] })).toBe('input[0].content[1].type');
    }
    expect(paramOf({ role: 'user', content: [{ type: 'refusal', refusal: 'no' }] })).toBe('input[0].content[0].type');
  });

  it('accepts input_text in an assistant message (EasyInputMessage) and output_text there', () => {
    const [a, b] = normalizeInput([
      { role: 'assistant', content: [{ type: 'input_text', text: 'earlier answer' }] },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'x' }] },
    ]);
    expect(a).toMatchObject({ kind: 'item', item: { role: 'assistant', content: [{ type: 'input_text', text: 'earlier answer' }] } });
    expect(b).toMatchObject({ kind: 'item', item: { role: 'assistant' } });
  });

  it('checks the shape of reasoning items passed back, keeping fields it does not know', () => {
    expect(paramOf({ type: 'reasoning', summary: 'not a list' })).toBe('input[0].summary');
    expect(paramOf({ type: 'reasoning', summary: [{ type: 'summary_text' }] })).toBe('input[0].summary[0].text');
    expect(paramOf({ type: 'reasoning', summary: [], content: [{ type: 'output_text', text: 'x' }] })).toBe('input[0].content[0].type');
    const [ok] = normalizeInput([{ type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 's' }], content: [{ type: 'reasoning_text', text: 't' }], vendor_extra: 1 }]);
    expect(ok).toMatchObject({ kind: 'item', item: { id: 'rs_1', type: 'reasoning', vendor_extra: 1 } });
  });
});
