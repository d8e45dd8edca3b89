import express, { type Express, type RequestHandler, type Router } from 'express';
import type { Logger } from '../logging.js';
import { assignRequestId } from './request-id.js';
import { errorMiddleware, notFoundHandler } from './error-middleware.js';

/** Attaches the request id and a child logger (res.locals.log), and logs one line per finished request. */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const reqId = assignRequestId(req, res);
    const log = logger.child({ reqId });
    res.locals.log = log;
    res.locals.reqId = reqId;
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
    });
    next();
  };
}

export interface ServiceAppOptions {
  logger: Logger;
  bodyLimitBytes: number;
  routes: Router;
}

/**
 * The Express app of one service: request context, its own JSON body parser (nothing parses bodies
 * in front of it, so the same app works mounted in-process or behind the gateway's proxy), the routes,
 * then the 404 and error envelope.
 *
 * Every body is parsed as JSON whatever its content type, as the OpenAI API does: a form or text body
 * must be a 400 `invalid_json`, not silently ignored (which would create resources from nothing). A
 * request without a body (no content-length, no transfer-encoding) is skipped and keeps `req.body`
 * undefined; an empty body parses as `{}`.
 */
export function createServiceApp(opts: ServiceAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.use(requestContext(opts.logger));
  app.use(express.json({ limit: opts.bodyLimitBytes, strict: false, type: () => true }));
  app.use(opts.routes);
  app.use(notFoundHandler);
  app.use(errorMiddleware(opts.logger));
  return app;
}
