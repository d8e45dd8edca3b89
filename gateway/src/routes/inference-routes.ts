import { defineRoute, type AnyRoute } from '@rgw/shared';
import { chatCompletionRequestSchema, embeddingsRequestSchema } from '../inference/inference-schemas.js';

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
    mounted: false,
  }),
];
