import { defineRoute, type AnyRoute } from '@rgw/shared';
import { expiryNow, type Clock } from './clock.js';
import { FORM_OVERHEAD_BYTES } from './file-routes.js';
import { completeUploadSchema, createUploadSchema, uploadIdParamsSchema, uploadObjectSchema, uploadPartFormSchema, uploadPartSchema } from './file-schema.js';
import { MAX_PART_BYTES, type UploadManager } from './upload-manager.js';

/** The /v1/uploads routes (OpenAI's Uploads API). */
export function uploadRoutes(manager: UploadManager, clock: Clock): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/uploads',
      operationId: 'createUpload',
      summary: 'Start an upload of up to 8 GB in parts; it expires after an hour.',
      body: createUploadSchema,
      bodyPolicy: 'json',
      response: uploadObjectSchema,
      handler: ({ ctx, body }) => manager.create(ctx, body),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/uploads/:upload_id/parts',
      operationId: 'addUploadPart',
      summary: 'Add a part (multipart `data`, at most 64 MB); parts may arrive in parallel.',
      params: uploadIdParamsSchema,
      body: { schema: uploadPartFormSchema, checkedBy: 'handler' },
      bodyPolicy: 'multipart',
      bodyLimitBytes: MAX_PART_BYTES + FORM_OVERHEAD_BYTES,
      response: uploadPartSchema,
      handler: ({ ctx, params, req }) => manager.addPart(ctx, params.upload_id, req, expiryNow(clock, req.headers)),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/uploads/:upload_id/complete',
      operationId: 'completeUpload',
      summary: 'Join the parts, in the order given, into a file (optional md5 check).',
      params: uploadIdParamsSchema,
      body: completeUploadSchema,
      bodyPolicy: 'json',
      response: uploadObjectSchema,
      handler: ({ ctx, params, body, req }) => manager.complete(ctx, params.upload_id, body, expiryNow(clock, req.headers)),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/uploads/:upload_id/cancel',
      operationId: 'cancelUpload',
      summary: 'Cancel a pending upload and discard its parts.',
      params: uploadIdParamsSchema,
      bodyPolicy: 'none',
      response: uploadObjectSchema,
      handler: ({ ctx, params, req }) => manager.cancel(ctx, params.upload_id, expiryNow(clock, req.headers)),
    }),
  ];
}
