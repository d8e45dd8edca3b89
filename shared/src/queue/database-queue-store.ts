import { sql, type ExpressionBuilder } from 'kysely';
import type { Database } from '../db/database.js';
import { withSeqColumn } from '../db/database.js';
import { migrate, type PortableMigration } from '../db/migrations.js';
import type { DeadLetter } from './queue.js';

export interface ClaimedJob {
  seq: number;
  payload: string;
  /** Attempts counted so far, this one included. */
  attempts: number;
}

/** Step by step: databases made by earlier versions have only `001_jobs`. */
export const QUEUE_MIGRATIONS: Record<string, PortableMigration> = {
  '001_jobs': (dialect) => ({
    up: async (db) => {
      await withSeqColumn(db.schema.createTable('queue_jobs'), dialect)
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('available_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('queue_jobs_ready').on('queue_jobs').columns(['topic', 'state', 'seq']).execute();
    },
  }),
  '002_leases_and_dead_letters': () => ({
    up: async (db) => {
      // One column per statement: SQLite adds a single column per ALTER TABLE.
      await db.schema.alterTable('queue_jobs').addColumn('lease_owner', 'text').execute();
      await db.schema.alterTable('queue_jobs').addColumn('locked_until', 'bigint').execute();
      await db.schema.alterTable('queue_jobs').addColumn('last_error', 'text').execute();
      await db.schema.alterTable('queue_jobs').addColumn('failed_at', 'bigint').execute();
      // Jobs that gave up before dead letters existed become dead letters.
      await db
        .updateTable('queue_jobs')
        .set({ state: 'dead', topic: sql`topic || '.dead'`, failed_at: Date.now() })
        .where('state', '=', 'failed')
        .execute();
    },
  }),
};

/** The dead letters of topic `t` are its rows moved to topic `t.dead` (state `dead`, never claimable). */
export const deadTopic = (topic: string) => `${topic}.dead`;

/**
 * The rows of the database queue. A job is `ready` (claimable from `available_at`), `running` under a
 * lease (`lease_owner` token, `locked_until`), or `dead`. Every write of a running job names its
 * lease token, so a consumer whose lease was taken over can no longer touch the job.
 */
export class QueueJobStore {
  constructor(private readonly database: Database) {}

  async migrate(): Promise<void> {
    await migrate(this.database, 'queue', QUEUE_MIGRATIONS);
  }

  ping(): Promise<void> {
    return this.database.ping();
  }

  async insert(topic: string, payload: string): Promise<void> {
    await this.database.db.insertInto('queue_jobs').values({ topic, payload, state: 'ready', attempts: 0, available_at: Date.now() }).execute();
  }

  /**
   * Takes the oldest claimable job of a topic: ready and due, or running under a lease that ran out
   * (its consumer died; the takeover counts an attempt like any run). One statement, so SQLite's single
   * writer makes it atomic; on Postgres SKIP LOCKED lets concurrent consumers pass each other's pick.
   */
  async claim(topic: string, owner: string, leaseMs: number): Promise<ClaimedJob | undefined> {
    const now = Date.now();
    const db = this.database.db;
    const claimable = (eb: ExpressionBuilder<any, any>) =>
      eb.or([
        eb.and([eb('state', '=', 'ready'), eb('available_at', '<=', now)]),
        eb.and([eb('state', '=', 'running'), eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)])]),
      ]);
    const next = db
      .selectFrom('queue_jobs')
      .select('seq')
      .where('topic', '=', topic)
      .where(claimable)
      .orderBy('seq')
      .limit(1)
      .$if(this.database.dialect === 'postgres', (q) => q.forUpdate().skipLocked());
    const row = await db
      .updateTable('queue_jobs')
      .set({ state: 'running', lease_owner: owner, locked_until: now + leaseMs, attempts: sql`attempts + 1` })
      .where('seq', '=', next)
      .where(claimable)
      .returning(['seq', 'payload', 'attempts'])
      .executeTakeFirst();
    return row as ClaimedJob | undefined;
  }

  /** Extends a lease; false when it is no longer this owner's (taken over, or the job is gone). */
  async renew(seq: number, owner: string, ms: number): Promise<boolean> {
    const r = await this.owned(this.database.db.updateTable('queue_jobs').set({ locked_until: Date.now() + ms }), seq, owner).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async complete(seq: number, owner: string): Promise<void> {
    await this.database.db.deleteFrom('queue_jobs').where('seq', '=', seq).where('lease_owner', '=', owner).where('state', '=', 'running').execute();
  }

  async retry(seq: number, owner: string, error: string, delayMs: number): Promise<void> {
    await this.owned(this.database.db.updateTable('queue_jobs').set({ ...unleased, available_at: Date.now() + delayMs, last_error: error }), seq, owner).execute();
  }

  /** Back to ready at once without counting the attempt (its run was cut off, not failed). */
  async release(seq: number, owner: string): Promise<void> {
    await this.owned(this.database.db.updateTable('queue_jobs').set({ ...unleased, available_at: Date.now(), attempts: sql`attempts - 1` }), seq, owner).execute();
  }

  async bury(seq: number, owner: string, error: string): Promise<void> {
    await this.owned(
      this.database.db
        .updateTable('queue_jobs')
        .set({ state: 'dead', topic: sql`topic || '.dead'`, lease_owner: null, locked_until: null, last_error: error, failed_at: Date.now() }),
      seq,
      owner,
    ).execute();
  }

  /** Jobs waiting (ready now or for a retry) per topic, for the depth gauge: one grouped count. */
  async readyCounts(): Promise<Map<string, number>> {
    const rows = await this.database.db
      .selectFrom('queue_jobs')
      .select(['topic', (eb) => eb.fn.countAll().as('n')])
      .where('state', '=', 'ready')
      .groupBy('topic')
      .execute();
    return new Map(rows.map((r) => [r.topic as string, Number(r.n)]));
  }

  async deadLetters(topic: string, limit: number): Promise<DeadLetter[]> {
    const rows = await this.database.db
      .selectFrom('queue_jobs')
      .select(['seq', 'payload', 'attempts', 'last_error', 'failed_at'])
      .where('topic', '=', deadTopic(topic))
      .where('state', '=', 'dead')
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: String(r.seq),
      topic,
      payload: parseStored(r.payload),
      attempts: Number(r.attempts),
      lastError: r.last_error ?? null,
      failedAt: Number(r.failed_at ?? 0),
    }));
  }

  async replay(topic: string, ids?: string[]): Promise<number> {
    const seqs = ids?.map(Number).filter(Number.isSafeInteger);
    if (seqs && seqs.length === 0) return 0;
    const r = await this.database.db
      .updateTable('queue_jobs')
      .set({ topic, state: 'ready', attempts: 0, available_at: Date.now(), last_error: null, failed_at: null })
      .where('topic', '=', deadTopic(topic))
      .where('state', '=', 'dead')
      .$if(seqs !== undefined, (q) => q.where('seq', 'in', seqs!))
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  private owned<Q extends { where: (...args: any[]) => Q }>(query: Q, seq: number, owner: string): Q {
    return query.where('seq', '=', seq).where('lease_owner', '=', owner).where('state', '=', 'running');
  }
}

const unleased = { state: 'ready', lease_owner: null, locked_until: null } as const;

/** A stored payload that is not JSON (written by hand) is shown as its text rather than failing the listing. */
function parseStored(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
