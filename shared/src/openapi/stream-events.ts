import { z } from 'zod';

/**
 * The server-sent events our streaming endpoints write, as schemas: the API description documents
 * them, and the conformance suite checks every event of a real stream against them (and against
 * OpenAI's own event schemas), so a new event type the engine starts to send cannot go unlisted.
 */
export const RESPONSE_STREAM_EVENT_TYPES = [
  'response.created',
  'response.queued',
  'response.in_progress',
  'response.output_item.added',
  'response.output_item.done',
  'response.content_part.added',
  'response.content_part.done',
  'response.output_text.delta',
  'response.output_text.done',
  'response.output_text.annotation.added',
  'response.refusal.delta',
  'response.refusal.done',
  'response.reasoning_text.delta',
  'response.reasoning_text.done',
  'response.function_call_arguments.delta',
  'response.function_call_arguments.done',
  'response.file_search_call.in_progress',
  'response.file_search_call.searching',
  'response.file_search_call.completed',
  'response.completed',
  'response.incomplete',
  'response.failed',
  'error',
] as const;

/** One event of `POST /v1/responses` with `stream: true` (and of a background response's replay). */
export const responseStreamEventSchema = z.looseObject({
  type: z.enum(RESPONSE_STREAM_EVENT_TYPES),
  sequence_number: z.number().int().min(0),
});

/** One chunk of `POST /v1/chat/completions` with `stream: true`, as the model server sends it (relayed untouched). */
export const chatCompletionChunkSchema = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion.chunk'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(z.looseObject({ index: z.number().int(), delta: z.looseObject({}), finish_reason: z.string().nullable() })),
});

/** The event schema of each streaming operation, by operationId. */
export const STREAM_EVENTS: Record<string, z.ZodType> = {
  createResponse: responseStreamEventSchema,
  getResponse: responseStreamEventSchema,
  createChatCompletion: chatCompletionChunkSchema,
};
