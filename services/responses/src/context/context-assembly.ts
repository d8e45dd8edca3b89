import { InvalidRequestError } from '@rgw/shared';
import { itemsToChatMessages, type ChatMessage, type Instructions, type ItemMapper } from '../chat/items-to-chat.js';
import { callerProject, type Caller } from '../request/caller.js';
import type { ResponseStore } from '../store/response-store.js';
import type { ResponseItem } from '../wire/response-types.js';
import type { InputFileResolver } from '../input-files/input-file-resolver.js';
import { checkNoDuplicates, type ConversationSource } from './conversation-source.js';

/** Where a response's context comes from, in the order the model reads it. */
export interface ContextSources {
  /**
   * Response.instructions: the request's `instructions`, or the list a stored `prompt` rendered
   * into (context/prompt-source.ts). Never inherited from predecessors.
   */
  instructions: Instructions;
  /** The stored response this one continues, if any. */
  previousResponseId: string | null;
  /** The conversation this response belongs to, if any (never together with previousResponseId). */
  conversationId: string | null;
  /** This request's own input items, item references already resolved. */
  input: readonly ResponseItem[];
}

export interface ContextDeps {
  store: ResponseStore;
  conversations: ConversationSource;
  mappers: ReadonlyMap<string, ItemMapper>;
  /** Reads files and URLs that message parts reference (the stored items keep the references). */
  inputFiles?: InputFileResolver;
}

export interface AssembledContext {
  /** The items before this request's input (the conversation, or the previous chain), oldest first. */
  history: ResponseItem[];
  messages: ChatMessage[];
}

/**
 * Builds what the model sees: instructions, then the history — the conversation's items, or the
 * previous response chain's inputs and outputs — then the new input. A chain holds only its
 * responses' own items, so continuing a response that was made in a conversation does not bring the
 * conversation's earlier items along. Both are read as the caller's project's.
 */
export async function assembleContext(deps: ContextDeps, sources: ContextSources, caller: Caller = {}): Promise<AssembledContext> {
  let history: ResponseItem[] = [];
  if (sources.conversationId) {
    history = await deps.conversations.items(sources.conversationId, caller);
    checkNoDuplicates(history, sources.input);
  } else if (sources.previousResponseId) {
    history = await deps.store.chainItems(callerProject(caller), sources.previousResponseId);
  }
  checkToolOutputsAnswerCalls(history, sources.input);
  let items: readonly ResponseItem[] = [...history, ...sources.input];
  if (deps.inputFiles) items = await deps.inputFiles.resolve(items, caller, (i) => (i < history.length ? null : `input[${i - history.length}]`));
  const messages = itemsToChatMessages(sources.instructions, items, deps.mappers);
  return { history, messages };
}

/**
 * Every function_call_output of the new input must answer a function_call the model will see
 * (earlier in the context or in the same input), as OpenAI requires: a chat template cannot place
 * a tool result without its call.
 */
export function checkToolOutputsAnswerCalls(history: readonly ResponseItem[], input: readonly ResponseItem[]): void {
  const calls = new Set([...history, ...input].filter((i) => i.type === 'function_call').map((i) => i.call_id));
  for (const item of input) {
    if (item.type === 'function_call_output' && !calls.has(item.call_id)) {
      throw new InvalidRequestError(`No tool call found for function call output with call_id ${String(item.call_id)}.`, 'input', 'invalid_value');
    }
  }
}
