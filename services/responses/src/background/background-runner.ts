import { ApiError, ConflictError, InvalidRequestError, NotFoundError, type Logger, type Queue } from '@rgw/shared';
import { planTools } from '../chat/chat-request.js';
import { generateResponse, type EngineDeps } from '../engine/response-engine.js';
import { withSequenceNumbers } from '../engine/sequence.js';
import { buildPlan, storedRequest, type PrepareDeps, type PreparedRequest } from '../request/prepare-request.js';
import type { ResponseStore } from '../store/response-store.js';
import type { CreateResponseBody } from '../wire/create-response-schema.js';
import { TERMINAL_EVENT_TYPES, type ResponseItem, type ResponseObject, type ResponseStreamEvent } from '../wire/response-types.js';
import type { RunNotifier } from './run-notifier.js';

export const BACKGROUND_TOPIC = 'responses.background';
const CANCEL_POLL_MS = 300;
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

  async enqueue(prepared: PreparedRequest): Promise<void> {
    await this.deps.store.insert(prepared.response, storedRequest(prepared), prepared.input);
    await this.deps.queue.publish(BACKGROUND_TOPIC, { id: prepared.response.id });
  }

  async start(): Promise<void> {
    await this.deps.queue.consume(BACKGROUND_TOPIC, (payload) => this.run(payload), { concurrency: this.deps.concurrency ?? 8 });
  }

  /** Runs one queued response to its end. Never throws: a failure is recorded on the response, not retried. */
  async run(payload: unknown): Promise<void> {
    const id = (payload as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') return;
    const { store, log } = this.deps;
    let lastSeq = -1;
    let response: ResponseObject | undefined;
    const controller = new AbortController();
    const watch = setInterval(() => {
      // Cancelled, or deleted while running: either way nobody wants the rest.
      void store.status(id).then((s) => (s === 'cancelled' || s === undefined) && controller.abort(), () => {});
    }, CANCEL_POLL_MS);
    try {
      const record = await store.get(id, { includeDeleted: true });
      if (!record) return;
      response = record.response;
      if (response.status === 'in_progress') {
        // A run that died with its process: its partial stream cannot be continued, so it ends failed.
        lastSeq = await this.lastSequence(id);
        await this.fail(response, lastSeq, 'The background run was interrupted before it finished.');
        return;
      }
      if (response.status !== 'queued') return;
      if (!(await store.update({ ...response, status: 'in_progress' }, ['queued']))) return;
      this.running.set(id, controller);
      const body = record.request.body as CreateResponseBody;
      const requestId = record.request.requestId;
      const input = await store.items(id, 'input');
      const tools = planTools(body, this.deps.prepare.registry);
      const plan = await buildPlan({ body, include: record.request.include, input, tools, response, requestId }, this.deps.prepare);
      const events = withSequenceNumbers(generateResponse(plan, this.deps.engine, { signal: controller.signal, throwBeforeOutput: false, requestId }));
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
      this.running.delete(id);
      this.deps.notifier.notify(id);
    }
  }

  /** POST /v1/responses/{id}/cancel. */
  async cancel(id: string): Promise<ResponseObject> {
    const { store } = this.deps;
    const record = await store.get(id);
    if (!record) throw new NotFoundError(`Response with id '${id}' not found.`, 'response_id', 'not_found');
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

  private async fail(response: ResponseObject, lastSeq: number, message: string, code = 'server_error'): Promise<void> {
    const failed: ResponseObject = { ...response, status: 'failed', error: { code, message } };
    if (!(await this.deps.store.update(failed, ['queued', 'in_progress']))) return;
    const output = (await this.deps.store.get(response.id, { includeDeleted: true }))?.response.output ?? [];
    await this.deps.store.appendEvent(response.id, { type: 'response.failed', response: { ...failed, output }, sequence_number: lastSeq + 1 });
    this.deps.notifier.notify(response.id);
  }
}

function conflict(status: string): ConflictError {
  return new ConflictError(`Cannot cancel a response that has already finished (status: ${status}).`, 'response_id', 'response_already_finished');
}
