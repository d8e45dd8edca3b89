import express, { type Express, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from '../logging.js';
import type { RequestContext } from '../request-context.js';
import { lingerAfterEarlyAnswer } from './body-policy.js';
import { assignRequestId } from './request-id.js';
import { errorMiddleware, notFoundHandler } from './error-middleware.js';

/**
 * Builds the request context once per request (res.locals.ctx; the request id also as
 * res.locals.reqId), attaches a child logger (res.locals.log), logs one line per finished request,
 * and makes sure an answer given before the body was read reaches the client.
 */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const reqId = assignRequestId(req, res);
    const log = logger.child({ reqId });
    // The principal joins here once API keys exist.
    const ctx: RequestContext = { requestId: reqId };
    res.locals.ctx = ctx;
    res.locals.log = log;
    res.locals.reqId = reqId;
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    lingerAfterEarlyAnswer(req, res);
    next();
  };
}

/** The request context the requestContext middleware built for this request. */
export function requestContextOf(res: Response): RequestContext {
  return (res.locals.ctx as RequestContext | undefined) ?? { requestId: String(res.locals.reqId ?? '') };
}

export interface ServiceAppOptions {
  logger: Logger;
  /** Kept for callers; each route reads its body by its own policy and limit (register-routes.ts). */
  bodyLimitBytes: number;
  routes: Router;
}

/**
 * The Express app of one service: request context, the routes, then the 404 and error envelope.
 * Nothing parses bodies here: each route declares its body policy (json, multipart, none) and
 * reads its body itself, so the same app works mounted in-process or behind the gateway's proxy,
 * and an upload is never buffered by a parser in front of it.
 */
export function createServiceApp(opts: ServiceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.use(requestContext(opts.logger));
  app.use(opts.routes);
  app.use(notFoundHandler);
  app.use(errorMiddleware(opts.logger));
  return app;
}
