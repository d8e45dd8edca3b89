import type { Kysely } from 'kysely';
import { isUniqueViolation, type Database } from '@rgw/shared';
import type { ConversationItem } from './item-normalize.js';
import type { Metadata } from '@rgw/shared';

export interface ConversationRecord {
  id: string;
  created_at: number;
  metadata: Metadata;
}

export interface PageQuery {
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

/** Appending failed because an item with this id is already in the conversation. */
export class DuplicateItemError extends Error {
  constructor(readonly itemId: string) {
    super(`duplicate item ${itemId}`);
  }
}

/**
 * Conversations and their items in SQL (SQLite or Postgres, same queries). Every method acts within
 * one project (`project`): another project's conversation, item or cursor is as unknown as one that
 * never existed. List methods fetch
 * `limit + 1` rows so the caller can tell `has_more`, and answer `null` when the `after` cursor is
 * not a row they could start from.
 */
export class ConversationStore {
  private readonly db: Kysely<any>;

  constructor(database: Database) {
    this.db = database.db;
  }

  async create(project: string, conversation: ConversationRecord, items: ConversationItem[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('conversations')
        .values({ project_id: project, id: conversation.id, created_at: conversation.created_at, metadata: JSON.stringify(conversation.metadata) })
        .execute();
      await insertItems(trx, project, conversation.id, items, conversation.created_at);
    });
  }

  async get(project: string, id: string): Promise<ConversationRecord | undefined> {
    const row = await this.conversations(this.db, project).select(['id', 'created_at', 'metadata']).where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async updateMetadata(project: string, id: string, metadata: Metadata): Promise<ConversationRecord | undefined> {
    const result = await this.db
      .updateTable('conversations')
      .set({ metadata: JSON.stringify(metadata) })
      .where('project_id', '=', project)
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return undefined;
    return this.get(project, id);
  }

  async delete(project: string, id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // Explicit, so deletion does not depend on the engine enforcing the cascade.
      await trx.deleteFrom('conversation_items').where('project_id', '=', project).where('conversation_id', '=', id).execute();
      const result = await trx.deleteFrom('conversations').where('project_id', '=', project).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  async list(project: string, query: PageQuery): Promise<ConversationRecord[] | null> {
    let q = this.conversations(this.db, project).select(['id', 'created_at', 'metadata']);
    if (query.after) {
      const cursor = await this.conversations(this.db, project).select('seq').where('id', '=', query.after).executeTakeFirst();
      if (!cursor) return null;
      q = q.where('seq', query.order === 'asc' ? '>' : '<', cursor.seq);
    }
    const rows = await q.orderBy('seq', query.order).limit(query.limit + 1).execute();
    return rows.map(toRecord);
  }

  /**
   * Appends items in order, as one contiguous run; false when the conversation does not exist (or was
   * deleted meanwhile). The no-op update locks the conversation row until commit, so concurrent appends
   * to one conversation queue up: without it, Postgres (READ COMMITTED) interleaves their `seq` values,
   * and an item whose lower `seq` commits after a reader took its cursor is skipped by an ascending
   * pager for good. It is plain SQL, so SQLite (one writer at a time anyway) runs the same statement.
   * With `skipExisting`, items already in the conversation are left out (read under that same lock).
   */
  async appendItems(project: string, conversationId: string, items: ConversationItem[], createdAt: number, opts: { skipExisting?: boolean } = {}): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const locked = await trx
        .updateTable('conversations')
        .set((eb) => ({ id: eb.ref('id') }))
        .where('project_id', '=', project)
        .where('id', '=', conversationId)
        .executeTakeFirst();
      if (Number(locked.numUpdatedRows) === 0) return false;
      let fresh = items;
      if (opts.skipExisting && items.length > 0) {
        const existing = await trx
          .selectFrom('conversation_items')
          .select('id')
          .where('conversation_id', '=', conversationId)
          .where('id', 'in', items.map((i) => i.id))
          .execute();
        const known = new Set(existing.map((r) => r.id as string));
        fresh = items.filter((i) => !known.has(i.id));
      }
      await insertItems(trx, project, conversationId, fresh, createdAt);
      return true;
    });
  }

  async listItems(project: string, conversationId: string, query: PageQuery): Promise<ConversationItem[] | null> {
    let q = this.items(this.db, project).select('data').where('conversation_id', '=', conversationId);
    if (query.after) {
      const cursor = await this.items(this.db, project)
        .select('seq')
        .where('conversation_id', '=', conversationId)
        .where('id', '=', query.after)
        .executeTakeFirst();
      if (!cursor) return null;
      q = q.where('seq', query.order === 'asc' ? '>' : '<', cursor.seq);
    }
    const rows = await q.orderBy('seq', query.order).limit(query.limit + 1).execute();
    return rows.map((r) => JSON.parse(r.data as string) as ConversationItem);
  }

  async getItem(project: string, conversationId: string, itemId: string): Promise<ConversationItem | undefined> {
    const row = await this.items(this.db, project)
      .select('data')
      .where('conversation_id', '=', conversationId)
      .where('id', '=', itemId)
      .executeTakeFirst();
    return row ? (JSON.parse(row.data as string) as ConversationItem) : undefined;
  }

  /** The earliest stored item with this id in any of the project's conversations (for `item_reference` inputs). */
  async findItem(project: string, itemId: string): Promise<ConversationItem | undefined> {
    const row = await this.items(this.db, project).select('data').where('id', '=', itemId).orderBy('seq', 'asc').limit(1).executeTakeFirst();
    return row ? (JSON.parse(row.data as string) as ConversationItem) : undefined;
  }

  async deleteItem(project: string, conversationId: string, itemId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('conversation_items').where('project_id', '=', project).where('conversation_id', '=', conversationId).where('id', '=', itemId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  private conversations(db: Kysely<any>, project: string) {
    return db.selectFrom('conversations').where('project_id', '=', project);
  }

  private items(db: Kysely<any>, project: string) {
    return db.selectFrom('conversation_items').where('project_id', '=', project);
  }
}

async function insertItems(db: Kysely<any>, project: string, conversationId: string, items: ConversationItem[], createdAt: number): Promise<void> {
  // One row per statement: multi-row inserts do not promise seq in row order on every engine, and a
  // unique violation then names the offending item.
  for (const item of items) {
    const row = { project_id: project, conversation_id: conversationId, id: item.id, type: item.type, data: JSON.stringify(item), created_at: createdAt };
    try {
      await db.insertInto('conversation_items').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new DuplicateItemError(item.id);
      throw err;
    }
  }
}

function toRecord(row: Record<string, unknown>): ConversationRecord {
  return { id: row.id as string, created_at: Number(row.created_at), metadata: JSON.parse(row.metadata as string) as Metadata };
}
