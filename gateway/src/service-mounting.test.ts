import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Router } from 'express';
import { describe, expect, it } from 'vitest';
import { createLogger, loadConfig, SERVICE_MANIFEST, type ServiceFactory, type ServiceInstance, type ServiceName, type ServiceSpec } from '@rgw/shared';
import { startGateway, type GatewayServices } from './gateway.js';
import { checkFactories, SERVICE_FACTORIES } from './service-registry.js';

// A manifest with an api service and a worker that are not real services: the gateway's machinery
// must run them from the manifest alone.
const MANIFEST: ServiceSpec[] = [
  { name: 'echo', role: 'api', routes: ['/v1/echo'], defaultPort: 9301, uses: ['database'], dir: 'services/echo' },
  { name: 'indexer', role: 'worker', routes: [], defaultPort: 9302, uses: ['database', 'queue'], dir: 'services/indexer' },
];

function dummyServices() {
  const events: string[] = [];
  const instance = (name: string, routes?: Router): ServiceInstance => ({
    name: name as ServiceName,
    routes,
    start: async () => void events.push(`${name} started`),
    close: async () => void events.push(`${name} closed`),
  });
  const factories: Record<string, ServiceFactory<{ greeting?: string }>> = {
    echo: async (_platform, options) => {
      events.push('echo created');
      const routes = Router().get('/v1/echo', (_req, res) => void res.json({ greeting: options?.greeting ?? 'none' }));
      return instance('echo', routes);
    },
    indexer: async () => {
      events.push('indexer created');
      return instance('indexer');
    },
  };
  const services: GatewayServices = { manifest: MANIFEST, factories, options: { echo: { greeting: 'hi' } } };
  return { events, services };
}

const logger = createLogger('mount-test', 'silent');
const config = (env: Record<string, string> = {}) => loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(join(tmpdir(), 'gw-mount-')), ...env });

describe('the gateway runs what the manifest lists', () => {
  it('embedded: mounts the api service (with its options) and starts the worker in-process', async () => {
    const { events, services } = dummyServices();
    const gateway = await startGateway(config(), { logger, services });
    try {
      expect(gateway.mounted).toEqual(['echo']);
      expect(gateway.placements.map((p) => p.placement)).toEqual(['mounted', 'in-process']);
      expect(await (await fetch(`${gateway.url}/v1/echo`)).json()).toEqual({ greeting: 'hi' });
      expect(events).toEqual(['echo created', 'indexer created', 'echo started', 'indexer started']);
      const health = (await (await fetch(`${gateway.url}/health`)).json()) as any;
      expect(health).toMatchObject({ status: 'OK', mounted: ['echo'], proxied: [], workers: { 'in-process': ['indexer'], external: [] } });
    } finally {
      await gateway.close();
    }
    expect(events.slice(-2)).toEqual(['echo closed', 'indexer closed']);
  });

  it('refuses to start with keys, a service in another process and no INTERNAL_TOKEN', async () => {
    const { services } = dummyServices();
    await expect(startGateway(config({ API_KEYS: 'some-key-1', WORKERS: 'external' }), { logger, services })).rejects.toThrow(/INTERNAL_TOKEN is not set/);
  });

  it('with keys and everything in-process, makes an internal token up and requires a key on every route but the probes', async () => {
    const { services } = dummyServices();
    const gateway = await startGateway(config({ API_KEYS: 'some-key-1' }), { logger, services });
    try {
      expect(gateway.platform.config.internalToken).toMatch(/^[\w-]{40,}$/);
      expect((await fetch(`${gateway.url}/v1/echo`)).status).toBe(401);
      expect(await (await fetch(`${gateway.url}/v1/echo`, { headers: { authorization: 'Bearer some-key-1' } })).json()).toEqual({ greeting: 'hi' });
      expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });

  it('WORKERS=external: the worker runs elsewhere, so the gateway does not even create it', async () => {
    const { events, services } = dummyServices();
    const gateway = await startGateway(config({ WORKERS: 'external' }), { logger, services });
    try {
      expect(gateway.placements.map((p) => p.placement)).toEqual(['mounted', 'external']);
      expect(events).toEqual(['echo created', 'echo started']);
    } finally {
      await gateway.close();
    }
  });

  it('refuses to start when the factories and the manifest differ', async () => {
    const { services } = dummyServices();
    const { indexer: _dropped, ...factories } = services.factories;
    await expect(startGateway(config(), { logger, services: { ...services, factories } })).rejects.toThrow(/no factory for indexer/);
    await expect(startGateway(config(), { logger, services: { ...services, factories: { ...services.factories, extra: services.factories.echo! } } })).rejects.toThrow(
      /manifest does not list: extra/,
    );
  });

  it('the real registry matches the real manifest', () => {
    expect(() => checkFactories(SERVICE_MANIFEST, SERVICE_FACTORIES)).not.toThrow();
  });
});
