import { z } from 'zod';
import type { ResponseObject } from './response-types.js';

/**
 * The Response object as the API description gives it. The shape is checked against ResponseObject
 * (every field, no other), and the conformance suite checks real answers against the generated
 * schema, so neither can drift from what the engine writes.
 */
const nullableText = z.string().nullable();
const usage = z.looseObject({
  input_tokens: z.number().int(),
  input_tokens_details: z.looseObject({ cached_tokens: z.number().int() }),
  output_tokens: z.number().int(),
  output_tokens_details: z.looseObject({ reasoning_tokens: z.number().int() }),
  total_tokens: z.number().int(),
});

const shape = {
  id: z.string(),
  object: z.literal('response'),
  created_at: z.number(),
  status: z.enum(['completed', 'failed', 'in_progress', 'cancelled', 'queued', 'incomplete']),
  background: z.boolean(),
  completed_at: z.number().nullable(),
  conversation: z.looseObject({ id: z.string() }).nullable(),
  error: z.looseObject({ code: z.string(), message: z.string() }).nullable(),
  incomplete_details: z.looseObject({ reason: z.enum(['max_output_tokens', 'content_filter', 'max_iterations_exceeded']) }).nullable(),
  instructions: z.union([z.string(), z.array(z.looseObject({ type: z.literal('message'), role: z.string() }))]).nullable(),
  max_output_tokens: z.number().int().nullable(),
  max_tool_calls: z.number().int().nullable(),
  model: z.string(),
  moderation: z.null(),
  output: z.array(z.looseObject({ type: z.string() })),
  parallel_tool_calls: z.boolean(),
  previous_response_id: nullableText,
  prompt: z.looseObject({ id: z.string(), version: z.string(), variables: z.record(z.string(), z.unknown()).nullable() }).nullable(),
  prompt_cache_key: nullableText,
  prompt_cache_retention: nullableText,
  prompt_cache_options: z.looseObject({ ttl: z.string(), mode: z.string() }).nullable(),
  reasoning: z.looseObject({ effort: nullableText, summary: nullableText }),
  safety_identifier: nullableText,
  service_tier: z.string(),
  store: z.boolean(),
  temperature: z.number(),
  text: z.looseObject({ format: z.looseObject({ type: z.string() }) }),
  tool_choice: z.unknown(),
  tools: z.array(z.looseObject({ type: z.string() })),
  top_logprobs: z.number().int(),
  top_p: z.number(),
  presence_penalty: z.number(),
  frequency_penalty: z.number(),
  truncation: z.enum(['auto', 'disabled']),
  usage: usage.nullable(),
  user: nullableText,
  metadata: z.record(z.string(), z.string()),
} satisfies Record<keyof ResponseObject, z.ZodType>;

export const responseObjectSchema = z.looseObject(shape);
