import { ApiError, ConflictError, InvalidRequestError, type Logger, type Queue } from '@rgw/shared';
import { planTools } from '../chat/chat-request.js';
import { generateResponse, type EngineDeps } from '../engine/response-engine.js';
import { withSequenceNumbers } from '../engine/sequence.js';
import { buildPlan, storedRequest, type PrepareDeps, type PreparedRequest } from '../request/prepare-request.js';
import { responseNotFound } from '../response/response-errors.js';
import type { ResponseStore } from '../store/response-store.js';
import type { CreateResponseBody } from '../wire/create-response-schema.js';
import { TERMINAL_EVENT_TYPES, type ResponseItem, type ResponseObject, type ResponseStreamEvent, type UnsequencedEvent } from '../wire/response-types.js';
import type { RunNotifier } from './run-notifier.js';

export const BACKGROUND_TOPIC = 'responses.background';
/** How often a run says it is alive (and notices a cancel or delete from another process). */
const WATCH_MS = 300;
/** A run whose heartbeat is older than this died with its process; younger, it is alive elsewhere. */
const STALE_RUN_MS = 10_000;
const FOLLOW_POLL_MS = 250;
/** How long a follower waits for the terminal event of a response whose row already says it finished. */
const TERMINAL_GRACE_MS = 10_000;

export interface BackgroundDeps {
  store: ResponseStore;
  queue: Queue;
  notifier: RunNotifier;
  engine: EngineDeps;
  prepare: PrepareDeps;
  log: Logger;
  concurrency?: number;
}

/**
 * Background responses: stored as `queued`, run by whichever process consumes the queue, every
 * event stored as it is produced so that GET (and GET ?stream=true from any sequence number, from any
 * process) sees the progress. Cancellation is a status change in the store, which the run notices
 * (at once in this process, by polling elsewhere); the client going away never stops a run.
 */
