import { ApiError, InvalidRequestError, NotFoundError, hasPrefix, truncate, type ConversationsClient } from '@rgw/shared';
import type { Principal } from '@rgw/shared';
import type { Caller } from '../request/caller.js';
import type { OutboxRecord } from '../store/response-store.js';
import type { CreateResponseBody } from '../wire/create-response-schema.js';
import type { OutputItem, ResponseItem, ResponseObject } from '../wire/response-types.js';

/** The part of the shared client this service uses (the Conversations API, over HTTP). */
export type ConversationsApi = Pick<ConversationsClient, 'listAllItems' | 'appendItems'>;

/**
 * The conversation a request names, or null. Its shape is checked here, before any lookup: OpenAI
 * answers 400 (not 404) to an id that cannot be a conversation's, and refuses it together with
 * `previous_response_id` (two sources of the same context).
 */
export function conversationIdOf(body: Pick<CreateResponseBody, 'conversation' | 'previous_response_id'>): string | null {
  if (!body.conversation) return null;
  const id = typeof body.conversation === 'string' ? body.conversation : body.conversation.id;
  if (body.previous_response_id) {
    throw new InvalidRequestError(
      "Mutually exclusive parameters: 'conversation' and 'previous_response_id' cannot be used together. Keep the context in the conversation, or chain responses, not both.",
      'conversation',
      'mutually_exclusive_parameters',
    );
  }
  if (!hasPrefix(id, 'conversation')) {
    throw new InvalidRequestError(`Invalid 'conversation': '${truncate(id, 100)}'. Expected an ID that begins with 'conv_'.`, 'conversation', 'invalid_value');
  }
  return id;
}

/**
 * What a finished response adds to its conversation. Completed: its input, then its output, as
 * OpenAI does. Incomplete (token limit, content filter, tool-loop limit): the same, because the client
 * saw that output and the next turn should too. Failed or cancelled: nothing, so a retry does not
 * find its question asked twice. Never for `store: false`, which only reads the conversation.
 */
export function itemsToAppend(response: ResponseObject, input: readonly ResponseItem[]): (ResponseItem | OutputItem)[] {
  if (!response.conversation || !response.store) return [];
  if (response.status !== 'completed' && response.status !== 'incomplete') return [];
  return [...input, ...response.output];
}

/**
 * The append a finished response owes its conversation (see itemsToAppend), written to the outbox
 * with the write that finishes the response, to be delivered as `principal` (the response's own);
 * undefined when it owes none.
 */
export function owedAppend(response: ResponseObject, input: readonly ResponseItem[], principal?: Principal): OutboxRecord | undefined {
  const items = itemsToAppend(response, input);
  if (items.length === 0) return undefined;
  return principal ? { conversationId: response.conversation!.id, items, principal } : { conversationId: response.conversation!.id, items };
}

/**
 * An input item that is already in the conversation (or twice in the input) is refused, as the
 * Conversations API refuses it: appending the response would fail, and the model would read it twice.
 * Items a client passes back from an earlier response keep their ids, which is how this happens.
 */
export function checkNoDuplicates(conversationItems: readonly ResponseItem[], input: readonly ResponseItem[]): void {
  const seen = new Set(conversationItems.map((item) => item.id));
  input.forEach((item, index) => {
    if (seen.has(item.id)) {
      throw new InvalidRequestError(
        `Duplicate item found with id ${item.id}: it is already in the conversation. Remove it from your input and try again.`,
        `input[${index}].id`,
        'duplicate_item',
      );
    }
    seen.add(item.id);
  });
}

/** The conversation store as this service sees it: over HTTP, with its errors renamed to our `conversation` param. */
export class ConversationSource {
  constructor(
    private readonly api: ConversationsApi,
    /** Appends still owed to a conversation land before its items are read (see ConversationOutbox.settle). */
    private readonly pending?: { settle(conversationId: string, caller?: Caller): Promise<void> },
  ) {}

  /**
   * Every item, oldest first: the context a response in this conversation continues; 404 (param
   * `conversation`) when it does not exist, or is not the caller's project's (the call is signed as it).
   */
  async items(id: string, caller: Caller = {}): Promise<ResponseItem[]> {
    await this.pending?.settle(id, caller);
    return this.call(id, () => this.api.listAllItems(id, { requestId: caller.requestId, principal: caller.principal }));
  }

  private async call<T>(id: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new NotFoundError(`Conversation with id '${truncate(id, 100)}' not found.`, 'conversation', 'not_found');
      if (err instanceof ApiError && err.status < 500) throw new ApiError(err.status, err.message, { type: err.type, param: 'conversation', code: err.code });
      throw err;
    }
  }
}
