// The normaliser is shared with the Responses service, so an item is stored the same by both.
export { copyReferencedItem, mintItemId, toStoredItem, type StoredItem as ConversationItem } from '@rgw/shared';
