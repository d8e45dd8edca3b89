import { Router, type Response } from 'express';
import {
  GATEWAY_USES,
  livenessHandler,
  metricsHandler,
  processHealth,
  withTimeout,
  type DependencyStatus,
  type PlacedService,
  type Platform,
  type PlatformPart,
} from '@rgw/shared';

/** A service as the gateway's /health reports it: where it runs and, for a proxied one, its own health. */
export interface ServiceHealth extends DependencyStatus {
  placement: PlacedService['placement'];
}

/**
 * GET /health and /v1/health: `{status, dependencies, mounted, proxied, workers}`.
 * - 503 `Error` only when a platform part that this process uses is down (the gateway's cache, plus
 *   what its mounted services and in-process workers use); a part nobody here uses is reported only.
 * - A proxied service that is down makes it 200 `Degraded`, not 503: used as a readiness probe, a 503
 *   would take chat, models and every other service down with the one that failed.
 * - Providers are reported, never required (the others keep serving when one model server is away).
 */
export function healthRoutes(platform: Platform, placements: readonly PlacedService[], draining: () => boolean = () => false): Router {
  const local = placements.filter((p) => p.placement === 'mounted' || p.placement === 'in-process');
  const uses = new Set<PlatformPart>([...GATEWAY_USES, ...local.flatMap((p) => p.spec.uses)]);
  const router = Router();
  const handler = async (_req: unknown, res: Response) => {
    const [own, providers, services] = await Promise.all([
      processHealth(platform, uses),
      platform.catalog.providerStatus().catch(() => ({})),
      servicesHealth(placements),
    ]);
    const servicesOk = Object.values(services).every((s) => s.status === 'OK');
    const status = !own.ok ? 'Error' : servicesOk ? 'OK' : 'Degraded';
    const names = (...wanted: PlacedService['placement'][]) => placements.filter((p) => wanted.includes(p.placement)).map((p) => p.spec.name);
    res.status(own.ok ? 200 : 503).json({
      status,
      dependencies: { ...own.dependencies, services, providers },
      mounted: names('mounted'),
      proxied: names('proxied'),
      workers: { 'in-process': names('in-process'), external: names('external') },
    });
  };
  // GET /readyz, for readiness probes: this process can take traffic. Only what it serves itself
  // counts (its cache, and the parts its mounted services and in-process workers use); proxied
  // services and model servers never do, so one service down does not pull every gateway pod out of
  // its Service and take chat, models and embeddings down with it. 503 once shutdown has begun.
  router.get('/readyz', async (_req, res) => {
    if (draining()) return void res.status(503).json({ status: 'Error', closing: true });
    const own = await processHealth(platform, uses);
    res.status(own.ok ? 200 : 503).json({ status: own.ok ? 'OK' : 'Error', dependencies: own.dependencies });
  });
  router.get('/metrics', metricsHandler);
  router.get('/livez', livenessHandler);
  router.get('/health', handler);
  router.get('/v1/health', handler);
  return router;
}

/**
 * Every service of the manifest: a proxied one by asking its /health; one running here is as healthy
 * as this process; an external worker is not reachable from here (its own /health is for its probes).
 */
async function servicesHealth(placements: readonly PlacedService[]): Promise<Record<string, ServiceHealth>> {
  const entries = await Promise.all(
    placements.map(async ({ spec, placement, url }): Promise<[string, ServiceHealth]> => {
      if (placement !== 'proxied') return [spec.name, { status: 'OK', kind: spec.role, placement }];
      try {
        const res = await withTimeout(fetch(new URL('/health', url)), 2000);
        await res.body?.cancel();
        return [spec.name, res.ok ? { status: 'OK', kind: 'remote', placement } : { status: 'Error', kind: 'remote', placement, error: `HTTP ${res.status}` }];
      } catch (err) {
        return [spec.name, { status: 'Error', kind: 'remote', placement, error: (err as Error).message }];
      }
    }),
  );
  return Object.fromEntries(entries);
}
