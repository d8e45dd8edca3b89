import { ApiError, InvalidRequestError, projectOf, type Logger, type Principal, type Queue } from '@rgw/shared';
import { planTools } from '../chat/chat-request.js';
import { generateResponse, type EngineDeps } from '../engine/response-engine.js';
import { withSequenceNumbers } from '../engine/sequence.js';
import { buildPlan, storedRequest, type PrepareDeps, type PreparedRequest } from '../request/prepare-request.js';
import { responseNotFound } from '../response/response-errors.js';
import { storedPrincipal } from '../request/caller.js';
import { ANY_PROJECT, type ResponseStore } from '../store/response-store.js';
import type { UsageReporter } from '../usage/usage-reporter.js';
import type { CreateResponseBody } from '../wire/create-response-schema.js';
import { TERMINAL_EVENT_TYPES, type ResponseItem, type ResponseObject, type ResponseStreamEvent, type UnsequencedEvent } from '../wire/response-types.js';
import { owedAppend } from '../context/conversation-source.js';
import type { ConversationOutbox } from '../durability/conversation-outbox.js';
import type { LeaseKeeper } from '../durability/lease-keeper.js';
import type { RunReaper } from '../durability/run-reaper.js';
import type { RunNotifier } from './run-notifier.js';

export const BACKGROUND_TOPIC = 'responses.background';
const FOLLOW_POLL_MS = 250;
/** How often a redelivered job checks on a run owned by another process. */
const OWNER_POLL_MS = 250;
/** How long a redelivered job waits on a live run elsewhere; past that the reaper still ends it if its owner dies. */
const OWNER_WAIT_MS = 30 * 60_000;
/** How long a follower waits for the terminal event of a response whose row already says it finished. */
const TERMINAL_GRACE_MS = 10_000;
/** How often a follower waiting on a silent run checks that its owner's lease still holds. */
const LEASE_CHECK_MS = 1_000;

export interface BackgroundDeps {
  store: ResponseStore;
  queue: Queue;
  notifier: RunNotifier;
  engine: EngineDeps;
  prepare: PrepareDeps;
  log: Logger;
  keeper: LeaseKeeper;
  reaper: RunReaper;
  outbox: ConversationOutbox;
  usage: UsageReporter;
  concurrency?: number;
}

/**
 * Background responses: stored as `queued`, run by whichever process consumes the queue, every
 * event stored as it is produced so that GET (and GET ?stream=true from any sequence number, from any
 * process) sees the progress. Cancellation is a status change in the store, which the run notices
 * (at once in this process, by polling elsewhere); the client going away never stops a run.
 * The job names only the response; its run acts for the response's own project, with the principal
 * stored with the request, on every call to another service and every row it writes.
 */
