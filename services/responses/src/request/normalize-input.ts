import { newId, toStoredItem, validateInputItem } from '@rgw/shared';
import type { ResponseItem } from '../wire/response-types.js';

/** An input entry after validation: a stored-shape item, or a reference the store must resolve. */
export type NormalizedInput = { kind: 'item'; item: ResponseItem } | { kind: 'reference'; id: string; index: number };

/**
 * Validates `input` item by item with the shared item model (errors name `input[i].field`) and turns
 * each into the shape we store and list — the same shape the Conversations service stores: the
 * client's id (any URL-safe one, kept as given) or one minted by type, and a status where the spec
 * returns one.
 */
export function normalizeInput(input: string | unknown[] | null | undefined): NormalizedInput[] {
  if (input === undefined || input === null) return [];
  if (typeof input === 'string') return [{ kind: 'item', item: userText(input) }];
  return input.map((raw, index) => {
    const item = validateInputItem(raw, `input[${index}]`);
    if (item.type === 'item_reference') return { kind: 'reference', id: item.id as string, index };
    return { kind: 'item', item: toStoredItem(item) };
  });
}

export function userText(text: string): ResponseItem {
  return { id: newId('message'), type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_text', text }] };
}
