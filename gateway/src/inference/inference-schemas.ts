import { z } from 'zod';

// Inbound checks for the pass-through endpoints: strict on what OpenAI rejects, yet loose objects,
// because unknown extra fields (vendor extensions, new parameters) must reach the model server untouched.

const messageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
});

export const chatCompletionRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).nullish(),
  response_format: z.looseObject({ type: z.string() }).nullish(),
});

// The spec: no empty strings, at most 2048 inputs per request.
const MAX_INPUTS = 2048;
const text = z.string().min(1, 'input cannot be an empty string');
const tokenArray = z.array(z.number().int());

export const embeddingsRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([text, z.array(text).min(1).max(MAX_INPUTS), tokenArray.min(1), z.array(tokenArray.min(1)).min(1).max(MAX_INPUTS)]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().min(1).optional(),
});