export class BackgroundRunner {
  /** Aborts waits of redelivered jobs at shutdown (the reaper ends their runs if nobody else does). */
  private readonly closing = new AbortController();

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
      await store.delete(projectOf(prepared), response.id).catch((e) => log.error({ err: e, responseId: response.id }, 'removing an unpublished background response failed'));
      throw err;
    }
  }

  async start(): Promise<void> {
    await this.deps.queue.consume(BACKGROUND_TOPIC, (payload) => this.run(payload), { concurrency: this.deps.concurrency ?? 8 });
  }

  /**
   * Runs one queued response to its end. Never throws: a failure is recorded on the response, not
   * retried. A job for a response already `in_progress` was redelivered (its process died, or the
   * queue lost a channel): it waits until that run ends or its lease expires, then takes over and
   * ends it `failed` (a partial stream cannot be continued). It never just drops the job while the
   * row is in progress.
   */
  async run(payload: unknown): Promise<void> {
    const id = (payload as { id?: unknown } | null)?.id;
    if (typeof id !== 'string') return;
    const { store, log, keeper } = this.deps;
    // A redelivered job of a run this process is doing.
    if (keeper.holds(id)) return;
    let lastSeq = -1;
    let started = false;
    let response: ResponseObject | undefined;
    let project = '';
    let principal: Principal | undefined;
    const controller = new AbortController();
    try {
      const record = await store.get(ANY_PROJECT, id, { includeDeleted: true });
      if (!record) return;
      response = record.response;
      project = record.project;
      principal = storedPrincipal(record.request.principal, record.project);
      if (response.status === 'in_progress') return await this.awaitOwner(id);
      if (response.status !== 'queued') return;
      lastSeq = await this.deps.reaper.lastSequence(id);
      if (!(await store.update({ ...response, status: 'in_progress' }, ['queued'], { lease: keeper.lease() }))) return;
      started = true;
      // The lease renewal also tells the run when its row stopped being in_progress: cancelled, or deleted.
      keeper.hold(id, controller);
      const body = record.request.body as CreateResponseBody;
      const requestId = record.request.requestId;
      const input = await store.items(id, 'input');
      const tools = planTools(body, this.deps.prepare.registry);
      const plan = await buildPlan({ body, include: record.request.include, input, tools, response, requestId, principal }, this.deps.prepare);
      const generated = generateResponse(plan, this.deps.engine, { signal: controller.signal, throwBeforeOutput: false, requestId });
      // response.created was stored when the response was queued (older rows may lack it).
      const events = withSequenceNumbers(lastSeq >= 0 ? skipCreated(generated) : generated, lastSeq + 1);
      for await (const event of events) {
        if (TERMINAL_EVENT_TYPES.has(event.type)) {
          // The status and the conversation append it owes are one write, conditional on the row still
          // being in_progress (a cancel wins the race, and then nothing is appended). The append is
          // delivered before the terminal event is stored, so a follower that sees it finds the items.
          const owed = owedAppend(response, input, principal);
          if (!(await store.finish(response, { project, ifStatus: ['in_progress'], outbox: owed }))) break;
          if (owed) await this.deps.outbox.flush(owed.conversationId, requestId);
        }
        if (event.type === 'response.output_item.done') await store.addOutputItem(project, id, event.output_index as number, event.item as ResponseItem);
        await store.appendEvent(project, id, event);
        lastSeq = event.sequence_number;
        this.deps.notifier.notify(id);
      }
      if (controller.signal.aborted && (await store.status(id)) === 'in_progress') {
        await this.deps.reaper.fail(response, lastSeq, 'The background run was interrupted by a server shutdown.');
      }
    } catch (err) {
      log.error({ err, responseId: id }, 'background response failed');
      // A request error found only when the run starts (e.g. its conversation was deleted) is worth telling.
      const told = err instanceof ApiError && err.status < 500;
      const message = told ? err.message : 'The server had an error while running the response.';
      if (response) await this.deps.reaper.fail(response, lastSeq, message, told ? 'invalid_prompt' : 'server_error').catch(() => {});
    } finally {
      if (started) {
        keeper.release(id);
        this.deps.usage.report(response!, principal);
        // Deleted while it ran: what it wrote since would be orphans.
        await store.purgeIfDeleted(id).catch((err) => log.error({ err, responseId: id }, 'purging a deleted response failed'));
      }
      this.deps.notifier.notify(id);
    }
  }

  /**
   * A redelivered job of a run owned by another process: polls (bounded) until the run ends, or its
   * lease expires and this process takes it over and ends it.
   */
  private async awaitOwner(id: string): Promise<void> {
    const deadline = Date.now() + OWNER_WAIT_MS;
    while (!this.closing.signal.aborted && Date.now() < deadline) {
      const now = await this.deps.store.lease(id);
      if (!now || now.status !== 'in_progress') return;
      if ((!now.lease || now.lease.until < Date.now()) && (await this.deps.reaper.reap(id))) return;
      await this.deps.notifier.wait(id, OWNER_POLL_MS, this.closing.signal);
    }
  }

  /** Stops this process's run of a response that was just deleted (other processes notice by their heartbeat). */
  abandon(id: string): void {
    this.deps.keeper.controller(id)?.abort();
  }

  /** POST /v1/responses/{id}/cancel, for a response of `project` (another project's is unknown). */
  async cancel(project: string, id: string): Promise<ResponseObject> {
    const { store } = this.deps;
    const record = await store.get(project, id);
    if (!record) throw responseNotFound(id);
    const response = record.response;
    if (!response.background) throw new InvalidRequestError('Only responses created with background set to true can be cancelled.', 'response_id', 'invalid_request');
    if (response.status === 'cancelled') return response;
    if (response.status === 'queued' || response.status === 'in_progress') {
      if (await store.update({ ...response, status: 'cancelled' }, ['queued', 'in_progress'])) {
        this.deps.keeper.controller(id)?.abort();
        this.deps.notifier.notify(id);
        return (await store.get(project, id, { includeDeleted: true }))!.response;
      }
      const now = await store.status(id);
      if (now === 'cancelled') return (await store.get(project, id, { includeDeleted: true }))!.response;
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
    let orphanedSince: number | undefined;
    let leaseCheckedAt = Date.now();
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
      if (status === 'in_progress' && Date.now() - leaseCheckedAt >= LEASE_CHECK_MS) {
        // A run whose process died: end it here rather than wait for the sweeper; if nobody can, stop following.
        leaseCheckedAt = Date.now();
        const now = await store.lease(id);
        if (now?.lease && now.lease.until < Date.now() && !(await this.deps.reaper.reap(id))) {
          orphanedSince ??= Date.now();
          if (Date.now() - orphanedSince > TERMINAL_GRACE_MS) return;
        }
      }
      await notifier.wait(id, FOLLOW_POLL_MS, signal);
    }
  }

  /** Stops local runs at shutdown; they end `failed` (their job is not retried with a half-written stream). */
  async close(): Promise<void> {
    this.closing.abort();
    this.deps.keeper.abortAll();
  }
}

/** The engine's response.created, left out when the stored stream already begins with it. */
async function* skipCreated(events: AsyncGenerator<UnsequencedEvent>): AsyncGenerator<UnsequencedEvent> {
  for await (const event of events) if (event.type !== 'response.created') yield event;
}

/** 409 for cancelling a finished response; `x-should-retry: false`, as retrying cannot change the answer (the SDK retries a 409 otherwise). */
function conflict(status: string): ApiError {
  return new ApiError(409, `Cannot cancel a response that has already finished (status: ${status}).`, {
    param: 'response_id',
    code: 'response_already_finished',
    headers: { 'x-should-retry': 'false' },
  });
}
