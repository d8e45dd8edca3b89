import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Database } from '../db/database.js';
import { watchQueueDepth } from '../metrics/queue-depth.js';
import type { Logger } from '../logging.js';
import { QueueJobStore, type ClaimedJob } from './database-queue-store.js';
import { JobRun, type Outcome } from './job-run.js';
import { DEFAULT_DEAD_LETTER_LIMIT, type DeadLetter, type JobHandler, type TopicOptions, type TopicQueue } from './queue.js';
import { TopicRegistry, type ResolvedTopic } from './topics.js';

export interface DatabaseQueueOptions {
  /** How often an idle consumer looks for jobs it was not woken for (other processes' jobs, due retries, expired leases). */
  pollMs?: number;
  /** How long close() waits for running jobs before handing them back to the queue. */
  shutdownGraceMs?: number;
}

const DEFAULT_POLL_MS = 1000;
const DEFAULT_SHUTDOWN_GRACE_MS = 8000;

interface Running {
  job: ClaimedJob;
  owner: string;
  run: JobRun;
}

/**
 * The database queue: jobs are rows, so queued work survives a crash or restart. A claimed job holds
 * a lease that its handler's heartbeats extend; when the lease runs out (its process died or hung)
 * any consumer, in this process or another on the same Postgres, takes the job over.
 */
export class DatabaseQueue implements TopicQueue {
  readonly kind = 'database' as const;
  private readonly wake = new EventEmitter();
  private readonly topics = new TopicRegistry();
  private readonly running = new Set<Running>();
  private readonly loops: Promise<void>[] = [];
  private closing = false;
  private readonly unwatchDepth: () => void;

  private constructor(private readonly store: QueueJobStore, private readonly log: Logger, private readonly opts: Required<DatabaseQueueOptions>) {
    this.wake.setMaxListeners(0);
    this.unwatchDepth = watchQueueDepth(this);
  }

  static async open(database: Database, log: Logger, opts: DatabaseQueueOptions = {}): Promise<DatabaseQueue> {
    const store = new QueueJobStore(database);
    await store.migrate();
    return new DatabaseQueue(store, log, { pollMs: opts.pollMs ?? DEFAULT_POLL_MS, shutdownGraceMs: opts.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS });
  }

  defineTopic<T>(topic: string, opts: TopicOptions<T>): void {
    this.topics.define(topic, opts);
  }

  async publish(topic: string, payload: unknown): Promise<void> {
    this.topics.checkPublish(topic, payload);
    await this.store.insert(topic, JSON.stringify(payload));
    this.wake.emit(topic);
  }

  async consume<T>(topic: string, handler: JobHandler<T>, opts: { concurrency?: number } = {}): Promise<void> {
    const options = this.topics.get(topic);
    for (let i = 0; i < (opts.concurrency ?? options.concurrency); i++) this.loops.push(this.loop(options, handler as JobHandler));
  }

  async deadLetters(topic: string, opts: { limit?: number } = {}): Promise<DeadLetter[]> {
    return this.store.deadLetters(topic, opts.limit ?? DEFAULT_DEAD_LETTER_LIMIT);
  }

  /** Jobs waiting per topic, other processes' included (they share the table); read by the depth gauge. */
  async depths(): Promise<Map<string, number>> {
    const counts = await this.store.readyCounts();
    // A drained topic reads 0 rather than vanishing from the scrape (no rows, no group).
    for (const topic of this.topics.names()) if (!counts.has(topic)) counts.set(topic, 0);
    return counts;
  }

  async replayDeadLetters(topic: string, ids?: string[]): Promise<number> {
    const replayed = await this.store.replay(topic, ids);
    if (replayed > 0) this.wake.emit(topic);
    return replayed;
  }

  private async loop(topic: ResolvedTopic, handler: JobHandler): Promise<void> {
    while (!this.closing) {
      const owner = randomUUID();
      const job = await this.store.claim(topic.name, owner, topic.leaseMs).catch((err) => {
        this.log.error({ err, topic: topic.name }, 'queue claim failed');
        return undefined;
      });
      if (!job) await this.sleepUntilWoken(topic.name);
      // Claimed as close began: not started, so handed straight back.
      else if (this.closing) await this.store.release(job.seq, owner).catch(() => {});
      else await this.runJob(topic, handler, { job, owner, run: this.newRun(topic, job, owner) });
    }
  }

  private newRun(topic: ResolvedTopic, job: ClaimedJob, owner: string): JobRun {
    return new JobRun(String(job.seq), topic, job.attempts, (ms) => this.store.renew(job.seq, owner, ms));
  }

  private async runJob(topic: ResolvedTopic, handler: JobHandler, running: Running): Promise<void> {
    const { job, owner, run } = running;
    this.running.add(running);
    try {
      let outcome: Outcome;
      try {
        outcome = await run.execute(JSON.parse(job.payload), handler);
      } catch {
        outcome = { kind: 'dead', error: 'payload is not JSON' };
      }
      await this.settle(topic, job, owner, outcome);
    } catch (err) {
      // The job stays leased; when the lease runs out it is taken over again.
      this.log.error({ err, topic: topic.name, jobId: run.id }, 'settling a queued job failed');
    } finally {
      this.running.delete(running);
    }
  }

  private async settle(topic: ResolvedTopic, job: ClaimedJob, owner: string, outcome: Outcome): Promise<void> {
    const log = { topic: topic.name, jobId: String(job.seq), attempt: job.attempts };
    switch (outcome.kind) {
      case 'done':
        return this.store.complete(job.seq, owner);
      case 'release':
        return this.store.release(job.seq, owner);
      case 'retry':
        this.log.warn({ ...log, error: outcome.error, retryInMs: outcome.delayMs }, 'queued job failed; retrying later');
        await this.store.retry(job.seq, owner, outcome.error, outcome.delayMs);
        // Wake this process's consumers when the retry is due instead of waiting for a poll.
        setTimeout(() => this.wake.emit(topic.name), outcome.delayMs).unref();
        return;
      case 'dead':
        this.log.error({ ...log, error: outcome.error }, 'queued job dead-lettered');
        return this.store.bury(job.seq, owner, outcome.error);
    }
  }

  private sleepUntilWoken(topic: string): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake.off(topic, done);
        this.wake.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, this.opts.pollMs);
      this.wake.once(topic, done);
      this.wake.once('close', done);
    });
  }

  async ping(): Promise<void> {
    await this.store.ping();
  }

  /**
   * Stops claiming, tells running jobs to stop (their signal) and waits for them up to the grace
   * period; jobs still running then are handed back (ready, attempt not counted) for a later start.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.unwatchDepth();
    this.wake.emit('close');
    for (const r of this.running) r.run.abort('closing');
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.opts.shutdownGraceMs)));
    const finished = await Promise.race([Promise.allSettled(this.loops), graceOver]);
    clearTimeout(timer);
    if (finished !== 'timeout') return;
    const stuck = [...this.running];
    this.log.warn({ jobs: stuck.length }, 'queue closed with jobs still running; handing them back');
    await Promise.allSettled(stuck.map((r) => this.store.release(r.job.seq, r.owner)));
  }
}
