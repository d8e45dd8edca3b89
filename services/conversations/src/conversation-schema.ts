import { z } from 'zod';
import { InvalidRequestError, hasPrefix, listQuerySchema, metadataSchema } from '@rgw/shared';

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

export const listItemsQuerySchema = listQuerySchema({ defaultLimit: 20, defaultOrder: 'desc', maxLimit: 100 }).omit({ before: true });

export const listConversationsQuerySchema = listQuerySchema({ defaultLimit: 20, defaultOrder: 'desc', maxLimit: 100 }).omit({ before: true });

/** A conversation id must look like one (OpenAI answers 400, not 404, to `abc`). */
export function checkConversationId(id: string): string {
  if (!hasPrefix(id, 'conversation')) {
    throw new InvalidRequestError(`Invalid 'conversation_id': '${id}'. Expected an ID that begins with 'conv'.`, 'conversation_id', 'invalid_value');
  }
  return id;
}
