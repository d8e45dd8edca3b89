import { z } from 'zod';

/**
 * OpenAI's attribute filters (vector store search and the file_search tool): a comparison
 * `{type, key, value}` or a compound `{type: and|or, filters: [...]}`, nested. One schema and one
 * evaluator for the vector-stores service and the responses service, so both agree on every case.
 * Shapes: ComparisonFilter and CompoundFilter in ../shared/reference/openai-openapi.json.
 */
export type ComparisonFilter = {
  type: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin';
  key: string;
  value: string | number | boolean | (string | number)[];
};
export type CompoundFilter = { type: 'and' | 'or'; filters: AttributeFilter[] };
export type AttributeFilter = ComparisonFilter | CompoundFilter;

/** Bounds on what a client may send (the spec sets none; a filter is evaluated per chunk, so it must stay small). */
export const ATTRIBUTE_FILTER_LIMITS = { depth: 8, comparisons: 256, listItems: 1000, keyLength: 256, stringLength: 4096 } as const;

export const COMPARISON_TYPES = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin'] as const;
const RANGE_TYPES = new Set(['gt', 'gte', 'lt', 'lte']);
const LIST_TYPES = new Set(['in', 'nin']);
const L = ATTRIBUTE_FILTER_LIMITS;

const scalarString = z.string().max(L.stringLength, `Strings must be at most ${L.stringLength} characters.`);
const comparisonSchema = z
  .strictObject({
    type: z.enum(COMPARISON_TYPES, { error: `Expected one of ${COMPARISON_TYPES.join(', ')} (or and, or for a compound filter).` }),
    key: z.string().min(1, 'The key must not be empty.').max(L.keyLength, `Keys must be at most ${L.keyLength} characters.`),
    value: z.union([scalarString, z.number(), z.boolean(), z.array(z.union([scalarString, z.number()])).max(L.listItems, `Lists must have at most ${L.listItems} items.`)], {
      error: 'Expected a string, a number, a boolean or an array of strings and numbers.',
    }),
  })
  // Operator and value must make sense together; a mismatch is the client's mistake, said plainly,
  // rather than a filter that silently matches nothing.
  .superRefine((f, ctx) => {
    const isList = Array.isArray(f.value);
    if (LIST_TYPES.has(f.type) && !isList) ctx.addIssue({ code: 'custom', path: ['value'], message: `'${f.type}' needs an array of strings or numbers.` });
    if (!LIST_TYPES.has(f.type) && isList) ctx.addIssue({ code: 'custom', path: ['value'], message: `'${f.type}' compares with one value; use 'in' or 'nin' for a list.` });
    if (RANGE_TYPES.has(f.type) && typeof f.value !== 'number') ctx.addIssue({ code: 'custom', path: ['value'], message: `'${f.type}' compares numbers; the value must be a number.` });
  });

const compoundSchema: z.ZodType<CompoundFilter> = z.strictObject({
  type: z.enum(['and', 'or']),
  filters: z.array(z.lazy(() => filterNode)).min(1, 'A compound filter needs at least one filter.'),
});

const filterNode: z.ZodType<AttributeFilter> = z.lazy(() =>
  z.discriminatedUnion('type', [comparisonSchema, compoundSchema as unknown as typeof comparisonSchema], {
    error: (issue) =>
      issue.code === 'invalid_union' ? `'type' must be one of ${COMPARISON_TYPES.join(', ')}, and, or.` : undefined,
  }),
) as unknown as z.ZodType<AttributeFilter>;

/** Strict: unknown fields, operator/value mismatches, empty compounds and oversized filters are 400s. */
export const attributeFilterSchema: z.ZodType<AttributeFilter> = filterNode.superRefine((filter, ctx) => {
  const { depth, comparisons } = measure(filter);
  if (depth > L.depth) ctx.addIssue({ code: 'custom', message: `Filters may be nested at most ${L.depth} levels deep.` });
  if (comparisons > L.comparisons) ctx.addIssue({ code: 'custom', message: `A filter may hold at most ${L.comparisons} comparisons.` });
});

