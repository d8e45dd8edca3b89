import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from './registry.js';

const requests = new Counter({
  name: 'rgw_http_requests_total',
  help: 'HTTP requests answered, by route template, method and status',
  labelNames: ['route', 'method', 'status'] as const,
  registers: [metricsRegistry],
});

const duration = new Histogram({
  name: 'rgw_http_request_duration_seconds',
  help: 'Time from request to the end of the response (a stream counts until it ends), by route template, method and status',
  labelNames: ['route', 'method', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [metricsRegistry],
});

const TRACKED = Symbol('rgw.http-tracked');

/**
 * Counts one request when its response closes. Only the first caller per request counts it, so the
 * gateway's outer handler and a service app mounted inside it never count the same request twice.
 * The route label is a template, never the raw path (ids would make a series per object): the Express
 * route that matched (`/v1/responses/:response_id`), else `fallback` (e.g. a proxied service's prefix),
 * else `unmatched`.
 */
export function trackHttpRequest(req: IncomingMessage, res: ServerResponse, fallback?: string): void {
  const marked = req as IncomingMessage & { [TRACKED]?: true };
  if (marked[TRACKED]) return;
  marked[TRACKED] = true;
  const started = process.hrtime.bigint();
  res.once('close', () => {
    const route = routeTemplate(req) ?? fallback ?? 'unmatched';
    // A response closed before its headers went out: the client left first.
    const status = res.headersSent ? String(res.statusCode) : 'aborted';
    const labels = { route, method: req.method ?? 'GET', status };
    requests.inc(labels);
    duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
  });
}

function routeTemplate(req: IncomingMessage): string | undefined {
  const { route, baseUrl } = req as IncomingMessage & { route?: { path?: unknown }; baseUrl?: string };
  return typeof route?.path === 'string' ? `${baseUrl ?? ''}${route.path}` : undefined;
}
