import { EventEmitter } from 'node:events';
import type { Database } from '../db/database.js';
import { withSeqColumn } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import type { Logger } from '../logging.js';
import { MAX_JOB_ATTEMPTS, type JobHandler, type Queue } from './queue.js';

const POLL_MS = 1000;

/**
 * The embedded queue: jobs are rows, so work queued before a crash or restart is picked up again.
 * Only one process consumes (the embedded platform), so a job that was running when the process
 * died is simply made ready again at start.
 */
export class DatabaseQueue implements Queue {
  readonly kind = 'database' as const;
  private readonly wake = new EventEmitter();
  private closing = false;
  private readonly loops: Promise<void>[] = [];

  private constructor(private readonly database: Database, private readonly log: Logger) {
    this.wake.setMaxListeners(0);
  }

  static async open(database: Database, log: Logger): Promise<DatabaseQueue> {
    await migrate(database, 'queue', {
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
    });
    await database.db.updateTable('queue_jobs').set({ state: 'ready' }).where('state', '=', 'running').execute();
    return new DatabaseQueue(database, log);
  }

  async publish(topic: string, payload: unknown): Promise<void> {
    await this.database.db
      .insertInto('queue_jobs')
      .values({ topic, payload: JSON.stringify(payload), state: 'ready', attempts: 0, available_at: Date.now() })
      .execute();
    this.wake.emit(topic);
  }

  async consume(topic: string, handler: JobHandler, opts: { concurrency?: number } = {}): Promise<void> {
    for (let i = 0; i < (opts.concurrency ?? 4); i++) this.loops.push(this.loop(topic, handler));
  }

  private async loop(topic: string, handler: JobHandler): Promise<void> {
    while (!this.closing) {
      const job = await this.claim(topic).catch((err) => {
        this.log.error({ err, topic }, 'queue claim failed');
        return undefined;
      });
      if (!job) {
        await this.sleepUntilWoken(topic);
        continue;
      }
      try {
        await handler(JSON.parse(job.payload));
        await this.database.db.deleteFrom('queue_jobs').where('seq', '=', job.seq).execute();
      } catch (err) {
        const attempts = job.attempts + 1;
        this.log.warn({ err, topic, attempts }, 'queued job failed');
        await this.database.db
          .updateTable('queue_jobs')
          .set(attempts >= MAX_JOB_ATTEMPTS ? { state: 'failed', attempts } : { state: 'ready', attempts, available_at: Date.now() + 1000 * attempts })
          .where('seq', '=', job.seq)
          .execute()
          .catch(() => {});
      }
    }
  }

  /** Atomically moves the oldest ready job of a topic to `running`; undefined when there is none. */
  private async claim(topic: string): Promise<{ seq: number; payload: string; attempts: number } | undefined> {
    return this.database.db.transaction().execute(async (tx) => {
      const job = await tx
        .selectFrom('queue_jobs')
        .select(['seq', 'payload', 'attempts'])
        .where('topic', '=', topic)
        .where('state', '=', 'ready')
        .where('available_at', '<=', Date.now())
        .orderBy('seq')
        .limit(1)
        .executeTakeFirst();
      if (!job) return undefined;
      const claimed = await tx.updateTable('queue_jobs').set({ state: 'running' }).where('seq', '=', job.seq).where('state', '=', 'ready').executeTakeFirst();
      return Number(claimed.numUpdatedRows) === 1 ? (job as { seq: number; payload: string; attempts: number }) : undefined;
    });
  }

  private sleepUntilWoken(topic: string): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake.off(topic, done);
        this.wake.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, POLL_MS);
      this.wake.once(topic, done);
      this.wake.once('close', done);
    });
  }

  async ping(): Promise<void> {
    await this.database.ping();
  }

  /** Stops claiming new jobs and waits for the running ones. */
  async close(): Promise<void> {
    this.closing = true;
    this.wake.emit('close');
    await Promise.allSettled(this.loops);
  }
}
