// A cycle (safe-json throws our errors), harmless: each side only calls the other at run time.
import { truncate } from './http/safe-json.js';

/**
 * The one place where API errors are defined. Anything thrown as an ApiError is rendered as the
 * OpenAI envelope `{"error":{message,type,param,code}}` by the error middleware (http/error-middleware.ts).
 */
export interface ErrorBody {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  /** Extra response headers, e.g. to mark an error relayed from the model server. */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    message: string,
    opts: { type?: string; param?: string | null; code?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = status;
    this.type = opts.type ?? defaultType(status);
    this.param = opts.param ?? null;
    this.code = opts.code ?? null;
    this.headers = opts.headers ?? {};
  }

  toBody(): { error: ErrorBody } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

function defaultType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export class InvalidRequestError extends ApiError {
  constructor(message: string, param: string | null = null, code: string | null = null) {
    super(400, message, { param, code });
  }
}

export class NotFoundError extends ApiError {
  constructor(message: string, param: string | null = null, code: string | null = null) {
    super(404, message, { param, code });
  }
}

export class ConflictError extends ApiError {
  constructor(message: string, param: string | null = null, code: string | null = null) {
    super(409, message, { param, code });
  }
}

export class PayloadTooLargeError extends ApiError {
  constructor(limitBytes: number) {
    super(413, `Request body is larger than the limit of ${limitBytes} bytes.`, { code: 'request_too_large' });
  }
}

export class ServiceUnavailableError extends ApiError {
  constructor(message: string, code: string | null = 'service_unavailable', headers: Record<string, string> = {}) {
    super(503, message, { code, headers });
  }
}

/** The model server (or another upstream) could not be reached or failed in transport. */
export class BadGatewayError extends ApiError {
  constructor(message: string, code: string | null = 'upstream_unreachable') {
    super(502, message, { code, headers: { 'x-error-source': 'upstream' } });
  }
}

/**
 * One of our own services could not be reached or failed in transport: a 502 that is ours, so it
 * carries no `x-error-source: upstream` (that header is only for model-server failures).
 */
export class ServiceUnreachableError extends ApiError {
  constructor(message: string, code: string | null = 'service_unreachable') {
    super(502, message, { code });
  }
}

/** One of our own services did not answer in time. */
export class GatewayTimeoutError extends ApiError {
  constructor(message: string, code: string | null = 'service_timeout') {
    super(504, message, { code });
  }
}

/** Header set on every error whose status and message come from an upstream model server. */
export const ERROR_SOURCE_HEADER = 'x-error-source';

/**
 * An error relayed from an upstream model server: its status and message are kept, and the
 * `x-error-source: upstream` header and the `upstream:` message prefix tell it apart from ours.
 */
export function upstreamError(providerId: string, status: number, raw: string): ApiError {
  let body: Partial<ErrorBody> = {};
  try {
    const parsed = JSON.parse(raw) as { error?: unknown; message?: unknown; detail?: unknown };
    if (parsed && typeof parsed.error === 'object' && parsed.error) body = parsed.error as Partial<ErrorBody>;
    else if (typeof parsed.error === 'string') body = { message: parsed.error };
    else if (typeof parsed.message === 'string') body = { message: parsed.message };
    else if (typeof parsed.detail === 'string') body = { message: parsed.detail };
  } catch {
    body = { message: raw };
  }
  // Bounded: a model server's message may echo the whole prompt, or be a page of HTML.
  const message = typeof body.message === 'string' && body.message ? truncate(body.message, 2000) : `HTTP ${status}`;
  const relayStatus = status >= 400 && status < 600 ? status : 502;
  return new ApiError(relayStatus, `upstream provider '${providerId}': ${message}`, {
    type: typeof body.type === 'string' ? body.type : relayStatus >= 500 ? 'upstream_error' : 'invalid_request_error',
    param: typeof body.param === 'string' ? body.param : null,
    code: typeof body.code === 'string' ? body.code : null,
    headers: { [ERROR_SOURCE_HEADER]: 'upstream' },
  });
}

export function modelNotFound(model: string): NotFoundError {
  return new NotFoundError(`The model '${truncate(model, 256)}' does not exist or you do not have access to it.`, 'model', 'model_not_found');
}

