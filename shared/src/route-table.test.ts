import { describe, expect, it } from 'vitest';
import { serviceForPath } from './route-table.js';

describe('serviceForPath', () => {
  it('maps each prefix, its sub-paths and nothing else', () => {
    expect(serviceForPath('/v1/responses')).toBe('responses');
    expect(serviceForPath('/v1/responses/resp_1/input_items')).toBe('responses');
    expect(serviceForPath('/v1/conversations/conv_1/items')).toBe('conversations');
    expect(serviceForPath('/v1/prompts')).toBe('prompts');
    expect(serviceForPath('/v1/responsesX')).toBeUndefined();
    expect(serviceForPath('/v1/chat/completions')).toBeUndefined();
    expect(serviceForPath('/v1/models')).toBeUndefined();
  });
});
