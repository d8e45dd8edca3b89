import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { newId } from '../ids.js';
import { assertSafeId, idSegment, isSafeId } from './safe-id.js';

describe('safe ids', () => {
  it('accepts every id the platform mints', () => {
    for (const kind of ['response', 'conversation', 'prompt', 'message', 'conversationItem'] as const) expect(isSafeId(newId(kind))).toBe(true);
  });

  it.each(['', '.', '..', 'a/b', '%2F', 'a\u0000', 'a b', 'é', '😀', 'x'.repeat(129), 'conv_x?y'])('refuses %j with a 400 naming the param', (id) => {
    expect(isSafeId(id)).toBe(false);
    let err: unknown;
    try {
      idSegment(id, 'prompt.id');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, param: 'prompt.id', code: 'invalid_value' });
    expect((err as Error).message.length).toBeLessThan(250);
  });

  it('refuses what is not a string', () => {
    expect(() => assertSafeId(42, 'x')).toThrow(ApiError);
    expect(() => assertSafeId(null, 'x')).toThrow(/not a valid id/);
  });
});
