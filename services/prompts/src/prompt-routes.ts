import { Router, type Request } from 'express';
import { jsonObjectBody, validate } from '@rgw/shared';
import type { PromptManager } from './prompt-manager.js';
import { checkPromptId, createPromptSchema, getPromptQuerySchema, setDefaultVersionSchema, updatePromptSchema } from './prompt-schema.js';

/** The /v1/prompts routes (Llama Stack's Prompts API): each handler validates, calls the manager, answers. */
export function promptRoutes(manager: PromptManager): Router {
  const router = Router();

  router.post('/v1/prompts', async (req, res) => {
    const body = validate(createPromptSchema, jsonObjectBody(req));
    res.json(await manager.create(body.prompt, body.variables));
  });

  router.get('/v1/prompts', async (_req, res) => {
    res.json(await manager.list());
  });

  router.get('/v1/prompts/:prompt_id', async (req, res) => {
    const id = promptId(req);
    const query = validate(getPromptQuerySchema, req.query);
    res.json(await manager.get(id, query.version));
  });

  router.put('/v1/prompts/:prompt_id', async (req, res) => {
    const id = promptId(req);
    res.json(await manager.update(id, validate(updatePromptSchema, jsonObjectBody(req))));
  });

  router.delete('/v1/prompts/:prompt_id', async (req, res) => {
    await manager.delete(promptId(req));
    res.status(204).end();
  });

  router.put('/v1/prompts/:prompt_id/set-default-version', async (req, res) => {
    const id = promptId(req);
    const body = validate(setDefaultVersionSchema, jsonObjectBody(req));
    res.json(await manager.setDefaultVersion(id, body.version));
  });

  router.get('/v1/prompts/:prompt_id/versions', async (req, res) => {
    res.json(await manager.listVersions(promptId(req)));
  });

  return router;
}

function promptId(req: Request): string {
  return checkPromptId(req.params.prompt_id as string);
}
