import type { Database, Principal } from '@rgw/shared';
import type { Kysely } from 'kysely';

/** One pending conversation append (written by ResponseStore.finish). */
export interface PendingAppend {
  seq: number;
  responseId: string;
  conversationId: string;
  items: unknown[];
  attempts: number;
  /** Whom it is delivered as: the principal of the response that owes it (absent: the open default project). */
  principal?: Principal;
}

/**
 * The outbox of conversation appends: rows owed to the Conversations service by finished responses,
 * delivered in `seq` order per conversation and deleted once they landed.
 */
export class OutboxStore {
  constructor(private readonly database: Database) {}

  private get db(): Kysely<any> {
    return this.database.db;
  }

  /** The pending appends of a conversation, oldest first. */
  async pending(conversationId: string): Promise<PendingAppend[]> {
    const rows = await this.db
      .selectFrom('response_outbox')
      .select(['seq', 'response_id', 'conversation_id', 'items', 'attempts', 'principal'])
      .where('conversation_id', '=', conversationId)
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      responseId: r.response_id as string,
      conversationId: r.conversation_id as string,
      items: JSON.parse(r.items as string) as unknown[],
      attempts: Number(r.attempts),
      ...(r.principal ? { principal: JSON.parse(r.principal as string) as Principal } : {}),
    }));
  }

  /** Whether the project's conversation has an append pending (another project's conversation never has). */
  async hasPending(project: string, conversationId: string): Promise<boolean> {
    const row = await this.db.selectFrom('response_outbox').select('seq').where('project_id', '=', project).where('conversation_id', '=', conversationId).limit(1).executeTakeFirst();
    return Boolean(row);
  }

  async hasPendingFor(responseId: string): Promise<boolean> {
    const row = await this.db.selectFrom('response_outbox').select('seq').where('response_id', '=', responseId).limit(1).executeTakeFirst();
    return Boolean(row);
  }

  /** Conversations with an append whose next attempt is due. */
  async dueConversations(now: number, limit = 50): Promise<string[]> {
    const rows = await this.db
      .selectFrom('response_outbox')
      .select('conversation_id')
      .where('next_attempt_at', '<=', now)
      .groupBy('conversation_id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.conversation_id as string);
  }

  async delivered(seq: number): Promise<void> {
    await this.db.deleteFrom('response_outbox').where('seq', '=', seq).execute();
  }

  /** A failed attempt: the record waits until `nextAttemptAt`. */
  async deferred(seq: number, attempts: number, nextAttemptAt: number): Promise<void> {
    await this.db.updateTable('response_outbox').set({ attempts, next_attempt_at: nextAttemptAt }).where('seq', '=', seq).execute();
  }
}
