import { INCLUDE_VALUES } from '../wire/include-values.js';
import { idSegment } from '../http/safe-id.js';
import { gatewayRequest, type ClientCallOptions, type ClientTransport } from './gateway-request.js';

/** A conversation as GET /v1/conversations/{id} returns it. */
export interface ConversationObject {
  id: string;
  object: 'conversation';
  created_at: number;
  metadata: Record<string, string>;
}

/** A stored conversation item: always an id and a type; the rest is the item's wire shape. */
export type StoredConversationItem = Record<string, unknown> & { id: string; type: string };

interface ItemPage {
  object: 'list';
  data: StoredConversationItem[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/**
 * Internal (sent by the responses service, not part of the OpenAI API): with `true`, an append skips
 * the items whose ids are already in the conversation instead of refusing them, so an append retried
 * after a lost reply, or after some of its 20-item calls landed, adds each item exactly once.
 */
export const IDEMPOTENT_APPEND_HEADER = 'x-rgw-idempotent-append';

/** The most items the Conversations API takes in one call, and the largest page it returns. */
export const CONVERSATION_ITEMS_PER_CALL = 20;
const PAGE_SIZE = 100;

/** Every include value, so items come back whole (image urls, logprobs, encrypted reasoning, ...). */
const INCLUDE_ALL = INCLUDE_VALUES;

/**
 * The Conversations API as other services use it: over public HTTP through the gateway, never through
 * the conversations tables. Errors come back as the ApiError the conversations service threw.
 */
export class ConversationsClient {
  constructor(private readonly transport: ClientTransport) {}

  /** The conversation, or a 404 ApiError when there is none. */
  async getConversation(id: string, opts: ClientCallOptions = {}): Promise<ConversationObject> {
    return gatewayRequest(this.transport, { ...opts, service: 'conversations', method: 'GET', path: `/v1/conversations/${idSegment(id, 'conversation_id')}` });
  }

  /** Every item of the conversation, oldest first, following cursors page by page. */
  async listAllItems(id: string, opts: ClientCallOptions = {}): Promise<StoredConversationItem[]> {
    const items: StoredConversationItem[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await gatewayRequest<ItemPage>(this.transport, {
        ...opts,
        service: 'conversations',
        method: 'GET',
        path: `/v1/conversations/${idSegment(id, 'conversation_id')}/items`,
        query: { order: 'asc', limit: PAGE_SIZE, after, include: INCLUDE_ALL },
      });
      items.push(...page.data);
      if (!page.has_more || !page.last_id) return items;
      after = page.last_id;
    }
  }

  /**
   * Appends items in order, in calls of at most 20, and returns them as stored (with their ids).
   * The calls are not one transaction: if one fails, the chunks before it stay appended; with
   * `idempotent`, sending the same items again is how to finish such an append.
   */
  async appendItems(id: string, items: readonly unknown[], opts: ClientCallOptions & { idempotent?: boolean } = {}): Promise<StoredConversationItem[]> {
    const { idempotent, ...call } = opts;
    const stored: StoredConversationItem[] = [];
    for (let i = 0; i < items.length; i += CONVERSATION_ITEMS_PER_CALL) {
      const page = await gatewayRequest<ItemPage>(this.transport, {
        ...call,
        service: 'conversations',
        method: 'POST',
        headers: idempotent ? { [IDEMPOTENT_APPEND_HEADER]: 'true' } : undefined,
        path: `/v1/conversations/${idSegment(id, 'conversation_id')}/items`,
        query: { include: INCLUDE_ALL },
        body: { items: items.slice(i, i + CONVERSATION_ITEMS_PER_CALL) },
      });
      stored.push(...page.data);
    }
    return stored;
  }
}
