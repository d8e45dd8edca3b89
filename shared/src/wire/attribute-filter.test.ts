import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors.js';
import { validate } from '../http/validate.js';
import { attributeFilterSchema, compileFilter, filterKeys, matchesFilter, type AttributeFilter } from './attribute-filter.js';

const parse = (v: unknown) => attributeFilterSchema.safeParse(v);
function rejection(v: unknown): InvalidRequestError {
  try {
    validate(attributeFilterSchema, v, 'filters');
  } catch (err) {
    return err as InvalidRequestError;
  }
  throw new Error(`accepted ${JSON.stringify(v)}`);
}

describe('attributeFilterSchema', () => {
  it('accepts every comparison and nested compounds', () => {
    const ok: AttributeFilter[] = [
      { type: 'eq', key: 'a', value: 'x' },
      { type: 'ne', key: 'a', value: true },
      { type: 'gt', key: 'n', value: 1 },
      { type: 'gte', key: 'n', value: 1.5 },
      { type: 'lt', key: 'n', value: -1 },
      { type: 'lte', key: 'n', value: 0 },
      { type: 'in', key: 'a', value: ['x', 2] },
      { type: 'nin', key: 'a', value: [] },
      { type: 'and', filters: [{ type: 'eq', key: 'a', value: 1 }, { type: 'or', filters: [{ type: 'eq', key: 'b', value: 'c' }] }] },
    ];
    for (const f of ok) expect(parse(f).success, JSON.stringify(f)).toBe(true);
  });

  it('rejects malformed filters with a message naming the problem', () => {
    expect(rejection({ type: 'eq', key: 'a', value: 1, extra: 1 }).message).toMatch(/Unrecognized request argument supplied: extra/);
    expect(rejection({ type: 'like', key: 'a', value: 1 }).message).toMatch(/'type' must be one of eq, ne/);
    expect(rejection({ type: 'in', key: 'a', value: 'x' }).message).toMatch(/'in' needs an array/);
    expect(rejection({ type: 'eq', key: 'a', value: ['x'] }).message).toMatch(/use 'in' or 'nin'/);
    expect(rejection({ type: 'gt', key: 'a', value: 'x' }).message).toMatch(/the value must be a number/);
    expect(rejection({ type: 'eq', key: 'a', value: { x: 1 } }).message).toMatch(/Expected a string, a number/);
    expect(rejection({ type: 'eq', key: 'a' }).param).toBe('filters.value');
    expect(rejection({ type: 'and', filters: [] }).message).toMatch(/at least one filter/);
    expect(rejection({ type: 'and', filters: [{ type: 'eq', key: '', value: 1 }] }).param).toBe('filters.filters[0].key');
    expect(rejection({ type: 'or', filters: [{ type: 'in', key: 'k', value: [true] }] }).param).toMatch(/^filters\.filters\[0\]\.value/);
    let deep: AttributeFilter = { type: 'eq', key: 'a', value: 1 };
    for (let i = 0; i < 9; i++) deep = { type: 'and', filters: [deep] };
    expect(rejection(deep).message).toMatch(/nested at most 8 levels/);
    expect(rejection('eq').status).toBe(400);
  });
});

describe('matchesFilter', () => {
  const attrs = { author: 'ann', year: 2021, draft: false, score: 0.5 };
  const m = (f: AttributeFilter, a: Record<string, unknown> = attrs) => matchesFilter(a, f);

  it('compares without coercion', () => {
    expect(m({ type: 'eq', key: 'author', value: 'ann' })).toBe(true);
    expect(m({ type: 'eq', key: 'year', value: '2021' })).toBe(false);
    expect(m({ type: 'eq', key: 'draft', value: false })).toBe(true);
    expect(m({ type: 'eq', key: 'draft', value: 'false' })).toBe(false);
    expect(m({ type: 'ne', key: 'author', value: 'bob' })).toBe(true);
    expect(m({ type: 'ne', key: 'author', value: 'ann' })).toBe(false);
  });

  it('ranges compare numbers only', () => {
    expect(m({ type: 'gt', key: 'year', value: 2020 })).toBe(true);
    expect(m({ type: 'gt', key: 'year', value: 2021 })).toBe(false);
    expect(m({ type: 'gte', key: 'year', value: 2021 })).toBe(true);
    expect(m({ type: 'lt', key: 'score', value: 0.6 })).toBe(true);
    expect(m({ type: 'lte', key: 'score', value: 0.4 })).toBe(false);
    expect(m({ type: 'gt', key: 'author', value: 0 })).toBe(false);
  });

  it('in / nin test membership', () => {
    expect(m({ type: 'in', key: 'year', value: [2020, 2021] })).toBe(true);
    expect(m({ type: 'in', key: 'year', value: ['2021'] })).toBe(false);
    expect(m({ type: 'nin', key: 'author', value: ['bob'] })).toBe(true);
    expect(m({ type: 'nin', key: 'author', value: ['ann', 'bob'] })).toBe(false);
  });

  it('a missing key fails positive tests and passes negative ones', () => {
    for (const type of ['eq', 'gt', 'gte', 'lt', 'lte'] as const) expect(m({ type, key: 'nope', value: 1 })).toBe(false);
    expect(m({ type: 'in', key: 'nope', value: [1] })).toBe(false);
    expect(m({ type: 'ne', key: 'nope', value: 1 })).toBe(true);
    expect(m({ type: 'nin', key: 'nope', value: [1] })).toBe(true);
    expect(matchesFilter(null, { type: 'ne', key: 'a', value: 1 })).toBe(true);
    // Inherited properties are not attributes.
    expect(m({ type: 'eq', key: 'constructor', value: 'x' }, {})).toBe(false);
  });

  it('combines with and / or, nested', () => {
    const f: AttributeFilter = {
      type: 'or',
      filters: [
        { type: 'and', filters: [{ type: 'eq', key: 'author', value: 'ann' }, { type: 'gt', key: 'year', value: 2022 }] },
        { type: 'and', filters: [{ type: 'eq', key: 'draft', value: false }, { type: 'lt', key: 'score', value: 1 }] },
      ],
    };
    expect(m(f)).toBe(true);
    expect(m(f, { ...attrs, draft: true })).toBe(false);
    expect(filterKeys(f)).toEqual(new Set(['author', 'year', 'draft', 'score']));
  });

  it('compileFilter agrees with matchesFilter on every operator, key state and type', () => {
    const values = ['ann', 'bob', 1, 2, 2.5, true, false, '1'];
    const rows: Record<string, unknown>[] = [{}, ...values.map((v) => ({ k: v }))];
    const filters: AttributeFilter[] = [];
    for (const type of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const) for (const v of values) filters.push({ type, key: 'k', value: v });
    for (const type of ['in', 'nin'] as const) filters.push({ type, key: 'k', value: [] }, { type, key: 'k', value: ['ann', 2] }, { type, key: 'k', value: [1, '1'] });
    filters.push({ type: 'and', filters: [filters[0]!, filters[9]!] }, { type: 'or', filters: [filters[3]!, { type: 'and', filters: [filters[20]!] }] });
    for (const f of filters) for (const r of rows) expect(compileFilter(f)(r), JSON.stringify([f, r])).toBe(matchesFilter(r, f));
  });
});
