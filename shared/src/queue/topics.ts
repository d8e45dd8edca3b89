import type { z } from 'zod';
import { errorText } from './job-run.js';
import { DEFAULT_BACKOFF, DEFAULT_CONCURRENCY, DEFAULT_LEASE_MS, MAX_JOB_ATTEMPTS, type BackoffOptions, type TopicOptions } from './queue.js';

/** A topic's options with every default filled in. */
export interface ResolvedTopic {
  name: string;
  schema?: z.ZodType<unknown>;
  maxAttempts: number;
  backoff: BackoffOptions;
  leaseMs: number;
  concurrency: number;
  /** Delay before the retry that follows failed attempt `attempt` (1-based). */
  retryDelay(attempt: number): number;
}

/** The topics a queue instance knows; a topic never defined behaves as before topics existed. */
export class TopicRegistry {
  private readonly topics = new Map<string, ResolvedTopic>();

  define<T>(name: string, opts: TopicOptions<T>): ResolvedTopic {
    if (!name || name.endsWith('.dead')) throw new Error(`invalid queue topic name '${name}'`);
    const backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    const topic: ResolvedTopic = {
      name,
      schema: opts.schema as z.ZodType<unknown> | undefined,
      maxAttempts: positive(opts.maxAttempts ?? MAX_JOB_ATTEMPTS, 'maxAttempts'),
      backoff: {
        initialMs: positive(backoff.initialMs, 'backoff.initialMs'),
        maxMs: positive(backoff.maxMs, 'backoff.maxMs'),
        factor: positive(backoff.factor, 'backoff.factor'),
      },
      leaseMs: positive(opts.leaseMs ?? DEFAULT_LEASE_MS, 'leaseMs'),
      concurrency: positive(opts.concurrency ?? DEFAULT_CONCURRENCY, 'concurrency'),
      retryDelay(attempt) {
        return Math.round(Math.min(this.backoff.initialMs * this.backoff.factor ** Math.max(0, attempt - 1), this.backoff.maxMs));
      },
    };
    this.topics.set(name, topic);
    return topic;
  }

  /** Every topic defined, explicitly or by first use. */
  names(): string[] {
    return [...this.topics.keys()];
  }

  get(name: string): ResolvedTopic {
    return this.topics.get(name) ?? this.define(name, {});
  }

  /** The payload to publish; a mismatch is the publisher's bug, so it throws a plain Error (a 500). */
  checkPublish(name: string, payload: unknown): void {
    const { schema } = this.get(name);
    if (payload === undefined) throw new Error(`cannot publish undefined on queue topic ${name}`);
    if (!schema) return;
    const parsed = schema.safeParse(payload);
    if (!parsed.success) throw new Error(`payload does not match the schema of queue topic ${name}: ${errorText(parsed.error)}`);
  }
}

function positive(value: number, what: string): number {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`queue topic option ${what} must be a positive number (got ${value})`);
  return value;
}
