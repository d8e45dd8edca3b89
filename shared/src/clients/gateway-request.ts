import { ApiError, GatewayTimeoutError, ServiceUnreachableError } from '../errors.js';
import { REQUEST_ID_HEADER } from '../http/request-id.js';
import { signPrincipal } from '../auth/principal-headers.js';
import { DEFAULT_PROJECT_ID, type Principal } from '../request-context.js';

/** Per-call options of the service clients. */
export interface ClientCallOptions {
  /** Sent as x-request-id so one request can be followed across services. */
  requestId?: string;
  /** Whom the call acts for: sent signed (see auth/principal-headers.ts), so the callee sees the caller's project. */
  principal?: Principal;
  signal?: AbortSignal;
}

/** Where and how a client reaches the public API (the gateway's base URL, read at each call). */
export interface ClientTransport {
  baseUrl: () => string;
  fetch?: typeof fetch;
  /** The internal token that signs the principal; none while the platform runs open. */
  internalToken?: () => string | undefined;
}

export interface GatewayRequest extends ClientCallOptions {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | number | readonly string[] | undefined>;
  body?: unknown;
  /** Names the service in the error when it cannot be reached. */
  service: string;
  headers?: Record<string, string>;
}

/**
 * One JSON call to a public endpoint. An error answer becomes the ApiError the service threw (same
 * status, message, type, param and code), so a caller can rethrow it as its own answer.
 */
export async function gatewayRequest<T>(transport: ClientTransport, req: GatewayRequest): Promise<T> {
  // Relative to the base, so a base URL with a path prefix keeps it.
  const url = new URL(req.path.replace(/^\//, ''), withSlash(transport.baseUrl()));
  for (const [key, value] of Object.entries(req.query ?? {})) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) url.searchParams.append(`${key}[]`, v);
    else url.searchParams.set(key, String(value));
  }
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  if (req.requestId) headers[REQUEST_ID_HEADER] = req.requestId;
  const secret = transport.internalToken?.();
  if (secret) Object.assign(headers, signPrincipal(req.principal ?? { projectId: DEFAULT_PROJECT_ID }, secret));
  if (req.body !== undefined) headers['content-type'] = 'application/json';

  let res: Response;
  try {
    res = await (transport.fetch ?? fetch)(url, {
      method: req.method,
      headers,
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
      signal: req.signal,
    });
  } catch (err) {
    // Our own service failing is ours to report: no `x-error-source: upstream` (that means the model server).
    if (req.signal?.aborted) {
      if ((req.signal.reason as Error | undefined)?.name === 'TimeoutError') throw new GatewayTimeoutError(`The ${req.service} service did not answer in time.`);
      throw err;
    }
    throw new ServiceUnreachableError(`The ${req.service} service is unreachable (${(err as Error).message}).`);
  }
  const text = await res.text();
  if (!res.ok) throw errorFromResponse(res.status, text, req.service);
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ServiceUnreachableError(`The ${req.service} service sent a body that is not JSON.`, 'invalid_service_response');
  }
}

/** Rebuilds our error envelope into an ApiError; a body of another shape keeps at least the status. */
export function errorFromResponse(status: number, body: string, service: string): ApiError {
  let error: { message?: unknown; type?: unknown; param?: unknown; code?: unknown } | undefined;
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (parsed && typeof parsed.error === 'object' && parsed.error !== null) error = parsed.error as typeof error;
  } catch {
    // not JSON: fall through with the status alone
  }
  const message = typeof error?.message === 'string' ? error.message : `The ${service} service answered HTTP ${status}.`;
  return new ApiError(status, message, {
    type: typeof error?.type === 'string' ? error.type : undefined,
    param: typeof error?.param === 'string' ? error.param : null,
    code: typeof error?.code === 'string' ? error.code : null,
  });
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}
