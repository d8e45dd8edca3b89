import type { z } from 'zod';

/** What a handler knows about the job it runs (old one-argument handlers simply ignore it). */
export interface JobContext {
  /** Stable for the job's whole life, retries and replays included (the database row, the AMQP message id). */
  readonly id: string;
  readonly topic: string;
  /** 1 for the first run, 2 for the first retry, ... */
  readonly attempt: number;
  /**
   * Aborted when the queue closes (finish or throw soon: a job that throws after this is redelivered
   * later without counting an attempt) or when the job's lease is lost (another consumer may run it).
   */
  readonly signal: AbortSignal;
  /** Proves the job is alive: extends its lease by the topic's `leaseMs`. Cheap to call often (throttled). */
  heartbeat(): Promise<void>;
  /** Extends the lease to `ms` from now (default: the topic's `leaseMs`), unthrottled. */
  extendLease(ms?: number): Promise<void>;
}

/** A job handler: resolves when the job is done (its effects committed); a throw means "try again later". */
export type JobHandler<T = unknown> = (payload: T, job: JobContext) => Promise<void>;

export interface BackoffOptions {
  /** Delay before the first retry. */
  initialMs: number;
  /** Cap of any delay. */
  maxMs: number;
  /** Each further retry waits `factor` times longer. */
  factor: number;
}

/** Per-topic behaviour, registered once per queue instance with `defineTopic` before publishing or consuming. */
export interface TopicOptions<T = unknown> {
  /** Payload schema: `publish` throws on a mismatch; a consumed mismatch goes to the dead letters at once. */
  schema?: z.ZodType<T>;
  /** Runs of a job (first one included) before it is dead-lettered. */
  maxAttempts?: number;
  backoff?: Partial<BackoffOptions>;
  /** How long a running job stays claimed without a heartbeat (database queue; RabbitMQ keeps it while the channel lives). */
  leaseMs?: number;
  /** Default of `consume`'s concurrency for this topic. */
  concurrency?: number;
}

/** A job that ran out of attempts (or could never run), kept in `<topic>.dead`. */
export interface DeadLetter {
  id: string;
  topic: string;
  payload: unknown;
  /** Deliveries it had when it was dead-lettered. */
  attempts: number;
  lastError: string | null;
  /** When it was dead-lettered, ms since the epoch. */
  failedAt: number;
}

/**
 * Durable work queue: what a service needs to publish and consume jobs. The database adapter
 * (embedded; also several processes on Postgres) keeps jobs as rows with leases; the RabbitMQ
 * adapter (distributed) uses quorum queues. Both retry a failed job after a backoff by delayed
 * requeue and keep jobs that ran out of attempts in a dead-letter queue `<topic>.dead`.
 */
export interface Queue {
  readonly kind: 'database' | 'amqp';
  /** Queues a job; throws (a programming error, not a client's) when the payload fails the topic's schema. */
  publish(topic: string, payload: unknown): Promise<void>;
  /** Starts consuming `topic`; at most `concurrency` jobs of this process run at once (default: the topic's). */
  consume<T = unknown>(topic: string, handler: JobHandler<T>, opts?: { concurrency?: number }): Promise<void>;
  ping(): Promise<void>;
  /** Stops claiming, aborts running jobs' signals, waits for them (bounded); a job cut off is redelivered later. */
  close(): Promise<void>;
}

/** The full queue every adapter implements (`platform.queue`): topics with their options, and dead letters. */
export interface TopicQueue extends Queue {
  /** Registers a topic's schema, retries, lease and concurrency; call before publishing or consuming it. Undefined topics use the defaults. */
  defineTopic<T>(topic: string, opts: TopicOptions<T>): void;
  /** The dead letters of a topic, oldest first. */
  deadLetters(topic: string, opts?: { limit?: number }): Promise<DeadLetter[]>;
  /** Moves dead letters (all, or those with the given ids) back to the work queue with attempts reset; returns how many moved. */
  replayDeadLetters(topic: string, ids?: string[]): Promise<number>;
}

export const MAX_JOB_ATTEMPTS = 3;
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 60_000, factor: 2 };
/** Generous because handlers written before leases existed never heartbeat. */
export const DEFAULT_LEASE_MS = 5 * 60_000;
export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_DEAD_LETTER_LIMIT = 100;
