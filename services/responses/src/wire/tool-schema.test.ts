import { validate } from '@rgw/shared';
import { describe, expect, it } from 'vitest';
import { errorOf } from '../../../../test/support/errors.js';
import { createResponseSchema } from './create-response-schema.js';

const paramOf = (tool: unknown) => errorOf(() => validate(createResponseSchema, { model: 'm', tools: [{ type: 'function', name: 'ok' }, tool] })).param;

describe('toolSchema', () => {
  it('names the field of a function tool that is wrong, not its type', () => {
    expect(paramOf({ type: 'function', name: 'f', parameters: 'x' })).toBe('tools[1].parameters');
    expect(paramOf({ type: 'function', parameters: {} })).toBe('tools[1].name');
    expect(paramOf({ type: 'function', name: 'bad name!' })).toBe('tools[1].name');
    expect(paramOf({ type: 'function', name: 'f', colour: 'red' })).toBe('tools[1].colour');
  });

  it('names type when it is missing or not a string, and lets other types through to the registry', () => {
    expect(paramOf({ name: 'f' })).toBe('tools[1].type');
    expect(paramOf({ type: 7 })).toBe('tools[1].type');
    expect(validate(createResponseSchema, { model: 'm', tools: [{ type: 'file_search', vector_store_ids: [] }] }).tools).toEqual([{ type: 'file_search', vector_store_ids: [] }]);
  });
});