export class BackgroundRunner {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly deps: BackgroundDeps) {}

  /**
   * Stores the response `queued` together with the first events of its stream (response.created,
   * response.queued), so a follower can start at once, then publishes its job. A job that cannot be
   * published would stay queued forever while the client got an error: the response is removed.
   */
  async enqueue(prepared: PreparedRequest): Promise<void> {
    const { store, queue, log } = this.deps;
    const response = prepared.response;
    const opening: ResponseStreamEvent[] = [
      { type: 'response.created', response: structuredClone(response), sequence_number: 0 },
      { type: 'response.queued', response: structuredClone(response), sequence_number: 1 },
    ];
    await store.insert(response, storedRequest(prepared), prepared.input, opening);
    try {
      await queue.publish(BACKGROUND_TOPIC, { id: response.id });
    } catch (err) {
      await store.delete(response.id).catch((e) => log.error({ err: e, responseId: response.id }, 'removing an unpublished background response failed'));
      throw err;
    }
  }

  async start(): Promise<void> {
    await this.deps.queue.consume(BACKGROUND_TOPIC, (payload) => this.run(payload), { concurrency: this.deps.concurrency ?? 8 });
  }

  /** Runs one queued response to its end. Never throws: a failure is recorded on the response, not retried. */
  async run(payload: unknown): Promise<void> {
    const id = (payload as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') return;
    // A redelivered job (e.g. after the queue lost its channel) of a run this process is doing.
    if (this.running.has(id)) return;
    const { store, log } = this.deps;
    let lastSeq = -1;
    let started = false;
    let response: ResponseObject | undefined;
    const controller = new AbortController();
    const watch = setInterval(() => {
      // The heartbeat also tells the run when its row stopped being in_progress: cancelled, or deleted.
      if (!started) return;
      void store.heartbeat(id).then((alive) => !alive && controller.abort(), () => {});
    }, WATCH_MS);
    try {
      const record = await store.get(id, { includeDeleted: true });
      if (!record) return;
      response = record.response;
      lastSeq = await this.lastSequence(id);
      if (response.status === 'in_progress') {
        // Alive in another process (a redelivered job): its job is done here.
        const beat = await store.heartbeatAt(id);
        if (beat !== null && Date.now() - beat <= STALE_RUN_MS) return;
        // A run that died with its process: its partial stream cannot be continued, so it ends failed.
        await this.fail(response, lastSeq, 'The background run was interrupted before it finished.');
        return;
      }
      if (response.status !== 'queued') return;
      if (!(await store.update({ ...response, status: 'in_progress' }, ['queued'], { heartbeat: true }))) return;
      started = true;
      this.running.set(id, controller);
      const body = record.request.body as CreateResponseBody;
      const requestId = record.request.requestId;
      const input = await store.items(id, 'input');
      const tools = planTools(body, this.deps.prepare.registry);
      const plan = await buildPlan({ body, include: record.request.include, input, tools, response, requestId }, this.deps.prepare);
      const generated = generateResponse(plan, this.deps.engine, { signal: controller.signal, throwBeforeOutput: false, requestId });
      // response.created was stored when the response was queued (older rows may lack it).
      const events = withSequenceNumbers(lastSeq >= 0 ? skipCreated(generated) : generated, lastSeq + 1);
      for await (const event of events) {
        if (TERMINAL_EVENT_TYPES.has(event.type)) {
          // Appended before the status says finished, so whoever sees it finished finds the conversation
          // updated. Skipped when cancelled meanwhile (a cancel in the instant between remains a race).
          if ((await store.status(id)) !== 'in_progress') break;
          await this.deps.prepare.conversations.record(response, input, requestId);
          // The status row settles a race with cancel: a run whose row says cancelled writes no ending.
          if (!(await store.update(response, ['in_progress']))) break;
        }
        if (event.type === 'response.output_item.done') await store.addOutputItem(id, event.output_index as number, event.item as ResponseItem);
        await store.appendEvent(id, event);
        lastSeq = event.sequence_number;
        this.deps.notifier.notify(id);
      }
      if (controller.signal.aborted && (await store.status(id)) === 'in_progress') {
        await this.fail(response, lastSeq, 'The background run was interrupted by a server shutdown.');
      }
    } catch (err) {
      log.error({ err, responseId: id }, 'background response failed');
      // A request error found only when the run starts (e.g. its conversation was deleted) is worth telling.
      const told = err instanceof ApiError && err.status < 500;
      const message = told ? err.message : 'The server had an error while running the response.';
      if (response) await this.fail(response, lastSeq, message, told ? 'invalid_prompt' : 'server_error').catch(() => {});
    } finally {
      clearInterval(watch);
      if (started) {
        this.running.delete(id);
        // Deleted while it ran: what it wrote since would be orphans.
        await store.purgeIfDeleted(id).catch((err) => log.error({ err, responseId: id }, 'purging a deleted response failed'));
      }
      this.deps.notifier.notify(id);
    }
  }

  /** Stops this process's run of a response that was just deleted (other processes notice by their heartbeat). */
  abandon(id: string): void {
    this.running.get(id)?.abort();
  }

  /** POST /v1/responses/{id}/cancel. */
  async cancel(id: string): Promise<ResponseObject> {
    const { store } = this.deps;
    const record = await store.get(id);
    if (!record) throw responseNotFound(id);
    const response = record.response;
    if (!response.background) throw new InvalidRequestError('Only responses created with background set to true can be cancelled.', 'response_id', 'invalid_request');
    if (response.status === 'cancelled') return response;
    if (response.status === 'queued' || response.status === 'in_progress') {
      if (await store.update({ ...response, status: 'cancelled' }, ['queued', 'in_progress'])) {
        this.running.get(id)?.abort();
        this.deps.notifier.notify(id);
        return (await store.get(id, { includeDeleted: true }))!.response;
      }
      const now = await store.status(id);
      if (now === 'cancelled') return (await store.get(id, { includeDeleted: true }))!.response;
      throw conflict(now ?? 'completed');
    }
    throw conflict(response.status);
  }

  /**
   * The stored events of a background response after `startingAfter`, then the live ones as they are
   * stored, until the terminal event (or the run was cancelled, or `signal` aborts).
   */
  async *follow(id: string, startingAfter: number, signal: AbortSignal): AsyncGenerator<ResponseStreamEvent> {
    const { store, notifier } = this.deps;
    let after = startingAfter;
    let finishedSince: number | undefined;
    while (!signal.aborted) {
      const events = await store.eventsAfter(id, after);
      for (const event of events) {
        yield event;
        after = event.sequence_number;
        if (TERMINAL_EVENT_TYPES.has(event.type)) return;
      }
      if (events.length > 0) continue;
      const status = await store.status(id);
      if (status === undefined || status === 'cancelled') {
        for (const event of await store.eventsAfter(id, after)) yield event;
        return;
      }
      if (status !== 'queued' && status !== 'in_progress') {
        finishedSince ??= Date.now();
        if (Date.now() - finishedSince > TERMINAL_GRACE_MS) return;
      }
      await notifier.wait(id, FOLLOW_POLL_MS, signal);
    }
  }

  /** Stops local runs at shutdown; they end `failed` (their job is not retried with a half-written stream). */
  async close(): Promise<void> {
    for (const controller of this.running.values()) controller.abort();
  }

  private async lastSequence(id: string): Promise<number> {
    let last = -1;
    for (;;) {
      const batch = await this.deps.store.eventsAfter(id, last);
      if (batch.length === 0) return last;
      last = batch.at(-1)!.sequence_number;
    }
  }

  /**
   * Ends a run `failed`. Its stream still reads as a whole: response.created (and response.in_progress
   * when the run had started) are stored first if they are missing, e.g. for a run that failed before
   * the engine produced anything, or a response queued before response.created was stored with it.
   */
  private async fail(response: ResponseObject, lastSeq: number, message: string, code = 'server_error'): Promise<void> {
    const { store, notifier } = this.deps;
    const id = response.id;
    const was = await store.status(id);
    const failed: ResponseObject = { ...response, status: 'failed', error: { code, message } };
    if (!(await store.update(failed, ['queued', 'in_progress']))) return;
    const opening = new Set((await store.eventsAfter(id, -1, 3)).map((e) => e.type));
    const missing: UnsequencedEvent[] = [];
    if (!opening.has('response.created')) missing.push({ type: 'response.created', response: { ...response, status: 'queued', output: [] } });
    if (was === 'in_progress' && !opening.has('response.in_progress')) missing.push({ type: 'response.in_progress', response: { ...response, status: 'in_progress', output: [] } });
    const output = (await store.get(id, { includeDeleted: true }))?.response.output ?? [];
    let seq = lastSeq;
    for (const event of [...missing, { type: 'response.failed', response: { ...failed, output } }]) await store.appendEvent(id, { ...event, sequence_number: ++seq });
    notifier.notify(id);
  }
}

/** The engine's response.created, left out when the stored stream already begins with it. */
async function* skipCreated(events: AsyncGenerator<UnsequencedEvent>): AsyncGenerator<UnsequencedEvent> {
  for await (const event of events) if (event.type !== 'response.created') yield event;
}

function conflict(status: string): ConflictError {
  return new ConflictError(`Cannot cancel a response that has already finished (status: ${status}).`, 'response_id', 'response_already_finished');
}
