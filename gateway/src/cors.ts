import type { IncomingMessage, ServerResponse } from 'node:http';

/** Headers a browser client may read: the request id and the rate-limit state are the ones it needs. */
const EXPOSED = [
  'x-request-id',
  'retry-after',
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
].join(', ');
const METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * CORS for browser clients, off unless origins are configured (CORS_ALLOWED_ORIGINS). Returns a
 * function that adds the headers to a response from an allowed origin and answers a preflight
 * itself (true: answered, stop there), or undefined when CORS is off, so the hot path pays nothing.
 * Keys travel in the Authorization header, never cookies, so credentials are not allowed.
 */
export function corsPolicy(allowed: readonly string[]): ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined {
  if (!allowed.length) return undefined;
  const any = allowed.includes('*');
  const origins = new Set(allowed);
  return (req, res) => {
    const origin = req.headers.origin;
    if (!origin) return false;
    const permitted = any || origins.has(origin);
    if (permitted) {
      res.setHeader('access-control-allow-origin', any ? '*' : origin);
      if (!any) res.setHeader('vary', 'Origin');
      res.setHeader('access-control-expose-headers', EXPOSED);
    }
    if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) return false;
    // A preflight: answered here, before authentication (browsers send it without the key). A
    // refused origin gets no CORS headers, which is how a browser learns it may not call.
    if (permitted) {
      res.setHeader('access-control-allow-methods', METHODS);
      const asked = req.headers['access-control-request-headers'];
      if (asked) res.setHeader('access-control-allow-headers', asked);
      res.setHeader('access-control-max-age', '600');
    }
    res.statusCode = 204;
    res.setHeader('content-length', '0');
    res.end();
    return true;
  };
}
