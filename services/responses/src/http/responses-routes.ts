import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { listQuerySchema, validate, type Logger } from '@rgw/shared';
import type { ResponsesManager } from '../responses-manager.js';
import { includeSchema } from '../wire/create-response-schema.js';
import { abortOnClientGone, writeEventStream } from './event-stream.js';

// `include` arrives as `include[]=a&include[]=b` (the SDK) or `include=a`.
const includeQuery = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : [v]))
  .pipe(includeSchema)
  .optional();

const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

const retrieveQuery = z.object({
  include: includeQuery,
  stream: booleanQuery.optional(),
  starting_after: z.coerce.number().int().min(-1).optional(),
  include_obfuscation: booleanQuery.optional(),
});

const listQuery = listQuerySchema({ defaultLimit: 50, defaultOrder: 'desc', maxLimit: 100 }).extend({ model: z.string().min(1).optional() });
const inputItemsQuery = listQuerySchema({ defaultLimit: 20, defaultOrder: 'desc', maxLimit: 100 }).extend({ include: includeQuery });

function log(res: Response): Logger {
  return res.locals.log as Logger;
}

/** The HTTP surface of /v1/responses: parse, call the manager, write. */
export function responsesRoutes(manager: ResponsesManager): Router {
  const routes = Router();

  routes.post('/v1/responses/input_tokens', async (req: Request, res: Response) => {
    res.json(await manager.countInputTokens(req.body, res.locals.reqId as string));
  });

  routes.post('/v1/responses', async (req: Request, res: Response) => {
    const { prepared, plan } = await manager.prepare(req.body, res.locals.reqId as string);
    const client = abortOnClientGone(res);
    if (prepared.body.background) {
      const response = await manager.startBackground(prepared);
      // The run belongs to the queue now: a client leaving only stops its view of the stream.
      if (prepared.body.stream) return writeEventStream(res, manager.follow(response.id, client.signal), { holdStart: false, log: log(res) });
      return res.json(response);
    }
    const opts = { signal: client.signal, requestId: res.locals.reqId as string };
    if (prepared.body.stream) return writeEventStream(res, manager.runForeground(prepared, plan, opts), { holdStart: true, log: log(res) });
    res.json(await manager.collect(prepared, plan, opts));
  });

  routes.get('/v1/responses', async (req: Request, res: Response) => {
    const query = validate(listQuery, req.query);
    res.json(await manager.list(query));
  });

  routes.get('/v1/responses/:id', async (req: Request, res: Response) => {
    const query = validate(retrieveQuery, req.query);
    const id = req.params.id as string;
    if (!query.stream) return res.json(await manager.retrieve(id));
    const client = abortOnClientGone(res);
    const events = await manager.stream(id, query.starting_after ?? -1, client.signal);
    await writeEventStream(res, events, { holdStart: false, log: log(res) });
  });

  routes.delete('/v1/responses/:id', async (req: Request, res: Response) => {
    res.json(await manager.delete(req.params.id as string));
  });

  routes.get('/v1/responses/:id/input_items', async (req: Request, res: Response) => {
    const query = validate(inputItemsQuery, req.query);
    res.json(await manager.listInputItems(req.params.id as string, query));
  });

  routes.post('/v1/responses/:id/cancel', async (req: Request, res: Response) => {
    res.json(await manager.cancel(req.params.id as string));
  });

  return routes;
}
