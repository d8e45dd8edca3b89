import { Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestHandler } from 'express';

/**
 * The one Prometheus registry of a process. Process-wide on purpose: embedded, the gateway and every
 * mounted service share a process and so a scrape; distributed, each process has its own. Every
 * metric name starts with `rgw_` so a shared Prometheus can tell them from other exporters'.
 */
export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'rgw_' });

/** GET /metrics: the Prometheus text format. Unauthenticated like the other probes (keep the port internal). */
export const metricsHandler: RequestHandler = (_req, res, next) => {
  metricsRegistry.metrics().then((text) => {
    res.setHeader('content-type', metricsRegistry.contentType);
    res.end(text);
  }, next);
};
