import { projectOf, type Logger } from '@rgw/shared';
import { owedAppend } from '../context/conversation-source.js';
import { storedRequest, type PreparedRequest } from '../request/prepare-request.js';
import type { ResponseStore } from '../store/response-store.js';
import type { ResponseObject, ResponseStreamEvent } from '../wire/response-types.js';
import type { ConversationOutbox } from './conversation-outbox.js';
import type { LeaseKeeper } from './lease-keeper.js';

/** Completed output items of a long foreground response are saved at most this often (never per delta). */
const CHECKPOINT_MS = 1_000;
/** Events the stream writer holds back until the first output event (see http/event-stream.ts). */
const HELD_BACK = new Set(['response.created', 'response.in_progress']);

export interface ForegroundDeps {
  store: ResponseStore;
  keeper: LeaseKeeper;
  outbox: ConversationOutbox;
  log: Logger;
}

/**
 * The stored life of a foreground response (store != false). It is recorded `in_progress` with this
 * process's lease when it starts — the insert runs while the model server is asked, so the first
 * token is not delayed, and on Postgres its commit does not wait for the disk (the finishing write's
 * does, and flushes it too) — and finished with one write at the end (status, the output items not saved
 * yet, the conversation append owed). A response that runs longer than a second also saves its
 * completed items now and then, so a crash leaves them readable: the reaper ends the row `failed`
 * with them once its lease expires. The success path of a short response costs one write more than
 * storing it only at the end.
 */
export class ForegroundRecord {
  private readonly started: Promise<void>;
  private saved = 0;
  private completed = 0;
  private lastSave = Date.now();
  private confirmed = false;
  /** The project the response belongs to (its request's). */
  private readonly project: string;

  constructor(
    private readonly deps: ForegroundDeps,
    private readonly prepared: PreparedRequest,
    private readonly response: ResponseObject,
    private readonly requestId?: string,
  ) {
    this.project = projectOf(prepared);
    deps.keeper.hold(response.id);
    const snapshot: ResponseObject = { ...response, status: 'in_progress', output: [] };
    this.started = deps.store.insert(snapshot, storedRequest(prepared), prepared.input, [], deps.keeper.lease(), { provisional: true });
    // Awaited by every later step; this only keeps an early failure from being reported as unhandled.
    this.started.catch(() => {});
  }

  /**
   * Sees each event before it is written. The first one the client will actually receive (the
   * stream holds response.created/in_progress until output begins) waits for the insert, so an id
   * the client holds is always readable; now and then it saves the completed output items.
   */
  observe(event: ResponseStreamEvent): Promise<void> | undefined {
    // Undefined when there is nothing to wait for: most events, and awaiting each would cost a hop.
    let confirming: Promise<void> | undefined;
    if (!this.confirmed && !HELD_BACK.has(event.type)) {
      confirming = this.started;
      this.confirmed = true;
    }
    if (event.type === 'response.output_item.done') this.completed = Math.max(this.completed, (event.output_index as number) + 1);
    if (this.completed <= this.saved || Date.now() - this.lastSave < CHECKPOINT_MS) return confirming;
    return this.checkpoint();
  }

  private async checkpoint(): Promise<void> {
    await this.started;
    const upTo = this.completed;
    await this.deps.store.addOutputItems(this.project, this.response.id, this.saved, this.response.output.slice(this.saved, upTo));
    this.saved = upTo;
    this.lastSave = Date.now();
  }

  /**
   * The write that finishes the response (unless a reaper ended it meanwhile), then the first,
   * inline, attempt to deliver what it owes its conversation: a listing right after sees the items.
   */
  async finish(): Promise<void> {
    const { store, keeper, outbox } = this.deps;
    try {
      await this.started;
      const owed = owedAppend(this.response, this.prepared.input, this.prepared.principal);
      const output = { from: this.saved, items: this.response.output.slice(this.saved) };
      const finished = await store.finish(this.response, { project: this.project, ifStatus: ['in_progress'], output, outbox: owed });
      if (finished && owed) await outbox.flush(owed.conversationId, this.requestId);
    } finally {
      keeper.release(this.response.id);
    }
  }

  /** An upstream error before any output: the client gets an HTTP error, and nothing stays stored. */
  async discard(): Promise<void> {
    try {
      await this.started.catch(() => {});
      await this.deps.store.delete(this.project, this.response.id);
    } finally {
      this.deps.keeper.release(this.response.id);
    }
  }
}
