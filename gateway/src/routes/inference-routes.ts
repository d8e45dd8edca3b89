import { z } from 'zod';
import { defineRoute, type AnyRoute } from '@rgw/shared';
import { chatCompletionRequestSchema, embeddingsRequestSchema } from '../inference/inference-schemas.js';

// The model server's answers, relayed untouched: what OpenAI-compatible servers send (the conformance
// suite checks real answers against these and against OpenAI's schemas).
const usage = z.looseObject({ prompt_tokens: z.number().int(), total_tokens: z.number().int() });
const chatCompletion = z.looseObject({
  id: z.string(),
  object: z.literal('chat.completion'),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(z.looseObject({ index: z.number().int(), message: z.looseObject({ role: z.string() }), finish_reason: z.string().nullable() })),
  usage: usage.optional(),
  system_fingerprint: z.string().nullable().optional(),
  service_tier: z.string().nullable().optional(),
});
const embeddingList = z.looseObject({
  object: z.literal('list'),
  data: z.array(z.looseObject({ object: z.literal('embedding'), index: z.number().int(), embedding: z.union([z.array(z.number()), z.string()]) })),
  model: z.string(),
  usage,
});

/**
 * The inference endpoints as data, for the API description only: they are served on the gateway's
 * bare node:http path (gateway.ts), where Express routing would cost more than the whole proxy hop.
 * The body schemas are the very ones that path validates with (pass-through.ts, embeddings.ts), so
 * description and behaviour cannot drift. Success bodies are the model server's, relayed untouched.
 */
export const inferenceRouteDescriptors: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/v1/chat/completions',
    operationId: 'createChatCompletion',
    summary: 'Create a chat completion, routed by `model` to its provider and relayed unbuffered.',
    body: chatCompletionRequestSchema,
    bodyPolicy: 'json',
    response: chatCompletion,
    stream: true,
    mounted: false,
  }),
  defineRoute({
    method: 'post',
    path: '/v1/embeddings',
    operationId: 'createEmbedding',
    summary: 'Create embeddings (`encoding_format` float or base64, whatever the model server supports).',
    body: embeddingsRequestSchema,
    bodyPolicy: 'json',
    response: embeddingList,
    mounted: false,
  }),
];
