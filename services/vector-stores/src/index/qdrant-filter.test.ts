import { describe, expect, it } from 'vitest';
import { matchesFilter, type AttributeFilter } from '@rgw/shared';
import { toQdrantFilter, type QdrantCondition } from './qdrant-filter.js';
import { pointId } from './qdrant-index.js';
import { documentSparseVector, querySparseVector, termIndex } from './sparse-terms.js';

// No Qdrant server runs here: this checks the translation against a small model of Qdrant's
// documented filter semantics (must = all, should = any, must_not = none; `match` and `range` are
// typed and false on a missing key), and that model against shared's matchesFilter.
function qdrantMatches(payload: Record<string, unknown>, c: QdrantCondition): boolean {
  if ('must' in c || 'should' in c || 'must_not' in c) {
    const must = (c.must as QdrantCondition[] | undefined) ?? [];
    const should = (c.should as QdrantCondition[] | undefined) ?? [];
    const mustNot = (c.must_not as QdrantCondition[] | undefined) ?? [];
    return must.every((x) => qdrantMatches(payload, x)) && (should.length === 0 || should.some((x) => qdrantMatches(payload, x))) && !mustNot.some((x) => qdrantMatches(payload, x));
  }
  const path = String(c.key).split('.');
  let v: unknown = payload;
  for (const p of path) v = v && typeof v === 'object' && Object.hasOwn(v, p) ? (v as Record<string, unknown>)[p] : undefined;
  if (v === undefined) return false;
  const match = c.match as { value?: unknown; any?: unknown[] } | undefined;
  if (match && 'value' in match) return typeof v === typeof match.value && v === match.value;
  if (match && match.any) return match.any.some((x) => typeof x === typeof v && x === v);
  const range = c.range as { gt?: number; gte?: number; lt?: number; lte?: number } | undefined;
  if (range) {
    if (typeof v !== 'number') return false;
    return (range.gt === undefined || v > range.gt) && (range.gte === undefined || v >= range.gte) && (range.lt === undefined || v < range.lt) && (range.lte === undefined || v <= range.lte);
  }
  throw new Error(`unmodelled condition ${JSON.stringify(c)}`);
}

describe('toQdrantFilter', () => {
  const values = ['ann', 'bob', 1, 2, 2.5, true, false, '1'];
  const rows: Record<string, unknown>[] = [{}, ...values.map((v) => ({ k: v }))];
  const filters: AttributeFilter[] = [];
  for (const type of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const) for (const v of values) filters.push({ type, key: 'k', value: v });
  for (const type of ['in', 'nin'] as const) filters.push({ type, key: 'k', value: [] }, { type, key: 'k', value: ['ann', 2] }, { type, key: 'k', value: [1, '1', 2.5] });
  filters.push({ type: 'and', filters: [filters[0]!, filters[9]!] }, { type: 'or', filters: [filters[3]!, { type: 'and', filters: [filters[20]!, filters[50]!] }] });

  it('agrees with matchesFilter on every operator, missing keys and mismatched types', () => {
    for (const f of filters) {
      const q = toQdrantFilter(f);
      for (const r of rows) expect(qdrantMatches({ attributes: r }, q), JSON.stringify([f, r, q])).toBe(matchesFilter(r, f));
    }
  });

  it('uses range for numbers (floats included) and match for strings and booleans', () => {
    expect(toQdrantFilter({ type: 'eq', key: 'n', value: 2.5 })).toEqual({ key: 'attributes.n', range: { gte: 2.5, lte: 2.5 } });
    expect(toQdrantFilter({ type: 'eq', key: 's', value: 'x' })).toEqual({ key: 'attributes.s', match: { value: 'x' } });
    expect(toQdrantFilter({ type: 'gt', key: 'n', value: 1 })).toEqual({ key: 'attributes.n', range: { gt: 1 } });
    expect(toQdrantFilter({ type: 'nin', key: 's', value: ['a', 'b'] })).toEqual({ must_not: [{ key: 'attributes.s', match: { any: ['a', 'b'] } }] });
  });
});

describe('qdrant ids and sparse vectors', () => {
  it('derives a stable UUID per chunk id', () => {
    const a = pointId('vs_1:file-1:0');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pointId('vs_1:file-1:0')).toBe(a);
    expect(pointId('vs_1:file-1:1')).not.toBe(a);
  });

  it('weights document terms by saturated frequency, query terms once, indices sorted and unique', () => {
    const d = documentSparseVector('Rocket rocket ROCKET engine');
    expect(d.indices).toEqual([...d.indices].sort((x, y) => x - y));
    const rocket = d.values[d.indices.indexOf(termIndex('rocket'))]!;
    const engine = d.values[d.indices.indexOf(termIndex('engine'))]!;
    expect(rocket).toBeGreaterThan(engine);
    expect(rocket).toBeLessThan(2.2); // k1 + 1 bounds a saturated frequency
    const q = querySparseVector('rocket rocket engine "AND" (');
    expect(q.values).toEqual([1, 1, 1]);
    expect(querySparseVector('  ** ')).toEqual({ indices: [], values: [] });
  });
});
