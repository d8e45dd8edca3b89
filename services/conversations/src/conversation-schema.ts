import { z } from 'zod';
import { INCLUDE_VALUES, idSchema, listQuerySchema, metadataSchema, oneOrMany } from '@rgw/shared';

// Request bodies and query strings of /v1/conversations. Items are checked in item-schema.ts.


export const createConversationSchema = z.strictObject({
  items: z.unknown().optional(),
  metadata: metadataSchema.nullish(),
});

export const updateConversationSchema = z.strictObject({
  metadata: metadataSchema.nullable(),
});

export const createItemsSchema = z.strictObject({
  items: z.unknown(),
});

/** `include` of the item endpoints, once or repeated. */
const includeQuery = oneOrMany(z.enum(INCLUDE_VALUES)).optional();

export const includeQuerySchema = z.object({ include: includeQuery });

export const listItemsQuerySchema = listQuerySchema({ defaultLimit: 20, defaultOrder: 'desc', maxLimit: 100 }).omit({ before: true }).extend({ include: includeQuery });

export const listConversationsQuerySchema = listQuerySchema({ defaultLimit: 20, defaultOrder: 'desc', maxLimit: 100 }).omit({ before: true });

// A conversation id must look like one (OpenAI answers 400, not 404, to `abc`). Item ids may be
// the caller's own (`msg_mine`), so they are only held to the characters an item id may have.
const conversationId = idSchema('conversation');
const itemId = idSchema(undefined, 128);

export const conversationParamsSchema = z.object({ conversation_id: conversationId });
export const itemParamsSchema = z.object({ conversation_id: conversationId, item_id: itemId });
