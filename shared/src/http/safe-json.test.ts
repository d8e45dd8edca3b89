import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import { parseJsonBody, rejectNulText, truncate } from './safe-json.js';

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
  } catch (err) {
    return (err as ApiError).code;
  }
  return 'no error';
}

describe('parseJsonBody', () => {
  it('parses ordinary JSON', () => {
    expect(parseJsonBody(Buffer.from('{"a":[1,{"b":"x\\"["}]}'))).toEqual({ a: [1, { b: 'x"[' }] });
  });

  it('refuses nesting deeper than the limit, before parsing', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(codeOf(() => parseJsonBody(deep))).toBe('json_too_deep');
    expect(parseJsonBody('['.repeat(64) + ']'.repeat(64))).toBeInstanceOf(Array);
    expect(codeOf(() => parseJsonBody('['.repeat(65) + ']'.repeat(65)))).toBe('json_too_deep');
  });

  it('ignores brackets inside strings and escaped quotes', () => {
    const text = JSON.stringify({ s: '[[[[{{{{\\"'.repeat(100) });
    expect(parseJsonBody(text, { maxDepth: 2 })).toEqual(JSON.parse(text));
  });

  it('refuses NUL only when asked', () => {
    const text = '{"id":"a\\u0000b"}';
    expect(parseJsonBody(text)).toEqual({ id: 'a\u0000b' });
    expect(codeOf(() => parseJsonBody(text, { rejectNul: true }))).toBe('invalid_value');
    // An escaped backslash followed by "u0000" is text, not a NUL.
    expect(parseJsonBody('{"id":"a\\\\u0000"}', { rejectNul: true })).toEqual({ id: 'a\\u0000' });
  });

  it('names the param that holds the NUL', () => {
    try {
      parseJsonBody('{"prompt":{"id":"pmpt_\\u0000"},"input":["ok"]}', { rejectNul: true });
      expect.unreachable();
    } catch (err) {
      expect((err as ApiError).param).toBe('prompt.id');
    }
  });

  it('answers malformed JSON with invalid_json', () => {
    expect(codeOf(() => parseJsonBody('{"a":'))).toBe('invalid_json');
  });
});

describe('helpers', () => {
  it('rejectNulText and truncate', () => {
    expect(codeOf(() => rejectNulText('a\u0000', 'after'))).toBe('invalid_value');
    expect(truncate('x'.repeat(1000), 10)).toMatch(/^x{10}… \(990 more characters\)$/);
  });
});
