import { z } from 'zod';
import { defineRoute, documentationOnly, type AnyRoute } from '@rgw/shared';
import { vectorIoRoutes } from './vector-io-routes.js';
import type { SearchManager } from './search-manager.js';
import type { VectorStoreManager } from './vector-store-manager.js';
import {
  attachFileSchema,
  batchParamsSchema,
  contentQuerySchema,
  createBatchSchema,
  createStoreSchema,
  fileParamsSchema,
  listFilesQuerySchema,
  listStoresQuerySchema,
  searchSchema,
  storeParamsSchema,
  updateFileSchema,
  updateStoreSchema,
} from './vector-store-schema.js';

// Success bodies, loose: enough to document the shapes.
const counts = z.looseObject({ in_progress: z.number(), completed: z.number(), failed: z.number(), cancelled: z.number(), total: z.number() });
const metadata = z.record(z.string(), z.string()).nullable();
const attributes = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).nullable();
const store = z.looseObject({
  id: z.string(),
  object: z.literal('vector_store'),
  created_at: z.number(),
  name: z.string(),
  usage_bytes: z.number(),
  file_counts: counts,
  status: z.enum(['expired', 'in_progress', 'completed']),
  expires_after: z.looseObject({ anchor: z.literal('last_active_at'), days: z.number().int() }).nullable().optional(),
  expires_at: z.number().nullable().optional(),
  last_active_at: z.number().nullable(),
  metadata,
});
const file = z.looseObject({
  id: z.string(),
  object: z.literal('vector_store.file'),
  created_at: z.number(),
  vector_store_id: z.string(),
  status: z.enum(['in_progress', 'completed', 'cancelled', 'failed']),
  usage_bytes: z.number(),
  last_error: z.looseObject({ code: z.string(), message: z.string() }).nullable(),
  chunking_strategy: z.looseObject({ type: z.string() }).optional(),
  attributes: attributes.optional(),
});
const batch = z.looseObject({ id: z.string(), object: z.literal('vector_store.files_batch'), created_at: z.number(), vector_store_id: z.string(), status: z.enum(['in_progress', 'completed', 'cancelled', 'failed']), file_counts: counts });
const list = (item: z.ZodType) => z.looseObject({ object: z.literal('list'), data: z.array(item), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() });
const deleted = (object: string) => z.looseObject({ id: z.string(), object: z.literal(object), deleted: z.literal(true) });
const page = (object: string, extra: z.ZodRawShape = {}) => z.looseObject({ object: z.literal(object), data: z.array(z.unknown()), has_more: z.boolean(), next_page: z.string().nullable(), ...extra });

