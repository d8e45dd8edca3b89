import { z } from 'zod';
import { IDEMPOTENT_APPEND_HEADER, InvalidRequestError, defineRoute, documentationOnly, type AnyRoute, type IncludeValue } from '@rgw/shared';
import {
  conversationParamsSchema,
  createConversationSchema,
  createItemsSchema,
  includeQuerySchema,
  itemParamsSchema,
  listConversationsQuerySchema,
  listItemsQuerySchema,
  updateConversationSchema,
} from './conversation-schema.js';
import type { ConversationManager } from './conversation-manager.js';
import { validateInputItems } from './item-schema.js';

// Success bodies, loose for now: enough to document the shape.
const conversation = z.looseObject({ id: z.string(), object: z.literal('conversation'), created_at: z.number(), metadata: z.record(z.string(), z.string()) });
const item = z.looseObject({ id: z.string(), type: z.string() });
const itemList = z.looseObject({ object: z.literal('list'), data: z.array(item), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() });

const includeSet = (include: IncludeValue[] | undefined): Set<IncludeValue> => new Set(include ?? []);

/** The /v1/conversations routes: each handler takes the parsed input, calls the manager, returns its answer. */
export function conversationRoutes(manager: ConversationManager): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/conversations',
      operationId: 'createConversation',
      summary: 'Create a conversation, optionally with up to 20 initial items.',
      body: createConversationSchema,
      bodyPolicy: 'json',
      response: conversation,
      handler: ({ body, ctx }) => manager.create(ctx, body.items == null ? [] : validateInputItems(body.items, 'items'), body.metadata),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/conversations',
      operationId: 'listConversations',
      summary: 'List conversations, newest first.',
      query: listConversationsQuerySchema,
      bodyPolicy: 'none',
      response: z.looseObject({ object: z.literal('list'), data: z.array(conversation), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() }),
      extension: true,
      handler: ({ query, ctx }) => manager.list(ctx, query),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/conversations/:conversation_id',
      operationId: 'getConversation',
      summary: 'Retrieve a conversation.',
      params: conversationParamsSchema,
      bodyPolicy: 'none',
      response: conversation,
      handler: ({ params, ctx }) => manager.get(ctx, params.conversation_id),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/conversations/:conversation_id',
      operationId: 'updateConversation',
      summary: "Replace a conversation's metadata.",
      params: conversationParamsSchema,
      body: updateConversationSchema,
      bodyPolicy: 'json',
      response: conversation,
      handler: ({ params, body, ctx }) => manager.update(ctx, params.conversation_id, body.metadata),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/conversations/:conversation_id',
      operationId: 'deleteConversation',
      summary: 'Delete a conversation and its items.',
      params: conversationParamsSchema,
      bodyPolicy: 'none',
      response: z.looseObject({ id: z.string(), object: z.literal('conversation.deleted'), deleted: z.literal(true) }),
      handler: ({ params, ctx }) => manager.delete(ctx, params.conversation_id),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/conversations/:conversation_id/items',
      operationId: 'createConversationItems',
      summary: 'Append up to 20 items to a conversation.',
      params: conversationParamsSchema,
      query: includeQuerySchema,
      body: createItemsSchema,
      bodyPolicy: 'json',
      response: itemList,
      handler: ({ params, query, body, req, ctx }) => {
        if (body.items === undefined) throw new InvalidRequestError("Missing required parameter: 'items'.", 'items', 'missing_required_parameter');
        // Internal (the responses service's append outbox): items already there are skipped, not refused.
        const skipExisting = req.headers[IDEMPOTENT_APPEND_HEADER] === 'true';
        return manager.addItems(ctx, params.conversation_id, validateInputItems(body.items, 'items'), includeSet(query.include), { skipExisting });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/conversations/:conversation_id/items',
      operationId: 'listConversationItems',
      summary: "List a conversation's items.",
      params: conversationParamsSchema,
      query: listItemsQuerySchema,
      bodyPolicy: 'none',
      response: itemList,
      handler: ({ params, query: { include, ...page }, ctx }) => manager.listItems(ctx, params.conversation_id, page, includeSet(include)),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/conversations/:conversation_id/items/:item_id',
      operationId: 'getConversationItem',
      summary: 'Retrieve one item of a conversation.',
      params: itemParamsSchema,
      query: includeQuerySchema,
      bodyPolicy: 'none',
      response: item,
      handler: ({ params, query, ctx }) => manager.getItem(ctx, params.conversation_id, params.item_id, includeSet(query.include)),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/conversations/:conversation_id/items/:item_id',
      operationId: 'deleteConversationItem',
      summary: 'Delete one item; answers with the conversation.',
      params: itemParamsSchema,
      bodyPolicy: 'none',
      response: conversation,
      handler: ({ params, ctx }) => manager.deleteItem(ctx, params.conversation_id, params.item_id),
    }),
  ];
}

/** The same routes for the API description only (the gateway documents a service it may only proxy). */
export function conversationRouteDocs(): AnyRoute[] {
  return conversationRoutes(documentationOnly('the conversations manager'));
}
