import { itemsToChatMessages, type ChatMessage, type ItemMapper } from '../chat/items-to-chat.js';
import type { ResponseStore } from '../store/response-store.js';
import type { ResponseItem } from '../wire/response-types.js';

/** Where a response's context comes from, in the order the model reads it. */
export interface ContextSources {
  /** The request's `instructions` (never inherited from predecessors). */
  instructions: string | null;
  /** The stored response this one continues, if any. */
  previousResponseId: string | null;
  /** This request's own input items, item references already resolved. */
  input: readonly ResponseItem[];
}

export interface AssembledContext {
  /** The items before this request's input (the previous chain), oldest first. */
  history: ResponseItem[];
  messages: ChatMessage[];
}

/**
 * Builds what the model sees: instructions, then the previous response chain's inputs and outputs,
 * then the new input. This is the seam for the next sources: a `conversation`'s items go in front of
 * the history here, and a `prompt` template renders into `instructions` before this is called.
 */
export async function assembleContext(store: ResponseStore, sources: ContextSources, mappers: ReadonlyMap<string, ItemMapper>): Promise<AssembledContext> {
  const history = sources.previousResponseId ? await store.chainItems(sources.previousResponseId) : [];
  const messages = itemsToChatMessages(sources.instructions, [...history, ...sources.input], mappers);
  return { history, messages };
}
