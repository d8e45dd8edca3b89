import { Router } from 'express';
import type { ModelCatalog } from '@rgw/shared';
import { noProviderError } from '@rgw/shared';

/** GET /v1/models and GET /v1/models/{id}; ids may contain slashes (`provider/model`, `org/model`). */
export function modelsRoutes(catalog: ModelCatalog): Router {
  const router = Router();
  router.get('/v1/models', async (_req, res) => {
    res.json({ object: 'list', data: await catalog.list() });
  });
  router.get(/^\/v1\/models\/(.+)$/, async (req, res) => {
    if (!catalog.hasProviders) throw noProviderError();
    // Express has already decoded the parameter; decoding again would misread ids containing '%'.
    const id = (req.params as Record<string, string>)[0]!;
    res.json(await catalog.retrieve(id));
  });
  return router;
}
