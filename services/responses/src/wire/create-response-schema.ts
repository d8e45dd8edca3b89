import { z } from 'zod';
import { INCLUDE_VALUES, metadataSchema } from '@rgw/shared';
import { reasoningParamSchema, textParamSchema, toolChoiceSchema, toolSchema } from './tool-schema.js';

// POST /v1/responses (spec: CreateResponse, plus Open Responses' presence/frequency penalties).
// Strict: an unknown top-level parameter is a 400 naming it, as OpenAI answers.

export { INCLUDE_VALUES, metadataSchema } from '@rgw/shared';

export const includeSchema = z.array(z.enum(INCLUDE_VALUES));

const serviceTier = z.enum(['auto', 'default', 'flex', 'scale', 'priority', 'fast', 'ultrafast']);

/** Fields shared by CreateResponse and the input-token count body. */
const contextFields = {
  model: z.string().min(1),
  // Items are validated one by one afterwards (request/normalize-input.ts) so errors name `input[i].field`.
  input: z.union([z.string(), z.array(z.unknown())]).nullish(),
  instructions: z.string().nullish(),
  previous_response_id: z.string().min(1).nullish(),
  tools: z.array(toolSchema).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  text: textParamSchema.nullish(),
  reasoning: reasoningParamSchema.nullish(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
  // spec: ConversationParam (an id, or `{id}`); the id's shape is checked in context/conversation-source.ts.
  conversation: z.union([z.string().min(1), z.strictObject({ id: z.string().min(1) })]).nullish(),
};

export const createResponseSchema = z.strictObject({
  ...contextFields,
  metadata: metadataSchema.nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  user: z.string().nullish(),
  safety_identifier: z.string().max(64).nullish(),
  prompt_cache_key: z.string().nullish(),
  prompt_cache_retention: z.enum(['in_memory', '24h']).nullish(),
  // spec: PromptCacheOptionsParam.
  prompt_cache_options: z.strictObject({ ttl: z.enum(['30m']).optional(), mode: z.enum(['implicit', 'explicit']).optional() }).nullish(),
  background: z.boolean().nullish(),
  max_tool_calls: z.number().int().min(1).nullish(),
  // spec: Prompt. Variable values are checked against the stored prompt (context/prompt-source.ts).
  prompt: z
    .strictObject({
      id: z.string().min(1),
      version: z.string().min(1).nullish(),
      variables: z.record(z.string(), z.unknown()).nullish(),
    })
    .nullish(),
  service_tier: serviceTier.nullish(),
  include: includeSchema.nullish(),
  store: z.boolean().nullish(),
  moderation: z.unknown().optional(),
  stream: z.boolean().nullish(),
  stream_options: z.strictObject({ include_obfuscation: z.boolean().optional() }).nullish(),
  context_management: z.array(z.unknown()).min(1).nullish(),
  max_output_tokens: z.number().int().min(16).nullish(),
});

export type CreateResponseBody = z.output<typeof createResponseSchema>;

/** POST /v1/responses/input_tokens (spec: TokenCountsBody). */
export const inputTokensSchema = z.strictObject({
  ...contextFields,
  model: z.string().min(1).nullish(),
  personality: z.unknown().optional(),
});

export type InputTokensBody = z.output<typeof inputTokensSchema>;
