import { z } from 'zod';
import { attributeFilterSchema } from '@rgw/shared';

/** Spec: FileSearchTool (with RankingOptions). Strict: a typo is a 400 naming `tools[i].field`. */
export const fileSearchToolSchema = z.strictObject({
  type: z.literal('file_search'),
  vector_store_ids: z.array(z.string().min(1)).min(1, 'file_search needs at least one vector store id.').max(100),
  max_num_results: z.number().int().min(1).max(50).optional(),
  filters: attributeFilterSchema.nullish(),
  ranking_options: z
    .strictObject({
      ranker: z.enum(['auto', 'default-2024-11-15', 'none']).optional(),
      score_threshold: z.number().min(0).max(1).optional(),
      // Accepted for compatibility; the Vector Stores search API has no such option, so it is not forwarded.
      hybrid_search: z.strictObject({ embedding_weight: z.number(), text_weight: z.number() }).optional(),
    })
    .optional(),
});

export type FileSearchToolParam = z.output<typeof fileSearchToolSchema>;

/** What the model sends when it calls the offered function; `query` is tolerated from models that write one. */
export const fileSearchArgsSchema = z.union([
  z.looseObject({ queries: z.array(z.string()).min(1) }),
  z.looseObject({ query: z.string().min(1) }).transform((a) => ({ queries: [a.query] })),
]);
