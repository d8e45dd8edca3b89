import { z } from 'zod';
import { defineRoute, documentationOnly, type AnyRoute } from '@rgw/shared';
import type { PromptManager } from './prompt-manager.js';
import { createPromptSchema, getPromptQuerySchema, promptParamsSchema, setDefaultVersionSchema, updatePromptSchema } from './prompt-schema.js';

// Success bodies (Llama Stack's Prompt and ListPromptsResponse).
const prompt = z.looseObject({ prompt_id: z.string(), prompt: z.string().nullable(), version: z.number().int(), variables: z.array(z.string()), is_default: z.boolean() });
const promptList = z.looseObject({ data: z.array(prompt) });

/** The /v1/prompts routes (Llama Stack's Prompts API, an extension to OpenAI's): each calls the manager. */
export function promptRoutes(manager: PromptManager): AnyRoute[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/prompts',
      operationId: 'createPrompt',
      summary: 'Create a prompt template (version 1).',
      body: createPromptSchema,
      bodyPolicy: 'json',
      response: prompt,
      extension: true,
      handler: ({ body, ctx }) => manager.create(ctx, body.prompt, body.variables),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/prompts',
      operationId: 'listPrompts',
      summary: 'List every prompt at its default version.',
      bodyPolicy: 'none',
      response: promptList,
      extension: true,
      handler: ({ ctx }) => manager.list(ctx),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/prompts/:prompt_id',
      operationId: 'getPrompt',
      summary: 'Retrieve a prompt, at its default version or the one asked for.',
      params: promptParamsSchema,
      query: getPromptQuerySchema,
      bodyPolicy: 'none',
      response: prompt,
      extension: true,
      handler: ({ params, query, ctx }) => manager.get(ctx, params.prompt_id, query.version),
    }),
    defineRoute({
      method: 'put',
      path: '/v1/prompts/:prompt_id',
      operationId: 'updatePrompt',
      summary: 'Add a version; `version` must name the latest one.',
      params: promptParamsSchema,
      body: updatePromptSchema,
      bodyPolicy: 'json',
      response: prompt,
      extension: true,
      handler: ({ params, body, ctx }) => manager.update(ctx, params.prompt_id, body),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/prompts/:prompt_id',
      operationId: 'deletePrompt',
      summary: 'Delete a prompt and all its versions.',
      params: promptParamsSchema,
      bodyPolicy: 'none',
      status: 204,
      extension: true,
      handler: async ({ params, ctx }) => {
        await manager.delete(ctx, params.prompt_id);
      },
    }),
    defineRoute({
      method: 'put',
      path: '/v1/prompts/:prompt_id/set-default-version',
      operationId: 'setDefaultPromptVersion',
      summary: 'Make an existing version the default.',
      params: promptParamsSchema,
      body: setDefaultVersionSchema,
      bodyPolicy: 'json',
      response: prompt,
      extension: true,
      handler: ({ params, body, ctx }) => manager.setDefaultVersion(ctx, params.prompt_id, body.version),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/prompts/:prompt_id/versions',
      operationId: 'listPromptVersions',
      summary: 'List every version of a prompt.',
      params: promptParamsSchema,
      bodyPolicy: 'none',
      response: promptList,
      extension: true,
      handler: ({ params, ctx }) => manager.listVersions(ctx, params.prompt_id),
    }),
  ];
}

/** The same routes for the API description only (the gateway documents a service it may only proxy). */
export function promptRouteDocs(): AnyRoute[] {
  return promptRoutes(documentationOnly('the prompts manager'));
}
