import { z } from 'zod';
import { cursorSchema } from './http/route-params.js';

/** Query parameters of the cursor-paginated list endpoints (`after`, `before`, `limit`, `order`). */
export function listQuerySchema(opts: { defaultLimit: number; defaultOrder: 'asc' | 'desc'; maxLimit?: number }) {
  return z.object({
    after: cursorSchema.optional(),
    before: cursorSchema.optional(),
    limit: z.coerce.number().int().min(1).max(opts.maxLimit ?? 100).default(opts.defaultLimit),
    order: z.enum(['asc', 'desc']).default(opts.defaultOrder),
  });
}

/**
 * One page of a cursor-paginated list. On an empty page `first_id` and `last_id` are null, on
 * purpose, though the spec's ConversationItemList (and ResponseItemList, ...) declares them as
 * required strings: there is no id to give, OpenAI itself answers null for empty lists (the newer
 * list schemas, e.g. VideoListResource, say `string | null`), and the `openai` SDK's cursor pages
 * read `last_id || ''` and stop. An empty string would be a fake id that a client could send back
 * as `after` and get a 400.
 */
export interface ListPage<T> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** Builds a list page from `limit + 1` fetched rows: the extra row only proves `has_more`. */
export function toListPage<T extends { id: string }>(rows: T[], limit: number): ListPage<T> {
  const has_more = rows.length > limit;
  const data = has_more ? rows.slice(0, limit) : rows;
  return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more };
}
