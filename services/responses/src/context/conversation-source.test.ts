import { ApiError } from '@rgw/shared';
import { describe, expect, it, vi } from 'vitest';
import { errorOf } from '../../../../test/support/errors.js';
import { newResponseObject } from '../response/response-object.js';
import type { CreateResponseBody } from '../wire/create-response-schema.js';
import type { ResponseItem, ResponseObject } from '../wire/response-types.js';
import { checkNoDuplicates, ConversationSource, conversationIdOf, itemsToAppend, owedAppend, type ConversationsApi } from './conversation-source.js';

const CONV = 'conv_' + 'a'.repeat(48);
const item = (id: string): ResponseItem => ({ id, type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text: id }] });

function response(status: ResponseObject['status'], opts: { store?: boolean; conversation?: boolean } = {}): ResponseObject {
  const body = { model: 'm', store: opts.store ?? true } as CreateResponseBody;
  const r = newResponseObject('resp_1', body, 0, status, { conversationId: opts.conversation === false ? null : CONV });
  r.output = [item('msg_out')];
  return r;
}

describe('conversationIdOf', () => {
  it('takes an id or {id}, and null without a conversation', () => {
    expect(conversationIdOf({ conversation: CONV })).toBe(CONV);
    expect(conversationIdOf({ conversation: { id: CONV } })).toBe(CONV);
    expect(conversationIdOf({})).toBeNull();
  });

  it('refuses an id that is not a conversation id, naming `conversation`', () => {
    const err = errorOf(() => conversationIdOf({ conversation: 'resp_123' }));
    expect([err.status, err.param, err.code]).toEqual([400, 'conversation', 'invalid_value']);
    expect(errorOf(() => conversationIdOf({ conversation: 'conv_' })).status).toBe(400);
  });

  it('refuses conversation together with previous_response_id, naming both', () => {
    const err = errorOf(() => conversationIdOf({ conversation: CONV, previous_response_id: 'resp_1' }));
    expect(err.status).toBe(400);
    expect(err.message).toContain("'conversation'");
    expect(err.message).toContain("'previous_response_id'");
  });
});

describe('itemsToAppend', () => {
  const input = [item('msg_in')];

  it('appends input then output of a completed or incomplete response', () => {
    expect(itemsToAppend(response('completed'), input).map((i) => i.id)).toEqual(['msg_in', 'msg_out']);
    expect(itemsToAppend(response('incomplete'), input).map((i) => i.id)).toEqual(['msg_in', 'msg_out']);
  });

  it('appends nothing for a failed or cancelled response, with store false, or without a conversation', () => {
    expect(itemsToAppend(response('failed'), input)).toEqual([]);
    expect(itemsToAppend(response('cancelled'), input)).toEqual([]);
    expect(itemsToAppend(response('completed', { store: false }), input)).toEqual([]);
    expect(itemsToAppend(response('completed', { conversation: false }), input)).toEqual([]);
  });
});

describe('checkNoDuplicates', () => {
  it('names the input item that is already in the conversation or repeated in the input', () => {
    expect(() => checkNoDuplicates([item('msg_a')], [item('msg_b')])).not.toThrow();
    const inConversation = errorOf(() => checkNoDuplicates([item('msg_a')], [item('msg_b'), item('msg_a')]));
    expect([inConversation.status, inConversation.param, inConversation.code]).toEqual([400, 'input[1].id', 'duplicate_item']);
    expect(errorOf(() => checkNoDuplicates([], [item('msg_x'), item('msg_x')])).param).toBe('input[1].id');
  });
});

describe('ConversationSource', () => {
  const api = (overrides: Partial<ConversationsApi>): ConversationsApi => ({
    listAllItems: vi.fn(async () => []),
    appendItems: vi.fn(async () => []),
    ...overrides,
  });

  it("renames the conversations service's 404 to our `conversation` param and passes the request id", async () => {
    const listAllItems = vi.fn(async () => {
      throw new ApiError(404, 'Conversation not found.', { param: 'conversation_id', code: 'not_found' });
    });
    const err = await new ConversationSource(api({ listAllItems })).items(CONV, { requestId: 'req_1' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 404, param: 'conversation' });
    expect(listAllItems).toHaveBeenCalledWith(CONV, { requestId: 'req_1' });
  });

  it('keeps server errors as they are', async () => {
    const boom = new ApiError(502, 'unreachable');
    const err = await new ConversationSource(api({ listAllItems: vi.fn(async () => Promise.reject(boom)) })).items(CONV).catch((e: unknown) => e);
    expect(err).toBe(boom);
  });

  it('owes a finished response its append (completed/incomplete only), and lets pending appends land before reading', async () => {
    expect(owedAppend(response('completed'), [item('msg_in')])).toEqual({ conversationId: CONV, items: [item('msg_in'), item('msg_out')] });
    expect(owedAppend(response('failed'), [item('msg_in')])).toBeUndefined();

    const order: string[] = [];
    const settle = vi.fn(async () => void order.push('settle'));
    const listAllItems = vi.fn(async () => (order.push('list'), []));
    await new ConversationSource(api({ listAllItems }), { settle }).items(CONV, { requestId: 'req_3' });
    expect(settle).toHaveBeenCalledWith(CONV, { requestId: 'req_3' });
    expect(order).toEqual(['settle', 'list']);
  });
});
