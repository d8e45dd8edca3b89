import type { AttributeFilter, ComparisonFilter } from '@rgw/shared';
import type { Attributes } from './index/vector-index.js';

/**
 * Whether attributes pass an OpenAI attribute filter, for the in-memory test index.
 * TODO(merge): the index engineer's `matchesFilter` in shared/src/wire/attribute-filter.ts replaces this.
 */
export function matchesFilter(filter: AttributeFilter, attributes: Attributes): boolean {
  if (filter.type === 'and') return filter.filters.every((f) => matchesFilter(f, attributes));
  if (filter.type === 'or') return filter.filters.some((f) => matchesFilter(f, attributes));
  return compare(filter as ComparisonFilter, attributes);
}

function compare(filter: ComparisonFilter, attributes: Attributes): boolean {
  const actual = attributes[filter.key];
  const expected = filter.value;
  switch (filter.type) {
    case 'eq':
      return actual === expected;
    case 'ne':
      return actual !== expected;
    case 'in':
      return Array.isArray(expected) && actual !== undefined && typeof actual !== 'boolean' && expected.includes(actual);
    case 'nin':
      return Array.isArray(expected) && !(actual !== undefined && typeof actual !== 'boolean' && expected.includes(actual));
    default: {
      if (actual === undefined || typeof actual !== typeof expected || typeof actual === 'boolean') return false;
      const a = actual as number | string;
      const e = expected as number | string;
      if (filter.type === 'gt') return a > e;
      if (filter.type === 'gte') return a >= e;
      if (filter.type === 'lt') return a < e;
      return a <= e;
    }
  }
}
