import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidRequestError } from '../errors.js';
import { paramPath, validate } from './validate.js';

const schema = z.strictObject({ model: z.string(), input: z.array(z.strictObject({ content: z.string() })) });

describe('validate', () => {
  it('returns parsed data', () => {
    expect(validate(schema, { model: 'm', input: [] })).toEqual({ model: 'm', input: [] });
  });

  it('names the offending param in OpenAI style', () => {
    const err = (() => {
      try {
        validate(schema, { model: 'm', input: [{ content: 1 }] });
      } catch (e) {
        return e as InvalidRequestError;
      }
    })()!;
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect(err.param).toBe('input[0].content');
    expect(err.message).toContain("Invalid 'input[0].content'");
  });

  it('reports unknown parameters by name', () => {
    try {
      validate(schema, { model: 'm', input: [], bogus: 1 });
      expect.unreachable();
    } catch (e) {
      expect((e as InvalidRequestError).param).toBe('bogus');
      expect((e as InvalidRequestError).code).toBe('unknown_parameter');
    }
  });

  it('formats paths', () => {
    expect(paramPath(['a', 0, 'b', 2])).toBe('a[0].b[2]');
    expect(paramPath([])).toBeNull();
  });
});
