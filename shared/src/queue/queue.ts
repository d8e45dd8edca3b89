/** A job handler: resolves when the job is done; a throw means "try again later" up to the queue's attempt limit. */
export type JobHandler = (payload: unknown) => Promise<void>;

/**
 * Durable work queue. The in-process adapter (embedded) keeps jobs in the database so they survive a
 * restart; the RabbitMQ adapter (distributed) spreads them over every consuming process.
 */
export interface Queue {
  readonly kind: 'database' | 'amqp';
  publish(topic: string, payload: unknown): Promise<void>;
  /** Starts consuming `topic`; at most `concurrency` jobs of this process run at once. */
  consume(topic: string, handler: JobHandler, opts?: { concurrency?: number }): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MAX_JOB_ATTEMPTS = 3;
