import { z } from 'zod';
import { defineRoute, type AnyRoute } from '@rgw/shared';
import type { VectorIoManager } from './vector-io-manager.js';
import { insertChunksSchema, queryChunksSchema } from './vector-io-schema.js';

/** Llama Stack's /v1/vector-io routes (extensions to OpenAI's API). */
export function vectorIoRoutes(manager: VectorIoManager): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/vector-io/insert',
      operationId: 'insertChunks',
      summary: 'Insert chunks into a vector store (embedded with its model unless they carry embeddings).',
      body: insertChunksSchema,
      bodyPolicy: 'json',
      status: 204,
      extension: true,
      handler: async ({ body, ctx }) => {
        await manager.insert(ctx, body);
      },
    }),
    defineRoute({
      method: 'post',
      path: '/v1/vector-io/query',
      operationId: 'queryChunks',
      summary: 'Query the chunks of a vector store.',
      body: queryChunksSchema,
      bodyPolicy: 'json',
      response: z.looseObject({ chunks: z.array(z.unknown()), scores: z.array(z.number()) }),
      extension: true,
      handler: ({ body, ctx }) => manager.query(ctx, body),
    }),
  ];
}
