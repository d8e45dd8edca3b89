import { z } from 'zod';
import { attributeFilterSchema, idSchema } from '@rgw/shared';

// Llama Stack's /v1/vector-io bodies (InsertChunksRequest, QueryChunksRequest), tolerant where its
// clients send extra fields (chunk metadata), strict on what we use.

const textItem = z.looseObject({ type: z.literal('text').optional(), text: z.string() });
const imageItem = z.looseObject({ type: z.literal('image'), image: z.unknown() });
const contentItem = z.union([textItem, imageItem]);
export const chunkContentSchema = z.union([z.string(), contentItem, z.array(contentItem)]);

export const insertChunksSchema = z.strictObject({
  vector_store_id: idSchema('vectorStore'),
  chunks: z
    .array(
      z.looseObject({
        content: chunkContentSchema,
        chunk_id: z.string().min(1).max(256),
        metadata: z.record(z.string(), z.unknown()).optional(),
        chunk_metadata: z.looseObject({ document_id: z.string().max(256).nullish(), source: z.string().max(512).nullish() }).nullish(),
        embedding: z.array(z.number()).min(1).max(65536).nullish(),
        embedding_model: z.string().nullish(),
        embedding_dimension: z.number().int().nullish(),
      }),
    )
    .min(1)
    .max(2000),
  ttl_seconds: z.number().int().nullish(),
});
export type InsertChunksBody = z.infer<typeof insertChunksSchema>;

export const queryChunksSchema = z.strictObject({
  vector_store_id: idSchema('vectorStore'),
  query: chunkContentSchema,
  params: z
    .looseObject({
      max_chunks: z.number().int().min(1).max(100).optional(),
      score_threshold: z.number().min(0).max(1).optional(),
      mode: z.enum(['vector', 'keyword', 'hybrid']).optional(),
      filters: attributeFilterSchema.optional(),
    })
    .nullish(),
});
export type QueryChunksBody = z.infer<typeof queryChunksSchema>;
