import { Router } from 'express';
import { livenessHandler, platformHealth, withTimeout, type DependencyStatus, type Platform, type ServiceName } from '@rgw/shared';

/**
 * GET /health and /v1/health: `{status, dependencies}`. The platform's own parts and every remote
 * service are required (503 when one is down); providers are reported but not required, since the
 * others keep serving when one model server is away.
 */
export function healthRoutes(platform: Platform, remoteServices: Partial<Record<ServiceName, string>>): Router {
  const router = Router();
  const handler = async (_req: unknown, res: import('express').Response) => {
    const [own, providers, services] = await Promise.all([
      platformHealth(platform),
      platform.catalog.providerStatus().catch(() => ({})),
      remoteStatus(remoteServices),
    ]);
    const required = [...Object.values(own), ...Object.values(services)];
    const ok = required.every((d) => d.status === 'OK');
    res.status(ok ? 200 : 503).json({ status: ok ? 'OK' : 'Error', dependencies: { ...own, services, providers } });
  };
  router.get('/livez', livenessHandler);
  router.get('/health', handler);
  router.get('/v1/health', handler);
  return router;
}

async function remoteStatus(urls: Partial<Record<ServiceName, string>>): Promise<Record<string, DependencyStatus>> {
  const entries = await Promise.all(
    Object.entries(urls).map(async ([name, url]): Promise<[string, DependencyStatus]> => {
      try {
        const res = await withTimeout(fetch(new URL('/health', url)), 2000);
        return [name, res.ok ? { status: 'OK', kind: 'remote' } : { status: 'Error', kind: 'remote', error: `HTTP ${res.status}` }];
      } catch (err) {
        return [name, { status: 'Error', kind: 'remote', error: (err as Error).message }];
      }
    }),
  );
  return Object.fromEntries(entries);
}
