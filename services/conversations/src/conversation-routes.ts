import { Router, type Request } from 'express';
import { IDEMPOTENT_APPEND_HEADER, InvalidRequestError, jsonObjectBody, validate } from '@rgw/shared';
import {
  checkConversationId,
  createConversationSchema,
  createItemsSchema,
  listConversationsQuerySchema,
  listItemsQuerySchema,
  updateConversationSchema,
} from './conversation-schema.js';
import type { ConversationManager } from './conversation-manager.js';
import { parseInclude } from './item-include.js';
import { validateInputItems } from './item-schema.js';

/** The /v1/conversations routes: each handler validates, calls the manager, and sends its answer. */
export function conversationRoutes(manager: ConversationManager): Router {
  const router = Router();

  router.post('/v1/conversations', async (req, res) => {
    const body = validate(createConversationSchema, jsonObjectBody(req));
    const items = body.items == null ? [] : validateInputItems(body.items, 'items');
    res.json(await manager.create(items, body.metadata));
  });

  router.get('/v1/conversations', async (req, res) => {
    res.json(await manager.list(validate(listConversationsQuerySchema, req.query)));
  });

  router.get('/v1/conversations/:conversation_id', async (req, res) => {
    res.json(await manager.get(conversationId(req)));
  });

  router.post('/v1/conversations/:conversation_id', async (req, res) => {
    const id = conversationId(req);
    const body = validate(updateConversationSchema, jsonObjectBody(req));
    res.json(await manager.update(id, body.metadata));
  });

  router.delete('/v1/conversations/:conversation_id', async (req, res) => {
    res.json(await manager.delete(conversationId(req)));
  });

  router.post('/v1/conversations/:conversation_id/items', async (req, res) => {
    const id = conversationId(req);
    const include = parseInclude(req.query.include);
    const body = validate(createItemsSchema, jsonObjectBody(req));
    if (body.items === undefined) throw new InvalidRequestError("Missing required parameter: 'items'.", 'items', 'missing_required_parameter');
    res.json(await manager.addItems(id, validateInputItems(body.items, 'items'), include, { skipExisting: req.get(IDEMPOTENT_APPEND_HEADER) === 'true' }));
  });

  router.get('/v1/conversations/:conversation_id/items', async (req, res) => {
    const id = conversationId(req);
    const include = parseInclude(req.query.include);
    const query = validate(listItemsQuerySchema, req.query);
    res.json(await manager.listItems(id, query, include));
  });

  router.get('/v1/conversations/:conversation_id/items/:item_id', async (req, res) => {
    const id = conversationId(req);
    res.json(await manager.getItem(id, req.params.item_id as string, parseInclude(req.query.include)));
  });

  router.delete('/v1/conversations/:conversation_id/items/:item_id', async (req, res) => {
    const id = conversationId(req);
    res.json(await manager.deleteItem(id, req.params.item_id as string));
  });

  return router;
}

function conversationId(req: Request): string {
  return checkConversationId(req.params.conversation_id as string);
}
