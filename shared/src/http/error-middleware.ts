import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { ApiError, InvalidRequestError, NotFoundError, PayloadTooLargeError } from '../errors.js';
import type { Logger } from '../logging.js';

/** Writes an ApiError as the OpenAI envelope. Safe to call when headers may already be out. */
export function sendError(res: Response | import('node:http').ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(err.toBody());
  res.statusCode = err.status;
  for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
  res.setHeader('content-type', 'application/json');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/** Maps anything thrown to an ApiError: body-parser failures are the client's, everything unknown is ours. */
export function toApiError(err: unknown, bodyLimitBytes?: number): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { type?: string; status?: number; limit?: number; message?: string };
  if (e?.type === 'entity.parse.failed') {
    return new InvalidRequestError(`We could not parse the JSON body of your request. (${e.message ?? 'invalid JSON'})`, null, 'invalid_json');
  }
  if (e?.type === 'entity.too.large') return new PayloadTooLargeError(e.limit ?? bodyLimitBytes ?? 0);
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new ApiError(415, e.message ?? 'Unsupported content encoding.', { code: 'unsupported_encoding' });
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return new ApiError(e.status, e.message ?? 'Bad request.');
  }
  return new ApiError(500, 'The server had an error while processing your request.', { code: 'internal_error' });
}

export function errorMiddleware(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const apiError = toApiError(err);
    const log = (res.locals.log as Logger | undefined) ?? logger;
    if (apiError.status >= 500 && !(err instanceof ApiError)) log.error({ err }, 'unhandled error');
    // A 5xx we relay (a model server or a peer failing) is worth an operator's attention; a 4xx is the client's.
    else if (apiError.status >= 500) log.warn({ status: apiError.status, code: apiError.code, msg: apiError.message }, 'request failed');
    else log.debug({ status: apiError.status, msg: apiError.message }, 'request failed');
    sendError(res, apiError);
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new NotFoundError(`Unknown request URL: ${req.method} ${req.originalUrl}.`, null, 'unknown_url'));
};
