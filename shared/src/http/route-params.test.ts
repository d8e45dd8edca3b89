import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError } from '../errors.js';
import { newId } from '../ids.js';
import { checkUrlValues, cursorSchema, idSchema, oneOrMany, urlTextSchema } from './route-params.js';

function paramOf(fn: () => unknown): string | null | undefined {
  try {
    fn();
  } catch (err) {
    return (err as ApiError).param;
  }
  return undefined;
}

describe('idSchema', () => {
  it('takes our minted ids and clients’ item ids, and refuses other prefixes, odd characters and absurd lengths', () => {
    expect(idSchema('conversation').safeParse(newId('conversation')).success).toBe(true);
    expect(idSchema().safeParse('msg_custom-1').success).toBe(true);
    for (const bad of ['resp_1', 'conv_', 'conv', `conv_${'a'.repeat(260)}`, 'conv_a b', 'conv_é', 'conv_a/b', '']) {
      expect(idSchema('conversation').safeParse(bad).success, bad).toBe(false);
    }
    expect(idSchema(undefined, 8).safeParse('123456789').success).toBe(false);
    expect(cursorSchema.safeParse("x' OR 1=1").success).toBe(false);
  });
});

describe('urlTextSchema', () => {
  it('takes model names with slashes and colons, not control characters', () => {
    expect(urlTextSchema().safeParse('org/model:7b-q4%').success).toBe(true);
    expect(urlTextSchema().safeParse('a\u0001b').success).toBe(false);
  });
});

describe('oneOrMany', () => {
  it('reads a query value given once or repeated as a list', () => {
    const schema = oneOrMany(z.enum(['a', 'b']));
    expect(schema.parse('a')).toEqual(['a']);
    expect(schema.parse(['a', 'b'])).toEqual(['a', 'b']);
    expect(schema.safeParse(['a', 'c']).error?.issues[0]?.path).toEqual([1]);
  });
});

describe('checkUrlValues', () => {
  it('names the value holding a NUL or past the limit, nested values included', () => {
    expect(paramOf(() => checkUrlValues({ after: 'x\u0000' }, null, 10))).toBe('after');
    expect(paramOf(() => checkUrlValues({ include: ['ok', 'x'.repeat(11)] }, null, 10))).toBe('include');
    expect(paramOf(() => checkUrlValues({ a: { b: 'x\u0000' } }, null, 10))).toBe('a.b');
    expect(paramOf(() => checkUrlValues({ after: 'fine', n: '5' }, null, 10))).toBeUndefined();
  });
});
