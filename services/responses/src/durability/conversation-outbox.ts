import { ApiError, ServiceUnavailableError, type Logger } from '@rgw/shared';
import type { ConversationsApi } from '../context/conversation-source.js';
import { callerProject, type Caller } from '../request/caller.js';
import type { OutboxStore, PendingAppend } from '../store/outbox-store.js';

/** Backoff between delivery attempts of one append: 0.5 s, doubling, at most 10 s. */
function backoffMs(attempts: number): number {
  return Math.min(10_000, 500 * 2 ** Math.max(0, attempts - 1));
}

/**
 * Delivers the conversation appends that finished responses owe (the outbox rows written with the
 * write that finished them): first at once, inline, then by a background loop with backoff until
 * they land. Per conversation strictly in order: a failed append stops the later ones behind it.
 * The Conversations service is called in its idempotent mode, so resending an append that landed
 * (a lost reply, a crash between delivery and delete, another replica flushing the same row) adds
 * nothing twice. Each append is delivered as the principal of the response that owes it (stored
 * with its row), so the Conversations service scopes it to that response's project.
 */
export class ConversationOutbox {
  /** In-process: one delivery per conversation at a time (across processes order still holds, see deliver). */
  private readonly flushing = new Map<string, Promise<boolean>>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly outbox: OutboxStore,
    private readonly api: Pick<ConversationsApi, 'appendItems'>,
    private readonly log: Logger,
    private readonly pollMs = 1_000,
  ) {}

  /** Delivers the conversation's pending appends in order; true when none is left. Never throws. */
  flush(conversationId: string, requestId?: string): Promise<boolean> {
    const previous = this.flushing.get(conversationId) ?? Promise.resolve(true);
    const next = previous.then(() => this.deliver(conversationId, requestId)).catch((err) => {
      this.log.error({ err, conversationId }, 'delivering conversation appends failed');
      return false;
    });
    this.flushing.set(conversationId, next);
    void next.finally(() => this.flushing.get(conversationId) === next && this.flushing.delete(conversationId));
    return next;
  }

  /**
   * Before a response reads a conversation's items: appends still owed to it land first, or the
   * request is answered 503 (retryable) rather than run on a context that lacks them. Only the
   * caller's project's appends count: another project's conversation is not the caller's to wait for.
   */
  async settle(conversationId: string, caller: Caller = {}): Promise<void> {
    if (!(await this.outbox.hasPending(callerProject(caller), conversationId))) return;
    if (await this.flush(conversationId, caller.requestId)) return;
    throw new ServiceUnavailableError(
      `Conversation '${conversationId}' still has items of an earlier response being saved, and the Conversations service cannot take them right now. Try again shortly.`,
      'conversation_append_pending',
    );
  }

  /** For a reader that sees the response finished: its own append, if still owed, is tried now. */
  async settleResponse(responseId: string, conversationId: string): Promise<void> {
    if (await this.outbox.hasPendingFor(responseId)) await this.flush(conversationId);
  }

  start(): void {
    this.timer ??= setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round of the background loop: every conversation with a due append (exposed for tests). */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const conversationId of await this.outbox.dueConversations(Date.now())) await this.flush(conversationId);
    } catch (err) {
      this.log.warn({ err }, 'polling the conversation outbox failed');
    } finally {
      this.polling = false;
    }
  }

  private async deliver(conversationId: string, requestId?: string): Promise<boolean> {
    for (const append of await this.outbox.pending(conversationId)) {
      if (!(await this.send(append, requestId))) return false;
      await this.outbox.delivered(append.seq);
    }
    return true;
  }

  /** True when the append landed or can never land (and is dropped, logged); false to retry later. */
  private async send(append: PendingAppend, requestId?: string): Promise<boolean> {
    try {
      await this.api.appendItems(append.conversationId, append.items, { requestId, principal: append.principal, idempotent: true });
      return true;
    } catch (err) {
      const ctx = { err, responseId: append.responseId, conversationId: append.conversationId, attempts: append.attempts + 1 };
      if (err instanceof ApiError && err.status >= 400 && err.status < 500 && ![408, 409, 429].includes(err.status)) {
        // The conversation was deleted (404), or the items are refused for good: retrying cannot help.
        this.log.error(ctx, 'a conversation append was refused; dropped');
        return true;
      }
      this.log.warn(ctx, 'appending a response to its conversation failed; will retry');
      await this.outbox.deferred(append.seq, append.attempts + 1, Date.now() + backoffMs(append.attempts + 1));
      return false;
    }
  }
}
