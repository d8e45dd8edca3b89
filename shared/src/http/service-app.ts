import express, { type Express, type RequestHandler, type Response, type Router } from 'express';
import type { Logger } from '../logging.js';
import type { RequestContext } from '../request-context.js';
import { ApiError } from '../errors.js';
import { verifyPrincipal } from '../auth/principal-headers.js';
import { lingerAfterEarlyAnswer } from './body-policy.js';
import { assignRequestId } from './request-id.js';
import { errorMiddleware, notFoundHandler } from './error-middleware.js';
import { trackHttpRequest } from '../metrics/http-metrics.js';
import { usageOf } from '../metrics/model-metrics.js';

/**
 * Builds the request context once per request (res.locals.ctx; the request id also as
 * res.locals.reqId), attaches a child logger (res.locals.log), logs one line per finished request,
 * and makes sure an answer given before the body was read reaches the client.
 */
export function requestContext(logger: Logger, opts: { internalToken?: string } = {}): RequestHandler {
  return (req, res, next) => {
    const reqId = assignRequestId(req, res);
    const log = logger.child({ reqId });
    // The gateway authenticated the caller and signed who it is; with an internal token configured a
    // request without a valid signature did not come through the gateway (or a service) and is refused.
    const principal = opts.internalToken ? verifyPrincipal(req.headers, opts.internalToken) : undefined;
    const ctx: RequestContext = { requestId: reqId, principal };
    res.locals.ctx = ctx;
    res.locals.log = log;
    res.locals.reqId = reqId;
    const started = process.hrtime.bigint();
    trackHttpRequest(req, res);
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      // The model and tokens of an inference call, when a handler recorded them (countTokens).
      log.info({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(ms * 10) / 10, ...usageOf(res) }, 'request');
    });
    lingerAfterEarlyAnswer(req, res);
    if (opts.internalToken && !principal && !PROBE_PATHS.has(req.path)) {
      return next(new ApiError(401, 'This service only takes requests through the gateway: the internal credential is missing or invalid.', { code: 'invalid_internal_credential' }));
    }
    next();
  };
}

/** Probes answer without credentials: orchestrators call them directly. */
const PROBE_PATHS = new Set(['/health', '/livez', '/readyz', '/metrics']);

/** The request context the requestContext middleware built for this request. */
export function requestContextOf(res: Response): RequestContext {
  return (res.locals.ctx as RequestContext | undefined) ?? { requestId: String(res.locals.reqId ?? '') };
}

export interface ServiceAppOptions {
  logger: Logger;
  /** Kept for callers; each route reads its body by its own policy and limit (register-routes.ts). */
  bodyLimitBytes: number;
  routes: Router;
  /** INTERNAL_TOKEN: when set, every request but the probes must carry a principal signed with it. */
  internalToken?: string;
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
  // No ETag on API replies (OpenAI sends none): hashing every JSON body was ~4 % of a response's CPU.
  app.disable('etag');
  app.set('query parser', 'extended');
  app.use(requestContext(opts.logger, { internalToken: opts.internalToken }));
  app.use(opts.routes);
  app.use(notFoundHandler);
  app.use(errorMiddleware(opts.logger));
  return app;
}