function measure(f: AttributeFilter): { depth: number; comparisons: number } {
  if (!('filters' in f)) return { depth: 1, comparisons: 1 };
  let depth = 0;
  let comparisons = 0;
  for (const child of f.filters) {
    const m = measure(child);
    depth = Math.max(depth, m.depth);
    comparisons += m.comparisons;
  }
  return { depth: depth + 1, comparisons };
}

export function isCompoundFilter(f: AttributeFilter): f is CompoundFilter {
  return f.type === 'and' || f.type === 'or';
}

/**
 * Whether a chunk's attributes pass a filter. Choices where OpenAI documents nothing (both index
 * adapters implement the same ones, Qdrant natively):
 * - no coercion: `eq 1` does not match the string "1", `eq true` does not match "true";
 * - a missing key or a value of another type fails every positive test (`eq`, `gt`..`lte`, `in`)
 *   and passes the negative ones (`ne`, `nin`): "not equal to x" holds when there is no x;
 * - `gt`, `gte`, `lt`, `lte` compare numbers only (the schema refuses other values; a string
 *   attribute fails them);
 * - `and`/`or` are ordinary logic (the schema refuses an empty list).
 */
export function matchesFilter(attributes: Readonly<Record<string, unknown>> | null | undefined, filter: AttributeFilter): boolean {
  if (isCompoundFilter(filter)) {
    return filter.type === 'and' ? filter.filters.every((f) => matchesFilter(attributes, f)) : filter.filters.some((f) => matchesFilter(attributes, f));
  }
  const has = attributes != null && Object.prototype.hasOwnProperty.call(attributes, filter.key);
  const actual = has ? attributes![filter.key] : undefined;
  const v = filter.value;
  switch (filter.type) {
    case 'eq':
      return has && actual === v;
    case 'ne':
      return !(has && actual === v);
    case 'in':
      return has && Array.isArray(v) && (v as unknown[]).includes(actual);
    case 'nin':
      return !(has && Array.isArray(v) && (v as unknown[]).includes(actual));
    default: {
      if (typeof actual !== 'number' || typeof v !== 'number') return false;
      if (filter.type === 'gt') return actual > v;
      if (filter.type === 'gte') return actual >= v;
      if (filter.type === 'lt') return actual < v;
      return actual <= v;
    }
  }
}

/** The attribute keys a filter reads (payload indexes, pre-checks). */
export function filterKeys(filter: AttributeFilter, into: Set<string> = new Set()): Set<string> {
  if (isCompoundFilter(filter)) for (const f of filter.filters) filterKeys(f, into);
  else into.add(filter.key);
  return into;
}

/**
 * `matchesFilter` turned into one closure per filter node, for scanning many rows with the same
 * filter (the embedded index evaluates it per chunk): the tree is walked once, not once per row.
 */
export function compileFilter(filter: AttributeFilter): (attributes: Readonly<Record<string, unknown>> | null | undefined) => boolean {
  if (isCompoundFilter(filter)) {
    const parts = filter.filters.map(compileFilter);
    return filter.type === 'and' ? (a) => parts.every((p) => p(a)) : (a) => parts.some((p) => p(a));
  }
  const { key, value } = filter;
  // No own-property check is needed here: an inherited property (constructor, toString, ...) is a
  // function, never equal to a filter's string, number or boolean, and never a number for ranges.
  type Row = Readonly<Record<string, unknown>> | null | undefined;
  const get = (a: Row) => (a == null ? undefined : a[key]);
  switch (filter.type) {
    case 'eq':
      return (a) => get(a) === value;
    case 'ne':
      return (a) => get(a) !== value;
    case 'in':
    case 'nin': {
      const set = new Set<unknown>(Array.isArray(value) ? value : []);
      return filter.type === 'in' ? (a) => set.has(get(a)) : (a) => !set.has(get(a));
    }
    default: {
      if (typeof value !== 'number') return () => false;
      const num = (a: Row) => {
        const v = get(a);
        return typeof v === 'number' ? v : NaN; // NaN fails every comparison
      };
      if (filter.type === 'gt') return (a) => num(a) > value;
      if (filter.type === 'gte') return (a) => num(a) >= value;
      if (filter.type === 'lt') return (a) => num(a) < value;
      return (a) => num(a) <= value;
    }
  }
}
