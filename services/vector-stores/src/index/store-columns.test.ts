import { describe, expect, it } from 'vitest';
import { matchesFilter, type AttributeFilter } from '@rgw/shared';
import type { RowMeta } from './ann-mirror.js';
import { StoreColumns } from './store-columns.js';

describe('StoreColumns.compile', () => {
  it('agrees with matchesFilter on every operator, missing keys, inherited names and mismatched types', () => {
    const values = ['ann', 'bob', 1, 2, 2.5, true, false, '1'];
    const attrs: Record<string, string | number | boolean>[] = [{}, ...values.map((v) => ({ k: v })), { constructor: 'x' }];
    const rows = new Map<number, RowMeta>(attrs.map((a, i) => [i + 1, { project: 'p', store: 's', attributes: a, dim: 4, slot: i }]));
    const view = new StoreColumns(rows, 0);
    const filters: AttributeFilter[] = [];
    for (const key of ['k', 'constructor', 'toString']) {
      for (const type of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const) for (const v of values) filters.push({ type, key, value: v });
      for (const type of ['in', 'nin'] as const) filters.push({ type, key, value: [] }, { type, key, value: ['ann', 2, 'x'] });
    }
    filters.push({ type: 'and', filters: [filters[0]!, filters[9]!] }, { type: 'or', filters: [filters[3]!, { type: 'and', filters: [filters[20]!, filters[50]!] }] });
    for (const f of filters) {
      const pass = view.compile(f);
      attrs.forEach((a, i) => expect(pass(i), JSON.stringify([f, a])).toBe(matchesFilter(a, f)));
    }
    expect(view.rids).toEqual(attrs.map((_, i) => i + 1));
  });
});
