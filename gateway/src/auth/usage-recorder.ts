import type { Logger } from '@rgw/shared';
import type { AuthStore, UsageDelta } from './auth-store.js';

const FLUSH_EVERY_MS = 1000;

/**
 * Usage per project, key, model and day, summed in memory and written in one batch a second (and
 * before a read, and at close), so recording it costs an inference request no database round trip.
 * Every gateway replica adds its own sums: the stored rows are upserted with +=.
 */
export class UsageRecorder {
  private pending = new Map<string, UsageDelta>();
  private readonly timer: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly store: AuthStore, private readonly logger: Logger) {
    this.timer = setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  add(delta: UsageDelta): void {
    const day = new Date(delta.at).toISOString().slice(0, 10);
    const id = `${delta.projectId}\0${delta.keyId ?? ''}\0${delta.model}\0${day}`;
    const sum = this.pending.get(id);
    if (!sum) {
      this.pending.set(id, { ...delta });
      return;
    }
    sum.requests += delta.requests;
    sum.input_tokens += delta.input_tokens;
    sum.output_tokens += delta.output_tokens;
  }

  /** Writes what is pending; resolves once it (and any flush already running) is stored. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      if (this.pending.size === 0) return;
      const batch = [...this.pending.values()];
      this.pending = new Map();
      try {
        await this.store.addUsage(batch);
      } catch (err) {
        // Kept for the next flush rather than lost.
        for (const d of batch) this.add(d);
        this.logger.warn({ err: (err as Error).message }, 'usage flush failed; retrying');
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
