import { z } from 'zod';
import { InvalidRequestError, hasPrefix, listQuerySchema } from '@rgw/shared';

// Request bodies and query strings of /v1/conversations. Items are checked in item-schema.ts.

export const METADATA_LIMITS = { pairs: 16, keyLength: 64, valueLength: 512 } as const;

/** Metadata as OpenAI checks it: at most 16 string pairs, keys ≤ 64 and values ≤ 512 characters. */
export const metadataSchema = z
  .record(z.string().max(METADATA_LIMITS.keyLength, `Keys must be at most ${METADATA_LIMITS.keyLength} characters.`), z.string().max(METADATA_LIMITS.valueLength, `Values must be at most ${METADATA_LIMITS.valueLength} characters.`))
  .refine((m) => Object.keys(m).length <= METADATA_LIMITS.pairs, {
    message: `too many properties. Expected an object with at most ${METADATA_LIMITS.pairs} properties.`,
  });

export type Metadata = Record<string, string>;

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
