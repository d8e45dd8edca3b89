import { isCompoundFilter, type AttributeFilter } from '@rgw/shared/attribute-filter';

/** Qdrant's filter JSON (a subset of the client's `Schemas['Filter']`, kept loose on purpose). */
export type QdrantCondition = Record<string, unknown>;
export interface QdrantFilter {
  must?: QdrantCondition[];
  should?: QdrantCondition[];
  must_not?: QdrantCondition[];
}

/** Payload path of an attribute. Attributes live under one object so they never collide with our own fields. */
export const attributePath = (key: string) => `attributes.${key}`;

// A condition no point satisfies (no payload has this key): `in []` matches nothing.
const NEVER: QdrantCondition = { key: '__rgw_never__', match: { value: '__rgw_never__' } };

function equals(key: string, value: string | number | boolean): QdrantCondition {
  // Numbers as a closed range: `match` only handles integers, and attributes may be floats.
  if (typeof value === 'number') return { key, range: { gte: value, lte: value } };
  return { key, match: { value } };
}

function anyOf(key: string, values: (string | number)[]): QdrantCondition {
  const strings = values.filter((v): v is string => typeof v === 'string');
  const numbers = values.filter((v): v is number => typeof v === 'number');
  const parts: QdrantCondition[] = [];
  if (strings.length > 0) parts.push({ key, match: { any: strings } });
  for (const n of numbers) parts.push(equals(key, n));
  if (parts.length === 0) return NEVER;
  return parts.length === 1 ? parts[0]! : { should: parts };
}

/**
 * An attribute filter as a Qdrant filter, evaluated by Qdrant during its search (pushed down, so a
 * selective filter still yields the k best passing points). Semantics are those of `matchesFilter`
 * in shared: Qdrant's `match` and `range` are typed (no coercion) and fail on a missing key, and
 * `must_not` of a failing condition passes — which is exactly "a missing key passes ne and nin".
 */
export function toQdrantFilter(filter: AttributeFilter): QdrantCondition {
  if (isCompoundFilter(filter)) {
    const parts = filter.filters.map(toQdrantFilter);
    return filter.type === 'and' ? { must: parts } : { should: parts };
  }
  const key = attributePath(filter.key);
  const v = filter.value;
  switch (filter.type) {
    case 'eq':
      return Array.isArray(v) ? NEVER : equals(key, v);
    case 'ne':
      return { must_not: [Array.isArray(v) ? NEVER : equals(key, v)] };
    case 'in':
      return Array.isArray(v) ? anyOf(key, v) : NEVER;
    case 'nin':
      return { must_not: [Array.isArray(v) ? anyOf(key, v) : NEVER] };
    default: {
      if (typeof v !== 'number') return NEVER;
      const op = filter.type; // gt | gte | lt | lte, Qdrant's own names
      return { key, range: { [op]: v } };
    }
  }
}
