import { z } from 'zod';
import { defineRoute, documentationOnly, idSchema, listQuerySchema, oneOrMany, urlTextSchema, type AnyRoute } from '@rgw/shared';
import type { ResponsesManager } from '../responses-manager.js';
import { INCLUDE_VALUES, createResponseSchema, inputTokensSchema } from '../wire/create-response-schema.js';
import { responseObjectSchema } from '../wire/response-object-schema.js';
import { abortOnClientGone, writeEventStream } from './event-stream.js';

const includeQuery = oneOrMany(z.enum(INCLUDE_VALUES)).optional();
const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

const responseParams = z.object({ response_id: idSchema('response') });

const retrieveQuery = z.object({
  include: includeQuery,
  stream: booleanQuery.optional(),
  starting_after: z.coerce.number().int().min(-1).optional(),
  include_obfuscation: booleanQuery.optional(),
});

const listQuery = listQuerySchema({ defaultLimit: 50, defaultOrder: 'desc', maxLimit: 100 }).extend({ model: urlTextSchema().optional() });
const inputItemsQuery = listQuerySchema({ defaultLimit: 20, defaultOrder: 'desc', maxLimit: 100 }).extend({ include: includeQuery });

// Success bodies, loose for now: enough to document the shape.
const response = responseObjectSchema;
const list = (item: z.ZodType) => z.looseObject({ object: z.literal('list'), data: z.array(item), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() });

/** The HTTP surface of /v1/responses: parse, call the manager, write. */
export function responsesRoutes(manager: ResponsesManager): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/responses/input_tokens',
      operationId: 'countResponseInputTokens',
      summary: 'Count the input tokens a create request would use.',
      // The manager validates: its preparation is shared with POST /v1/responses.
      body: { schema: inputTokensSchema, checkedBy: 'handler' },
      bodyPolicy: 'json',
      response: z.looseObject({ object: z.literal('response.input_tokens'), input_tokens: z.number().int() }),
      handler: ({ body, ctx }) => manager.countInputTokens(ctx, body),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/responses',
      operationId: 'createResponse',
      summary: 'Create a model response (streaming with `stream: true`, queued with `background: true`).',
      // The manager validates inside prepare(), which the background runner shares.
      body: { schema: createResponseSchema, checkedBy: 'handler' },
      bodyPolicy: 'json',
      stream: true,
      response,
      handler: async ({ body, ctx, log, res }) => {
        const { prepared, plan } = await manager.prepare(ctx, body);
        const client = abortOnClientGone(res);
        if (prepared.body.background) {
          const created = await manager.startBackground(prepared);
          // The run belongs to the queue now: a client leaving only stops its view of the stream.
          if (prepared.body.stream) return writeEventStream(res, manager.follow(created.id, client.signal), { holdStart: false, log });
          return created;
        }
        const opts = { signal: client.signal, requestId: ctx.requestId };
        if (prepared.body.stream) return writeEventStream(res, manager.runForeground(prepared, plan, opts), { holdStart: true, log });
        return manager.collect(prepared, plan, opts);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/responses',
      operationId: 'listResponses',
      summary: 'List stored responses, newest first.',
      query: listQuery,
      bodyPolicy: 'none',
      response: list(response),
      extension: true,
      handler: ({ query, ctx }) => manager.list(ctx, query),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/responses/:response_id',
      operationId: 'getResponse',
      summary: 'Retrieve a response; with `stream=true`, replay a background response from `starting_after`.',
      params: responseParams,
      query: retrieveQuery,
      bodyPolicy: 'none',
      stream: true,
      response,
      handler: async ({ params, query, ctx, log, res }) => {
        if (!query.stream) return manager.retrieve(ctx, params.response_id, query.include);
        const client = abortOnClientGone(res);
        const events = await manager.stream(ctx, params.response_id, query.starting_after ?? -1, client.signal);
        await writeEventStream(res, events, { holdStart: false, log });
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/responses/:response_id',
      operationId: 'deleteResponse',
      summary: 'Delete a response.',
      params: responseParams,
      bodyPolicy: 'none',
      response: z.looseObject({ id: z.string(), object: z.literal('response'), deleted: z.literal(true) }),
      handler: ({ params, ctx }) => manager.delete(ctx, params.response_id),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/responses/:response_id/input_items',
      operationId: 'listResponseInputItems',
      summary: "List a response's input items.",
      params: responseParams,
      query: inputItemsQuery,
      bodyPolicy: 'none',
      response: list(z.looseObject({ id: z.string(), type: z.string() })),
      handler: ({ params, query, ctx }) => manager.listInputItems(ctx, params.response_id, query),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/responses/:response_id/cancel',
      operationId: 'cancelResponse',
      summary: 'Cancel a background response.',
      params: responseParams,
      bodyPolicy: 'none',
      response,
      handler: ({ params, ctx }) => manager.cancel(ctx, params.response_id),
    }),
  ];
}

/** The same routes for the API description only (the gateway documents a service it may only proxy). */
export function responsesRouteDocs(): AnyRoute[] {
  return responsesRoutes(documentationOnly('the responses manager'));
}
