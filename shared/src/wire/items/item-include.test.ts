import { INCLUDE_VALUES } from '../include-values.js';
import { describe, expect, it } from 'vitest';
import { ApiError } from '@rgw/shared';
import { VALID_ITEMS } from './__fixtures__/valid-items.js';
import { applyInclude, applyIncludeAll, applyIncludeToOutput, parseInclude } from './item-include.js';
import { toStoredItem } from './item-normalize.js';
import { validateInputItem } from './item-schema.js';

const message = {
  id: 'msg_1',
  type: 'message',
  role: 'user',
  content: [
    { type: 'input_image', image_url: 'data:image/png;base64,AAAA', file_id: null, detail: 'auto' },
    { type: 'output_text', text: 'x', annotations: [], logprobs: [{ token: 'x', logprob: -1, bytes: [], top_logprobs: [] }] },
  ],
};

describe('parseInclude', () => {
  it('reads one value or many, and refuses unknown values naming include', () => {
    expect([...parseInclude(undefined)]).toEqual([]);
    expect([...parseInclude('reasoning.encrypted_content')]).toEqual(['reasoning.encrypted_content']);
    expect(parseInclude(['message.output_text.logprobs', 'file_search_call.results']).size).toBe(2);
    try {
      parseInclude(['nope']);
      expect.unreachable();
    } catch (err) {
      expect((err as ApiError).status).toBe(400);
      expect((err as ApiError).param).toBe('include[0]');
    }
  });
});

describe('applyInclude', () => {
  it('blanks image urls and logprobs unless asked for', () => {
    const plain = applyInclude(message, new Set());
    expect((plain.content as { image_url?: unknown; logprobs?: unknown }[])[0]!.image_url).toBeNull();
    expect((plain.content as { logprobs?: unknown }[])[1]!.logprobs).toEqual([]);
    const full = applyInclude(message, new Set(['message.input_image.image_url', 'message.output_text.logprobs'] as const));
    expect(full).toEqual(message);
  });

  it('hides encrypted reasoning and file search results unless asked for', () => {
    const reasoning = { id: 'rs_1', type: 'reasoning', summary: [], encrypted_content: 'secret' };
    expect(applyInclude(reasoning, new Set())).not.toHaveProperty('encrypted_content');
    expect(applyInclude(reasoning, new Set(['reasoning.encrypted_content'] as const))).toEqual(reasoning);
    const search = { id: 'fs_1', type: 'file_search_call', status: 'completed', queries: ['q'], results: [{ file_id: 'f' }] };
    expect(applyInclude(search, new Set()).results).toBeNull();
    expect(applyInclude(search, new Set(['file_search_call.results'] as const)).results).toEqual([{ file_id: 'f' }]);
  });

  it('leaves other items alone and never changes the stored item', () => {
    const call = { id: 'fc_1', type: 'function_call', name: 'f', arguments: '{}', call_id: 'c', status: 'completed' };
    expect(applyInclude(call, new Set())).toBe(call);
    applyInclude(message, new Set());
    expect(message.content[0]!.image_url).toBe('data:image/png;base64,AAAA');
  });

  it('hides web search sources, screenshot urls and code outputs unless asked for', () => {
    const search = VALID_ITEMS.web_search_call as Record<string, unknown> & { type: string };
    expect(applyInclude(search, new Set()).action).not.toHaveProperty('sources');
    expect(applyInclude(search, ['web_search_call.action.sources'])).toEqual(search);
    const screenshot = VALID_ITEMS.computer_call_output as Record<string, unknown> & { type: string };
    expect((applyInclude(screenshot, []).output as { image_url: unknown }).image_url).toBeNull();
    expect(applyInclude(screenshot, ['computer_call_output.output.image_url'])).toEqual(screenshot);
    const code = VALID_ITEMS.code_interpreter_call as Record<string, unknown> & { type: string };
    expect(applyInclude(code, []).outputs).toBeNull();
    expect(applyInclude(code, ['code_interpreter_call.outputs'])).toEqual(code);
  });

  it('returns every stored item unchanged when everything is asked for', () => {
    const items = Object.values(VALID_ITEMS).map((raw) => toStoredItem(validateInputItem(raw, 'input[0]')));
    const all = parseInclude([...INCLUDE_VALUES]);
    expect(applyIncludeAll(items, all)).toEqual(items);
    // Without include, exactly the items carrying an include-only field change.
    const changed = applyIncludeAll(items, []).flatMap((item, i) => (JSON.stringify(item) === JSON.stringify(items[i]) ? [] : [item.type]));
    expect(changed.sort()).toEqual(['code_interpreter_call', 'computer_call_output', 'file_search_call', 'message', 'reasoning', 'web_search_call']);
  });

  it('filters the output of a Response (GET /v1/responses/{id}), leaving the stored object as it is', () => {
    const out = { type: 'message', id: 'msg_o', role: 'assistant', content: [{ type: 'output_text', text: 'x', annotations: [], logprobs: [{ token: 'x', logprob: -1 }] }] };
    const response = { id: 'resp_1', status: 'completed', output: [out] };
    expect((applyIncludeToOutput(response, undefined).output[0]!.content as { logprobs: unknown[] }[])[0]!.logprobs).toEqual([]);
    expect(applyIncludeToOutput(response, ['message.output_text.logprobs'])).toEqual(response);
    expect(response.output[0]!.content[0]!.logprobs).toHaveLength(1);
  });
});

