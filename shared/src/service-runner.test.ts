import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Router } from 'express';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { createLogger } from './logging.js';
import type { ServiceFactory, ServiceInstance } from './platform.js';
import type { ServiceSpec } from './service-manifest.js';
import { startService } from './service-runner.js';

const MANIFEST: ServiceSpec[] = [
  { name: 'echo', role: 'api', routes: ['/v1/echo'], defaultPort: 9501, uses: ['database'], dir: 'services/echo' },
  { name: 'indexer', role: 'worker', routes: [], defaultPort: 9502, uses: ['database', 'queue'], dir: 'services/indexer' },
];
const logger = createLogger('runner-test', 'silent');
const config = (env: Record<string, string> = {}) =>
  loadConfig({ HOST: '127.0.0.1', DATA_DIR: mkdtempSync(join(tmpdir(), 'runner-')), GATEWAY_URL: 'http://127.0.0.1:9', ...env });

describe('startService', () => {
  it('runs a worker as its own process: /health and /livez on its port, no routes, its consumers started and stopped', async () => {
    const events: string[] = [];
    const factory: ServiceFactory = async () =>
      ({ name: 'indexer', start: async () => void events.push('start'), close: async () => void events.push('close') }) as unknown as ServiceInstance;
    const service = await startService('indexer', factory, { config: config(), logger, manifest: MANIFEST, port: 0 });
    try {
      const health = await fetch(`${service.url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'OK', service: 'indexer', role: 'worker' });
      expect((await fetch(`${service.url}/livez`)).status).toBe(200);
      expect((await fetch(`${service.url}/v1/echo`)).status).toBe(404);
      expect(events).toEqual(['start']);
    } finally {
      await service.close();
    }
    expect(events).toEqual(['start', 'close']);
  });

  it('serves an api service with the options it was given, and gives the factory no way to guess the gateway', async () => {
    const factory: ServiceFactory<{ word: string }> = async (platform, options) =>
      ({ name: 'echo', routes: Router().get('/v1/echo', (_req, res) => void res.json({ word: options?.word, gateway: platform.gatewayUrl() })) }) as unknown as ServiceInstance;
    const service = await startService('echo', factory, { config: config(), options: { word: 'hi' }, logger, manifest: MANIFEST, port: 0 });
    try {
      expect(await (await fetch(`${service.url}/v1/echo`)).json()).toEqual({ word: 'hi', gateway: 'http://127.0.0.1:9' });
    } finally {
      await service.close();
    }
  });

  it('answers /readyz and /metrics without the internal credential, and /readyz 503 once it is closing', async () => {
    const factory: ServiceFactory = async () => ({ name: 'echo', routes: Router() }) as unknown as ServiceInstance;
    const service = await startService('echo', factory, { config: config({ INTERNAL_TOKEN: 'runner-test-token' }), logger, manifest: MANIFEST, port: 0 });
    let closed: Promise<void> | undefined;
    try {
      expect((await fetch(`${service.url}/v1/echo`)).status).toBe(401);
      const ready = await fetch(`${service.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'OK', service: 'echo' });
      const metrics = await fetch(`${service.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('rgw_http_requests_total{route="unmatched",method="GET",status="401"}');
      // Once close() has begun, /readyz never says 200 again: 503 while draining, then no listener.
      closed = service.close();
      const draining = await fetch(`${service.url}/readyz`).then((r) => r.status, () => 'refused');
      expect([503, 'refused']).toContain(draining);
    } finally {
      await (closed ?? service.close());
    }
  });

  it('refuses to start without GATEWAY_URL instead of calling itself', async () => {
    const factory: ServiceFactory = async () => ({ name: 'echo' }) as unknown as ServiceInstance;
    await expect(startService('echo', factory, { config: config({ GATEWAY_URL: '' }), logger, manifest: MANIFEST, port: 0 })).rejects.toThrow(/GATEWAY_URL is not set/);
  });

  it('refuses a name the manifest does not list', async () => {
    const factory: ServiceFactory = async () => ({ name: 'echo' }) as unknown as ServiceInstance;
    await expect(startService('files', factory, { config: config(), logger, manifest: MANIFEST, port: 0 })).rejects.toThrow(/unknown service 'files'/);
  });
});
