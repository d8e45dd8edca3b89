import type { ApiError } from '@rgw/shared';
import { describe, expect, it, vi } from 'vitest';
import { errorOf } from '../../../../test/support/errors.js';
import type { ResponseStore } from '../store/response-store.js';
import type { ResponseItem } from '../wire/response-types.js';
import { assembleContext, type ContextDeps, type ContextSources } from './context-assembly.js';
import type { ConversationSource } from './conversation-source.js';

const CONV = 'conv_' + 'c'.repeat(48);
const user = (id: string, text: string): ResponseItem => ({ id, type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text }] });

function deps(conversationItems: ResponseItem[], chainItems: ResponseItem[]): ContextDeps & { items: ReturnType<typeof vi.fn>; chain: ReturnType<typeof vi.fn> } {
  const items = vi.fn(async () => conversationItems);
  const chain = vi.fn(async () => chainItems);
  return {
    store: { chainItems: chain } as unknown as ResponseStore,
    conversations: { items } as unknown as ConversationSource,
    mappers: new Map(),
    items,
    chain,
  };
}

const sources = (over: Partial<ContextSources>): ContextSources => ({ instructions: null, previousResponseId: null, conversationId: null, input: [user('msg_new', 'now')], ...over });

describe('assembleContext', () => {
  it("puts the conversation's items between the instructions and the new input", async () => {
    const d = deps([user('msg_old', 'earlier')], []);
    const out = await assembleContext(d, sources({ instructions: 'Be brief.', conversationId: CONV }), { requestId: 'req_1' });
    expect(d.items).toHaveBeenCalledWith(CONV, { requestId: 'req_1' });
    expect(d.chain).not.toHaveBeenCalled();
    expect(out.history.map((i) => i.id)).toEqual(['msg_old']);
    expect(out.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'earlier' },
      { role: 'user', content: 'now' },
    ]);
  });

  it('reads the previous chain when there is no conversation', async () => {
    const d = deps([], [user('msg_prev', 'before')]);
    const out = await assembleContext(d, sources({ previousResponseId: 'resp_1' }));
    expect(d.items).not.toHaveBeenCalled();
    expect(out.messages.map((m) => m.content)).toEqual(['before', 'now']);
  });

  it('refuses an input item the conversation already holds', async () => {
    const d = deps([user('msg_new', 'now')], []);
    await expect(assembleContext(d, sources({ conversationId: CONV }))).rejects.toMatchObject({ status: 400, param: 'input[0].id', code: 'duplicate_item' });
  });
});

describe('assembleContext: tool outputs must answer a call', () => {
  const call = (callId: string): ResponseItem => ({ id: `fc_${callId}`, type: 'function_call', status: 'completed', call_id: callId, name: 'f', arguments: '{}' });
  const output = (callId: string): ResponseItem => ({ id: `fco_${callId}`, type: 'function_call_output', status: 'completed', call_id: callId, output: 'x' });

  it('accepts an output whose call is in the previous chain or in the same input', async () => {
    await expect(assembleContext(deps([], [call('c1')]), sources({ previousResponseId: 'resp_p', input: [output('c1')] }))).resolves.toBeDefined();
    await expect(assembleContext(deps([], []), sources({ input: [call('c2'), output('c2')] }))).resolves.toBeDefined();
  });

  it('refuses an output whose call_id matches no function_call, param input', async () => {
    const err = await errorOf<ApiError>(assembleContext(deps([], [call('c1')]), sources({ previousResponseId: 'resp_p', input: [output('c9')] })));
    expect([err.status, err.param, err.message]).toEqual([400, 'input', 'No tool call found for function call output with call_id c9.']);
  });
});
