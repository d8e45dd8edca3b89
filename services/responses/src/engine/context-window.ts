import { ApiError, InvalidRequestError } from '@rgw/shared';
import type { ChatMessage } from '../chat/items-to-chat.js';

const OVERFLOW_PATTERN = /context[ _-]?(length|window)|maximum context|prompt is too long|too many (input )?tokens|exceeds? the (model'?s? )?(maximum|max)|input is too long|longer than the model/i;

/** Whether an upstream error says the prompt does not fit the model's context window. */
export function isContextOverflow(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  if (err.code === 'context_length_exceeded') return true;
  return (err.status === 400 || err.status === 413 || err.status === 422) && OVERFLOW_PATTERN.test(err.message);
}

export function contextTooLong(err: ApiError): InvalidRequestError {
  return new InvalidRequestError(
    `The input exceeds the context window of this model (${err.message}). Shorten the input, or set truncation to 'auto' to drop the oldest context.`,
    'input',
    'context_length_exceeded',
  );
}

/**
 * Drops the oldest droppable message in place (truncation: auto): never the system messages, never
 * the last message; an assistant tool-call message goes together with its tool results, so no tool
 * result is ever left without its call. Returns false when nothing more can go.
 */
export function dropOldestMessage(messages: ChatMessage[]): boolean {
  const last = messages.length - 1;
  const first = messages.findIndex((m, i) => m.role !== 'system' && i < last);
  if (first === -1) return false;
  let end = first + 1;
  if (messages[first]!.tool_calls?.length) while (end < last && messages[end]!.role === 'tool') end++;
  // Tool results whose call already went are dropped with it.
  while (end < last && messages[end]!.role === 'tool') end++;
  messages.splice(first, end - first);
  return true;
}
