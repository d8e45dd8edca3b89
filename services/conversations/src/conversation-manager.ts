import { InvalidRequestError, NotFoundError, newId, nowSeconds, projectOf, toListPage, type IncludeValue, type ListPage, type RequestContext } from '@rgw/shared';
import { DuplicateItemError, type ConversationRecord, type ConversationStore, type PageQuery } from './conversation-store.js';
import type { Metadata } from '@rgw/shared';
import { applyInclude } from './item-include.js';
import { copyReferencedItem, toStoredItem, type ConversationItem } from './item-normalize.js';
import type { InputItem } from './item-schema.js';

export interface ConversationResource {
  id: string;
  object: 'conversation';
  created_at: number;
  metadata: Metadata;
}

export interface DeletedConversation {
  id: string;
  object: 'conversation.deleted';
  deleted: true;
}

/**
 * The logic of the Conversations API over a store: resources, item ids, includes, and the 404s. Every
 * call acts within the caller's project (`ctx`): another project's conversation is a 404, never a 403.
 */
export class ConversationManager {
  constructor(private readonly store: ConversationStore) {}

  async create(ctx: RequestContext, items: InputItem[], metadata: Metadata | null | undefined): Promise<ConversationResource> {
    const stored = await this.prepareItems(ctx, items, 'items');
    const record: ConversationRecord = { id: newId('conversation'), created_at: nowSeconds(), metadata: metadata ?? {} };
    await this.withDuplicateCheck(stored, 'items', () => this.store.create(projectOf(ctx), record, stored));
    return toResource(record);
  }

  async get(ctx: RequestContext, id: string): Promise<ConversationResource> {
    return toResource(await this.require(ctx, id));
  }

  async update(ctx: RequestContext, id: string, metadata: Metadata | null): Promise<ConversationResource> {
    const record = await this.store.updateMetadata(projectOf(ctx), id, metadata ?? {});
    if (!record) throw conversationNotFound(id);
    return toResource(record);
  }

  async delete(ctx: RequestContext, id: string): Promise<DeletedConversation> {
    if (!(await this.store.delete(projectOf(ctx), id))) throw conversationNotFound(id);
    return { id, object: 'conversation.deleted', deleted: true };
  }

  async list(ctx: RequestContext, query: PageQuery): Promise<ListPage<ConversationResource>> {
    const rows = await this.store.list(projectOf(ctx), query);
    if (!rows) throw unknownCursor(query.after!, 'conversation');
    return toListPage(rows.map(toResource), query.limit);
  }

  /**
   * Appends items. With `skipExisting` (the internal idempotent mode the responses service uses for
   * its retried appends) items whose ids are already in the conversation are left out, not refused.
   */
  async addItems(ctx: RequestContext, id: string, items: InputItem[], include: ReadonlySet<IncludeValue>, opts: { skipExisting?: boolean } = {}): Promise<ListPage<ConversationItem>> {
    await this.require(ctx, id);
    const stored = await this.prepareItems(ctx, items, 'items');
    const appended = await this.withDuplicateCheck(stored, 'items', () => this.store.appendItems(projectOf(ctx), id, stored, nowSeconds(), opts));
    if (!appended) throw conversationNotFound(id);
    const page = toListPage(stored, stored.length);
    return { ...page, data: page.data.map((item) => applyInclude(item, include)) };
  }

  async listItems(ctx: RequestContext, id: string, query: PageQuery, include: ReadonlySet<IncludeValue>): Promise<ListPage<ConversationItem>> {
    await this.require(ctx, id);
    const rows = await this.store.listItems(projectOf(ctx), id, query);
    if (!rows) throw unknownCursor(query.after!, 'item');
    return toListPage(rows.map((item) => applyInclude(item, include)), query.limit);
  }

  async getItem(ctx: RequestContext, id: string, itemId: string, include: ReadonlySet<IncludeValue>): Promise<ConversationItem> {
    await this.require(ctx, id);
    const item = await this.store.getItem(projectOf(ctx), id, itemId);
    if (!item) throw itemNotFound(itemId);
    return applyInclude(item, include);
  }

  /** Deletes one item and, as OpenAI does, answers with the conversation it was in. */
  async deleteItem(ctx: RequestContext, id: string, itemId: string): Promise<ConversationResource> {
    const record = await this.require(ctx, id);
    if (!(await this.store.deleteItem(projectOf(ctx), id, itemId))) throw itemNotFound(itemId);
    return toResource(record);
  }

  private async require(ctx: RequestContext, id: string): Promise<ConversationRecord> {
    const record = await this.store.get(projectOf(ctx), id);
    if (!record) throw conversationNotFound(id);
    return record;
  }

  /** Stored forms of validated inputs: references resolved, ids minted, duplicates in the batch refused. */
  private async prepareItems(ctx: RequestContext, items: InputItem[], param: string): Promise<ConversationItem[]> {
    const stored: ConversationItem[] = [];
    for (const [i, input] of items.entries()) {
      if (input.type === 'item_reference') {
        const referenced = await this.store.findItem(projectOf(ctx), input.id as string);
        if (!referenced) throw new NotFoundError(`Item with id '${String(input.id)}' not found.`, `${param}[${i}].id`, 'item_not_found');
        stored.push(copyReferencedItem(referenced));
      } else {
        stored.push(toStoredItem(input));
      }
    }
    const seen = new Set<string>();
    for (const [i, item] of stored.entries()) {
      if (seen.has(item.id)) throw duplicateItem(item.id, `${param}[${i}].id`);
      seen.add(item.id);
    }
    return stored;
  }

  private async withDuplicateCheck<T>(items: ConversationItem[], param: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (!(err instanceof DuplicateItemError)) throw err;
      const index = items.findIndex((i) => i.id === err.itemId);
      throw duplicateItem(err.itemId, `${param}[${index}].id`);
    }
  }
}

function toResource(record: ConversationRecord): ConversationResource {
  return { id: record.id, object: 'conversation', created_at: record.created_at, metadata: record.metadata };
}

function conversationNotFound(id: string): NotFoundError {
  return new NotFoundError(`Conversation with id '${id}' not found.`, 'conversation_id', 'not_found');
}

function itemNotFound(itemId: string): NotFoundError {
  return new NotFoundError(`Item with id '${itemId}' not found.`, 'item_id', 'not_found');
}

function duplicateItem(itemId: string, param: string): InvalidRequestError {
  return new InvalidRequestError(`Duplicate item found with id ${itemId}. Remove the duplicate item from your input and try again.`, param, 'duplicate_item');
}

function unknownCursor(after: string, what: string): InvalidRequestError {
  return new InvalidRequestError(`Invalid 'after': no ${what} with id '${after}' to list after.`, 'after', 'invalid_value');
}
