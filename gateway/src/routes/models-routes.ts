import type { Router } from 'express';
import { z } from 'zod';
import { defineRoute, noProviderError, routerFor, urlTextSchema, type AnyRoute, type ModelCatalog } from '@rgw/shared';

const model = z.looseObject({ id: z.string(), object: z.literal('model'), created: z.number(), owned_by: z.string() });

/** GET /v1/models and GET /v1/models/{model}; ids may contain slashes (`provider/model`, `org/model`). */
export function modelsRouteDescriptors(catalog: ModelCatalog): AnyRoute[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/models',
      operationId: 'listModels',
      summary: 'List the models of every provider.',
      bodyPolicy: 'none',
      response: z.looseObject({ object: z.literal('list'), data: z.array(model) }),
      handler: async () => ({ object: 'list', data: await catalog.list() }),
    }),
    defineRoute({
      method: 'get',
      // The rest of the path: `org/model` is one id. Express has already decoded it; decoding again
      // would misread ids containing '%'.
      path: '/v1/models/*model',
      operationId: 'retrieveModel',
      summary: 'Retrieve a model by plain or provider-qualified id.',
      params: z.object({ model: urlTextSchema() }),
      bodyPolicy: 'none',
      response: model,
      handler: ({ params }) => {
        if (!catalog.hasProviders) throw noProviderError();
        return catalog.retrieve(params.model);
      },
    }),
  ];
}

/** The models routes as mounted by the gateway (no route here reads a body). */
export function modelsRoutes(catalog: ModelCatalog, bodyLimitBytes = 0): Router {
  return routerFor(modelsRouteDescriptors(catalog), { bodyLimitBytes });
}
