import { describe, expect, it } from 'vitest';
import { ApiError, newId, validate } from '@rgw/shared';
import { MAX_PROMPT_VERSION, checkPromptId, checkVariables, getPromptQuerySchema, setDefaultVersionSchema, updatePromptSchema } from './prompt-schema.js';
import { errorOf } from '../../../test/support/errors.js';

describe('checkVariables', () => {
  it('accepts declared placeholders, unused declarations and no variables at all', () => {
    expect(checkVariables('Hi {{ name }} from {{city}}', ['city', 'name', 'extra'])).toEqual(['city', 'name', 'extra']);
    expect(checkVariables('plain', undefined)).toEqual([]);
    expect(checkVariables('plain', null)).toEqual([]);
  });

  it('names every undeclared placeholder', () => {
    const err = errorOf(() => checkVariables('{{a}} {{b}} {{c}}', ['b']));
    expect(err.status).toBe(400);
    expect(err.param).toBe('variables');
    expect(err.message).toContain("'a', 'c'");
  });

  it('refuses invalid and duplicate names, naming the entry', () => {
    expect(errorOf(() => checkVariables('x', ['ok', 'not ok'])).param).toBe('variables[1]');
    expect(errorOf(() => checkVariables('x', ['9lives'])).param).toBe('variables[0]');
    expect(errorOf(() => checkVariables('x', ['a', 'b', 'a'])).param).toBe('variables[2]');
  });
});

describe('checkPromptId', () => {
  it('takes pmpt_ and 48 hex digits only', () => {
    const id = newId('prompt');
    expect(checkPromptId(id)).toBe(id);
    for (const bad of ['pmpt_123', 'conv_' + 'a'.repeat(48), `pmpt_${'G'.repeat(48)}`, '']) {
      expect(errorOf(() => checkPromptId(bad)).param).toBe('prompt_id');
    }
  });
});

describe('version inputs', () => {
  it('take 1 up to the largest 32-bit integer and name version beyond it', () => {
    const inputs = [
      (v: number) => validate(getPromptQuerySchema, { version: String(v) }),
      (v: number) => validate(setDefaultVersionSchema, { version: v }),
      (v: number) => validate(updatePromptSchema, { prompt: 'p', version: v }),
    ];
    for (const parse of inputs) {
      expect(parse(MAX_PROMPT_VERSION).version).toBe(2_147_483_647);
      for (const bad of [0, MAX_PROMPT_VERSION + 1, 3_000_000_000]) {
        const err = errorOf(() => parse(bad));
        expect(err.status).toBe(400);
        expect(err.param).toBe('version');
      }
    }
  });
});
