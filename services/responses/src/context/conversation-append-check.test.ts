import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../../test/support/errors.js';
import type { ResponseItem } from '../wire/response-types.js';
import { checkAppendable } from './conversation-append-check.js';

const CONV = 'conv_' + 'a'.repeat(48);
const message: ResponseItem = { id: 'my-id', type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_text', text: 'x' }] };
// A stored item the conversation would refuse (e.g. resolved by item_reference from an older response).
const foreign: ResponseItem = { id: 'rs_1', type: 'reasoning', summary: [], vendor_extra: 1 };

describe('checkAppendable', () => {
  it('passes items the conversation accepts, whatever their id prefix', () => {
    expect(() => checkAppendable([message], { conversationId: CONV, store: true })).not.toThrow();
  });

  it('refuses, naming the input item, what the conversation would refuse', () => {
    const err = errorOf(() => checkAppendable([message, foreign], { conversationId: CONV, store: undefined }));
    expect([err.status, err.param, err.code]).toEqual([400, 'input[1].vendor_extra', 'item_not_appendable']);
    expect(err.message).toContain(`cannot be added to conversation '${CONV}'`);
  });

  it('checks nothing when nothing will be appended (no conversation, or store false)', () => {
    expect(() => checkAppendable([foreign], { conversationId: null, store: true })).not.toThrow();
    expect(() => checkAppendable([foreign], { conversationId: CONV, store: false })).not.toThrow();
  });
});
