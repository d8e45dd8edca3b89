import type { Logger } from '@rgw/shared';
import type { RunNotifier } from '../background/run-notifier.js';
import { ANY_PROJECT, type ResponseStore } from '../store/response-store.js';
import type { ResponseObject, UnsequencedEvent } from '../wire/response-types.js';
import type { LeaseKeeper } from './lease-keeper.js';

export const INTERRUPTED_FOREGROUND = 'The response was interrupted before it finished (the server running it stopped). Its output so far is kept.';
export const INTERRUPTED_BACKGROUND = 'The background run was interrupted before it finished.';

/**
 * Ends runs nobody owns any more: a response `in_progress` whose lease expired (its process died)
 * is taken over (a conditional update, so one taker wins) and ended `failed` with what it produced.
 * Runs periodically and at start in every responses process; redelivered jobs and stream followers
 * call `reap` directly.
 */
export class RunReaper {
  private timer: NodeJS.Timeout | undefined;
  private sweeping = false;

  constructor(
    private readonly store: ResponseStore,
    private readonly notifier: RunNotifier,
    private readonly keeper: LeaseKeeper,
    private readonly log: Logger,
  ) {}

  start(): void {
    void this.sweep();
    this.timer ??= setInterval(() => void this.sweep(), this.keeper.settings.sweepMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Ends every expired run; resolves with how many this call ended. */
  async sweep(): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    let ended = 0;
    try {
      for (const id of await this.store.expiredRuns(Date.now())) if (await this.reap(id)) ended++;
    } catch (err) {
      this.log.warn({ err }, 'sweeping expired response runs failed');
    } finally {
      this.sweeping = false;
    }
    return ended;
  }

  /** Takes over and fails one run whose lease expired; false when it is alive, finished, or someone else took it. */
  async reap(id: string): Promise<boolean> {
    if (!(await this.store.takeOver(id, this.keeper.lease(), Date.now()))) return false;
    const record = await this.store.get(ANY_PROJECT, id, { includeDeleted: true });
    if (!record) return false;
    this.log.warn({ responseId: id, background: record.response.background }, 'ending a response whose run was interrupted');
    const message = record.response.background ? INTERRUPTED_BACKGROUND : INTERRUPTED_FOREGROUND;
    await this.fail(record.response, await this.lastSequence(id), message);
    // Deleted while its process was dying: what was just written would be orphans.
    if (record.deleted) await this.store.purgeIfDeleted(id);
    return true;
  }

  /**
   * Ends a run `failed`. A background response's stream still reads as a whole: response.created (and
   * response.in_progress when the run had started) are stored first if they are missing, e.g. for a
   * run that failed before the engine produced anything. A foreground response has no stored stream.
   */
  async fail(response: ResponseObject, lastSeq: number, message: string, code = 'server_error'): Promise<void> {
    const { store, notifier } = this;
    const id = response.id;
    const was = await store.status(id);
    const failed: ResponseObject = { ...response, status: 'failed', error: { code, message } };
    if (!(await store.update(failed, ['queued', 'in_progress']))) return;
    if (response.background) {
      const opening = new Set((await store.eventsAfter(id, -1, 3)).map((e) => e.type));
      const missing: UnsequencedEvent[] = [];
      if (!opening.has('response.created')) missing.push({ type: 'response.created', response: { ...response, status: 'queued', output: [] } });
      if (was === 'in_progress' && !opening.has('response.in_progress')) missing.push({ type: 'response.in_progress', response: { ...response, status: 'in_progress', output: [] } });
      // The row's own project, whoever ends it (a reaper acts across projects).
      const stored = await store.get(ANY_PROJECT, id, { includeDeleted: true });
      if (stored) {
        let seq = lastSeq;
        const events = [...missing, { type: 'response.failed', response: { ...failed, output: stored.response.output } }];
        for (const event of events) await store.appendEvent(stored.project, id, { ...event, sequence_number: ++seq });
      }
    }
    notifier.notify(id);
  }

  /** The last stored sequence number of a response's stream, -1 when none. */
  async lastSequence(id: string): Promise<number> {
    let last = -1;
    for (;;) {
      const batch = await this.store.eventsAfter(id, last);
      if (batch.length === 0) return last;
      last = batch.at(-1)!.sequence_number;
    }
  }
}
