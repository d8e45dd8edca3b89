import { truncate } from '../http/safe-json.js';
import type { JobContext, JobHandler } from './queue.js';
import type { ResolvedTopic } from './topics.js';
import { observeJob } from '../metrics/queue-metrics.js';

/** Why a run's signal was aborted. */
export type CutOff = 'closing' | 'lease-lost' | 'channel-lost';

/** What the adapter does with a job once its run ended. */
export type Outcome =
  | { kind: 'done' }
  | { kind: 'retry'; error: string; delayMs: number }
  | { kind: 'dead'; error: string }
  /** Cut off (close, lost lease or channel): back to the queue without counting the attempt. */
  | { kind: 'release' };

const ERROR_TEXT_MAX = 2000;

/**
 * One run of one job: its context (signal, heartbeats) and the rules that turn the handler's result
 * into an outcome, shared by every adapter so they cannot drift.
 */
export class JobRun implements JobContext {
  private readonly controller = new AbortController();
  private lastRenewal = Date.now();
  private watchdog?: NodeJS.Timeout;
  cutOff?: CutOff;

  /**
   * `renew(ms)` extends the lease in the adapter and says whether it still held it; without it (RabbitMQ,
   * where an unacked message stays ours while the channel lives) heartbeats are no-ops and no lease runs out.
   */
  constructor(
    readonly id: string,
    private readonly topicOptions: ResolvedTopic,
    readonly attempt: number,
    private readonly renew?: (ms: number) => Promise<boolean>,
  ) {
    if (renew) this.arm(topicOptions.leaseMs);
  }

  get topic(): string {
    return this.topicOptions.name;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  async heartbeat(): Promise<void> {
    // Handlers may beat per chunk or per token: a lease renewed less than a third of it ago is fresh enough.
    if (Date.now() - this.lastRenewal < this.topicOptions.leaseMs / 3) return;
    await this.extendLease();
  }

  async extendLease(ms = this.topicOptions.leaseMs): Promise<void> {
    if (!this.renew || this.signal.aborted) return;
    this.lastRenewal = Date.now();
    if (await this.renew(ms)) this.arm(ms);
    else this.abort('lease-lost');
  }

  abort(why: CutOff): void {
    if (this.signal.aborted) return;
    this.cutOff = why;
    this.controller.abort(new Error(`job ${this.id} of ${this.topic} was cut off (${why})`));
  }

  /** Runs the handler on a payload (parsed against the topic's schema) and decides what becomes of the job. */
  execute(raw: unknown, handler: JobHandler<any>): Promise<Outcome> {
    return observeJob(this.topic, this.decide(raw, handler));
  }

  private async decide(raw: unknown, handler: JobHandler<any>): Promise<Outcome> {
    try {
      const { schema, maxAttempts } = this.topicOptions;
      let payload = raw;
      if (schema) {
        const parsed = schema.safeParse(raw);
        // Retrying cannot fix a payload: straight to the dead letters.
        if (!parsed.success) return { kind: 'dead', error: `payload does not match the schema of ${this.topic}: ${errorText(parsed.error)}` };
        payload = parsed.data;
      }
      // Only leases that ran out can get a job here past its last attempt (a failure there is dead-lettered).
      if (this.attempt > maxAttempts) return { kind: 'dead', error: 'its consumer stopped (lease expired) during its last attempt' };
      try {
        await handler(payload, this);
        return { kind: 'done' };
      } catch (err) {
        if (this.cutOff) return { kind: 'release' };
        const error = errorText(err);
        if (this.attempt >= maxAttempts) return { kind: 'dead', error };
        return { kind: 'retry', error, delayMs: this.topicOptions.retryDelay(this.attempt) };
      }
    } finally {
      clearTimeout(this.watchdog);
    }
  }

  /** A lease not renewed in time may already be someone else's: tell the handler to stop. */
  private arm(ms: number): void {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.abort('lease-lost'), ms);
    this.watchdog.unref();
  }
}

export function errorText(err: unknown): string {
  return truncate(err instanceof Error ? err.message : String(err), ERROR_TEXT_MAX);
}
