import { z } from 'zod';

/**
 * OpenAI's attribute filters (vector store search and the file_search tool): a comparison
 * `{type, key, value}` or a compound `{type: and|or, filters: [...]}`, nested to any depth.
 * One schema for the vector-stores service and the responses service, which both validate them.
 * TODO(issue 11 index helper): fill in from ../shared/reference/openai-openapi.json (ComparisonFilter, CompoundFilter).
 */
export type ComparisonFilter = {
  type: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin';
  key: string;
  value: string | number | boolean | (string | number)[];
};
export type CompoundFilter = { type: 'and' | 'or'; filters: AttributeFilter[] };
export type AttributeFilter = ComparisonFilter | CompoundFilter;

export const attributeFilterSchema: z.ZodType<AttributeFilter> = z.lazy(() => z.any()) as z.ZodType<AttributeFilter>;