/** The /v1/vector_stores routes: each calls the manager (or the search) with the parsed input. */
export function vectorStoreRoutes(manager: VectorStoreManager, search: SearchManager): AnyRoute[] {
  const base = '/v1/vector_stores';
  return [
    defineRoute({ method: 'post', path: base, operationId: 'createVectorStore', summary: 'Create a vector store, optionally attaching files.', body: createStoreSchema, bodyPolicy: 'json', response: store, handler: ({ body, ctx }) => manager.create(ctx, body) }),
    defineRoute({ method: 'get', path: base, operationId: 'listVectorStores', summary: 'List vector stores.', query: listStoresQuerySchema, bodyPolicy: 'none', response: list(store), handler: ({ query, ctx }) => manager.list(ctx, query) }),
    defineRoute({ method: 'get', path: `${base}/:vector_store_id`, operationId: 'getVectorStore', summary: 'Retrieve a vector store.', params: storeParamsSchema, bodyPolicy: 'none', response: store, handler: ({ params, ctx }) => manager.get(ctx, params.vector_store_id) }),
    defineRoute({ method: 'post', path: `${base}/:vector_store_id`, operationId: 'modifyVectorStore', summary: "Modify a vector store's name, expiry policy or metadata.", params: storeParamsSchema, body: updateStoreSchema, bodyPolicy: 'json', response: store, handler: ({ params, body, ctx }) => manager.update(ctx, params.vector_store_id, body) }),
    defineRoute({ method: 'delete', path: `${base}/:vector_store_id`, operationId: 'deleteVectorStore', summary: 'Delete a vector store and its chunks (the files stay).', params: storeParamsSchema, bodyPolicy: 'none', response: deleted('vector_store.deleted'), handler: ({ params, ctx }) => manager.delete(ctx, params.vector_store_id) }),
    defineRoute({ method: 'post', path: `${base}/:vector_store_id/search`, operationId: 'searchVectorStore', summary: 'Search a vector store by vector, keyword or both, with attribute filters.', params: storeParamsSchema, body: searchSchema, bodyPolicy: 'json', response: page('vector_store.search_results.page', { search_query: z.array(z.string()) }), handler: ({ params, body, ctx }) => search.search(ctx, params.vector_store_id, body) }),
    defineRoute({ method: 'post', path: `${base}/:vector_store_id/files`, operationId: 'createVectorStoreFile', summary: 'Attach a file; it is ingested in the background.', params: storeParamsSchema, body: attachFileSchema, bodyPolicy: 'json', response: file, handler: ({ params, body, ctx }) => manager.attach(ctx, params.vector_store_id, body) }),
    defineRoute({ method: 'get', path: `${base}/:vector_store_id/files`, operationId: 'listVectorStoreFiles', summary: "List a vector store's files.", params: storeParamsSchema, query: listFilesQuerySchema, bodyPolicy: 'none', response: list(file), handler: ({ params, query, ctx }) => manager.listFiles(ctx, params.vector_store_id, query) }),
    defineRoute({ method: 'get', path: `${base}/:vector_store_id/files/:file_id`, operationId: 'getVectorStoreFile', summary: 'Retrieve a vector store file.', params: fileParamsSchema, bodyPolicy: 'none', response: file, handler: ({ params, ctx }) => manager.getFile(ctx, params.vector_store_id, params.file_id) }),
    defineRoute({ method: 'post', path: `${base}/:vector_store_id/files/:file_id`, operationId: 'updateVectorStoreFileAttributes', summary: "Replace a file's attributes (search filters see them at once).", params: fileParamsSchema, body: updateFileSchema, bodyPolicy: 'json', response: file, handler: ({ params, body, ctx }) => manager.updateFile(ctx, params.vector_store_id, params.file_id, body.attributes) }),
    defineRoute({ method: 'delete', path: `${base}/:vector_store_id/files/:file_id`, operationId: 'deleteVectorStoreFile', summary: 'Remove a file from a vector store (the file stays).', params: fileParamsSchema, bodyPolicy: 'none', response: deleted('vector_store.file.deleted'), handler: ({ params, ctx }) => manager.deleteFile(ctx, params.vector_store_id, params.file_id) }),
    defineRoute({ method: 'get', path: `${base}/:vector_store_id/files/:file_id/content`, operationId: 'retrieveVectorStoreFileContent', summary: "A file's parsed text, chunk by chunk.", params: fileParamsSchema, query: contentQuerySchema, bodyPolicy: 'none', response: page('vector_store.file_content.page'), handler: ({ params, query, ctx }) => manager.fileContent(ctx, params.vector_store_id, params.file_id, query.page) }),
    defineRoute({ method: 'post', path: `${base}/:vector_store_id/file_batches`, operationId: 'createVectorStoreFileBatch', summary: 'Attach up to 2,000 files at once.', params: storeParamsSchema, body: createBatchSchema, bodyPolicy: 'json', response: batch, handler: ({ params, body, ctx }) => manager.createBatch(ctx, params.vector_store_id, body) }),
    defineRoute({ method: 'get', path: `${base}/:vector_store_id/file_batches/:batch_id`, operationId: 'getVectorStoreFileBatch', summary: 'Retrieve a file batch.', params: batchParamsSchema, bodyPolicy: 'none', response: batch, handler: ({ params, ctx }) => manager.getBatch(ctx, params.vector_store_id, params.batch_id) }),
    defineRoute({ method: 'post', path: `${base}/:vector_store_id/file_batches/:batch_id/cancel`, operationId: 'cancelVectorStoreFileBatch', summary: 'Cancel a batch: its files not yet done become cancelled.', params: batchParamsSchema, bodyPolicy: 'none', response: batch, handler: ({ params, ctx }) => manager.cancelBatch(ctx, params.vector_store_id, params.batch_id) }),
    defineRoute({ method: 'get', path: `${base}/:vector_store_id/file_batches/:batch_id/files`, operationId: 'listFilesInVectorStoreBatch', summary: "List a batch's files.", params: batchParamsSchema, query: listFilesQuerySchema, bodyPolicy: 'none', response: list(file), handler: ({ params, query, ctx }) => manager.listBatchFiles(ctx, params.vector_store_id, params.batch_id, query) }),
  ];
}

/** The vector stores and vector-io routes for the API description only. */
export function vectorStoreRouteDocs(): AnyRoute[] {
  return [...vectorStoreRoutes(documentationOnly('the vector stores manager'), documentationOnly('the search manager')), ...vectorIoRoutes(documentationOnly('the vector-io manager'))];
}
