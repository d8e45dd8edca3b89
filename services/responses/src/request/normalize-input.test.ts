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

  it('checks the shape of reasoning items passed back, field by field as the spec types them', () => {
    expect(paramOf({ type: 'reasoning', summary: 'not a list' })).toBe('input[0].summary');
    expect(paramOf({ type: 'reasoning', summary: [{ type: 'summary_text' }] })).toBe('input[0].summary[0].text');
    expect(paramOf({ type: 'reasoning', summary: [], content: [{ type: 'output_text', text: 'x' }] })).toBe('input[0].content[0].type');
    // One item model with Conversations: a field the spec does not know is refused, not stored and later refused by the conversation.
    expect(paramOf({ type: 'reasoning', id: 'rs_1', summary: [], vendor_extra: 1 })).toBe('input[0].vendor_extra');
    const [ok] = normalizeInput([{ type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 's' }], content: [{ type: 'reasoning_text', text: 't' }] }]);
    expect(ok).toMatchObject({ kind: 'item', item: { id: 'rs_1', type: 'reasoning', content: [{ type: 'reasoning_text', text: 't' }] } });
  });
});

describe('normalizeInput: one item model with Conversations', () => {
  it('accepts hosted-tool items and keeps client ids and phase as given', () => {
    const out = normalizeInput([
      { id: 'my-message', role: 'assistant', content: 'x', phase: 'commentary' },
      { type: 'file_search_call', id: 'search-1', status: 'completed', queries: ['q'], results: null },
    ]);
    expect(out).toEqual([
      { kind: 'item', item: { id: 'my-message', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'x', annotations: [], logprobs: [] }], phase: 'commentary' } },
      { kind: 'item', item: { id: 'search-1', type: 'file_search_call', status: 'completed', queries: ['q'], results: null } },
    ]);
  });

  it('returns item references to be resolved, and refuses ids that are not URL-safe', () => {
    expect(normalizeInput([{ type: 'item_reference', id: 'msg_1' }])).toEqual([{ kind: 'reference', id: 'msg_1', index: 0 }]);
    expect(paramOf({ id: 'has space', role: 'user', content: 'x' })).toBe('input[0].id');
  });
});
