import type { ApiError } from '@rgw/shared';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../../test/support/errors.js';
import { ToolRegistry } from '../tools/tool-registry.js';
import { countTokensRequest, planTools, turnRequest } from './chat-request.js';

const registry = new ToolRegistry([]);
const fn = { type: 'function' as const, name: 'f', parameters: { type: 'object' } };

describe('planTools', () => {
  it("refuses tool_choice 'required' without tools, naming tool_choice", () => {
    const err = errorOf<ApiError>(() => planTools({ tool_choice: 'required' }, registry));
    expect([err.status, err.param]).toEqual([400, 'tool_choice']);
    expect(planTools({ tool_choice: 'required', tools: [fn] }, registry).toolChoice).toBe('required');
    expect(planTools({ tool_choice: 'none' }, registry).toolChoice).toBe('none');
  });
});

describe('upstream request bodies', () => {
  it('sends tool_choice and parallel_tool_calls only with tools, and always streams with usage', () => {
    const plan = planTools({ tools: [fn], tool_choice: 'required' }, registry);
    const withTools = turnRequest({ model: 'm' }, [], plan.functionTools, plan, false);
    expect(withTools).toMatchObject({ model: 'm', tool_choice: 'required', parallel_tool_calls: false, stream_options: { include_usage: true } });
    const without = turnRequest({ model: 'm' }, [], [], plan, false);
    expect(without).not.toHaveProperty('tool_choice');
    expect(without).not.toHaveProperty('parallel_tool_calls');
  });

  it('counts tokens with a one-token completion carrying the response format', () => {
    const body = countTokensRequest('m', [{ role: 'user', content: 'x' }], [], { format: { type: 'json_object' } });
    expect(body).toEqual({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 1, response_format: { type: 'json_object' } });
  });
});
