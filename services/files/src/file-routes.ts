import { defineRoute, documentationOnly, loadConfig, type AnyRoute } from '@rgw/shared';
import { expiryNow, type Clock } from './clock.js';
import type { FileManager } from './file-manager.js';
import { uploadRoutes } from './upload-routes.js';
import { createFileFormSchema, fileDeletedSchema, fileIdParamsSchema, fileListSchema, fileObjectSchema, listFilesQuerySchema } from './file-schema.js';

/** Room for the form's boundaries and text fields around the file itself. */
export const FORM_OVERHEAD_BYTES = 64 * 1024;

/** The /v1/files routes (OpenAI's Files API): each calls the manager with the time expiry is judged at. */
export function fileRoutes(manager: FileManager, clock: Clock, maxFileBytes: number): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/files',
      operationId: 'createFile',
      summary: 'Upload a file (multipart: file, purpose, expires_after); streamed into the object store.',
      body: { schema: createFileFormSchema, checkedBy: 'handler' },
      bodyPolicy: 'multipart',
      bodyLimitBytes: maxFileBytes + FORM_OVERHEAD_BYTES,
      response: fileObjectSchema,
      handler: ({ ctx, req }) => manager.create(ctx, req),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/files',
      operationId: 'listFiles',
      summary: 'List files, newest first by default; `purpose` filters.',
      query: listFilesQuerySchema,
      bodyPolicy: 'none',
      response: fileListSchema,
      handler: ({ ctx, query, req }) => manager.list(ctx, query, expiryNow(clock, req.headers)),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/files/:file_id',
      operationId: 'retrieveFile',
      summary: 'Retrieve a file object.',
      params: fileIdParamsSchema,
      bodyPolicy: 'none',
      response: fileObjectSchema,
      handler: ({ ctx, params, req }) => manager.get(ctx, params.file_id, expiryNow(clock, req.headers)),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/files/:file_id/content',
      operationId: 'downloadFile',
      summary: "The file's bytes, streamed (content type from its name).",
      params: fileIdParamsSchema,
      bodyPolicy: 'none',
      handler: ({ ctx, params, req, res }) => manager.content(ctx, params.file_id, expiryNow(clock, req.headers), res),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/files/:file_id',
      operationId: 'deleteFile',
      summary: 'Delete a file: its bytes, its row, and (through `file.deleted`) its place in vector stores.',
      params: fileIdParamsSchema,
      bodyPolicy: 'none',
      response: fileDeletedSchema,
      handler: ({ ctx, params, req }) => manager.delete(ctx, params.file_id, expiryNow(clock, req.headers)),
    }),
  ];
}

/** The files and uploads routes for the API description only, with the default file size limit. */
export function fileRouteDocs(): AnyRoute[] {
  const clock = documentationOnly<Clock>('the files clock');
  return [...fileRoutes(documentationOnly('the files manager'), clock, loadConfig({}).filesMaxBytes), ...uploadRoutes(documentationOnly('the uploads manager'), clock)];
}
