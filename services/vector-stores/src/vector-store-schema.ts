import { z } from 'zod';
import { attributeFilterSchema, idSchema, listQuerySchema, metadataSchema } from '@rgw/shared';
import { chunkingStrategySchema } from './ingest/index.js';

// Request bodies, query strings and path params of /v1/vector_stores (OpenAI's shapes, plus Llama
// Stack's `embedding_model`, `embedding_dimension`, `provider_id` at create and `search_mode` at search).

/** OpenAI's file attributes: ≤ 16 keys of ≤ 64 characters; strings ≤ 512 characters, numbers, booleans. */
export const attributesSchema = z
  .record(z.string().max(64, 'Keys must be at most 64 characters.'), z.union([z.string().max(512, 'Strings must be at most 512 characters.'), z.number(), z.boolean()]))
  .refine((a) => Object.keys(a).length <= 16, { message: 'too many properties. Expected an object with at most 16 properties.' });

const expiresAfterSchema = z.strictObject({ anchor: z.literal('last_active_at'), days: z.number().int().min(1).max(365) });
const fileId = z.string().min(1).max(256).regex(/^[A-Za-z0-9_.:-]+$/, 'Expected a file ID made of letters, digits, "_", "-", "." or ":".');

export const createStoreSchema = z.strictObject({
  name: z.string().max(256).nullish(),
  description: z.string().max(512).nullish(),
  file_ids: z.array(fileId).max(500).nullish(),
  chunking_strategy: chunkingStrategySchema.nullish(),
  expires_after: expiresAfterSchema.nullish(),
  metadata: metadataSchema.nullish(),
  // Llama Stack's extensions.
  embedding_model: z.string().min(1).max(256).nullish(),
  embedding_dimension: z.number().int().min(1).max(65536).nullish(),
  provider_id: z.string().max(256).nullish(),
});

export const updateStoreSchema = z.strictObject({
  name: z.string().max(256).nullish(),
  expires_after: expiresAfterSchema.nullish(),
  metadata: metadataSchema.nullish(),
});

export const attachFileSchema = z.strictObject({
  file_id: fileId,
  attributes: attributesSchema.nullish(),
  chunking_strategy: chunkingStrategySchema.nullish(),
});

export const createBatchSchema = z
  .strictObject({
    file_ids: z.array(fileId).min(1).max(2000).optional(),
    files: z.array(attachFileSchema).min(1).max(2000).optional(),
    attributes: attributesSchema.nullish(),
    chunking_strategy: chunkingStrategySchema.nullish(),
  })
  .refine((b) => (b.file_ids === undefined) !== (b.files === undefined), { message: "Exactly one of 'file_ids' or 'files' is required.", path: ['file_ids'] });

export const updateFileSchema = z.strictObject({ attributes: attributesSchema.nullable() });

export const searchSchema = z.strictObject({
  query: z.union([z.string().min(1).max(4096), z.array(z.string().min(1).max(4096)).min(1).max(10)]),
  filters: attributeFilterSchema.nullish(),
  max_num_results: z.number().int().min(1).max(50).default(10),
  ranking_options: z
    .strictObject({
      ranker: z.enum(['none', 'auto', 'default-2024-11-15']).optional(),
      score_threshold: z.number().min(0).max(1).optional(),
    })
    .nullish(),
  rewrite_query: z.boolean().default(false),
  search_mode: z.enum(['vector', 'keyword', 'hybrid']).nullish(),
});
export type SearchBody = z.infer<typeof searchSchema>;

export const listStoresQuerySchema = listQuerySchema({ defaultLimit: 20, defaultOrder: 'desc', maxLimit: 100 });
export const listFilesQuerySchema = listQuerySchema({ defaultLimit: 20, defaultOrder: 'desc', maxLimit: 100 }).extend({
  filter: z.enum(['in_progress', 'completed', 'failed', 'cancelled']).optional(),
});
/** The content endpoint's page token (ours: the last chunk index of the previous page). */
export const contentQuerySchema = z.object({ page: z.string().regex(/^\d{1,9}$/, 'Expected a page token from next_page.').optional() });

const storeId = idSchema('vectorStore');
export const storeParamsSchema = z.object({ vector_store_id: storeId });
export const fileParamsSchema = z.object({ vector_store_id: storeId, file_id: fileId });
export const batchParamsSchema = z.object({ vector_store_id: storeId, batch_id: idSchema('vectorStoreFileBatch') });
