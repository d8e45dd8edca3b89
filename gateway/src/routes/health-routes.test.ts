import express from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { listen, placeServices, type Platform, type RunningServer, type ServiceSpec } from '@rgw/shared';
import { healthRoutes } from './health-routes.js';

const MANIFEST: ServiceSpec[] = [
  { name: 'chatty', role: 'api', routes: ['/v1/chatty'], defaultPort: 9201, uses: ['database', 'queue'], dir: 'services/chatty' },
  { name: 'quiet', role: 'api', routes: ['/v1/quiet'], defaultPort: 9202, uses: ['database'], dir: 'services/quiet' },
  { name: 'indexer', role: 'worker', routes: [], defaultPort: 9203, uses: ['database', 'queue'], dir: 'services/indexer' },
];

function fakePlatform(down: Partial<Record<'database' | 'cache' | 'queue', boolean>>): Platform {
  const part = (kind: string, isDown?: boolean) => ({
    kind,
    dialect: kind,
    ping: async () => {
      if (isDown) throw new Error(`${kind} is down`);
    },
  });
  return {
    database: part('postgres', down.database),
    cache: part('redis', down.cache),
    queue: part('amqp', down.queue),
    objects: part('disk'),
    catalog: { providerStatus: async () => ({}) },
  } as unknown as Platform;
}

const servers: RunningServer[] = [];
afterAll(() => Promise.all(servers.map((s) => s.close(100))));

async function health(platform: Platform, serviceUrls: Record<string, string>, workers: 'in-process' | 'external' = 'external') {
  const app = express().use(healthRoutes(platform, placeServices(MANIFEST, { serviceUrls, workers })));
  const server = await listen(app, 0, '127.0.0.1');
  servers.push(server);
  const res = await fetch(`${server.url}/health`);
  return { status: res.status, body: (await res.json()) as any };
}

describe('gateway /health', () => {
  it('answers 200 Degraded, naming it, when a proxied service is down: the rest still serve', async () => {
    const { status, body } = await health(fakePlatform({}), { chatty: 'http://127.0.0.1:9', quiet: 'http://127.0.0.1:9' });
    expect(status).toBe(200);
    expect(body.status).toBe('Degraded');
    expect(body.dependencies.services.chatty).toMatchObject({ status: 'Error', kind: 'remote', placement: 'proxied' });
    expect(body.proxied).toEqual(['chatty', 'quiet']);
    expect(body.mounted).toEqual([]);
    expect(body.workers).toEqual({ 'in-process': [], external: ['indexer'] });
  });

  it('stays OK when the queue is down but nothing running in the gateway uses it', async () => {
    const { status, body } = await health(fakePlatform({ queue: true }), { chatty: 'http://127.0.0.1:9' }, 'external');
    // chatty (the queue user) is proxied and down, quiet is mounted and only needs the database.
    expect(status).toBe(200);
    expect(body.dependencies.queue).toMatchObject({ status: 'Error', required: false });
    expect(body.mounted).toEqual(['quiet']);
  });

  it('is 503 when a part that a mounted service or an in-process worker uses is down', async () => {
    const mounted = await health(fakePlatform({ queue: true }), {}, 'external');
    expect(mounted.status).toBe(503);
    expect(mounted.body.status).toBe('Error');
    const worker = await health(fakePlatform({ queue: true }), { chatty: 'http://127.0.0.1:9' }, 'in-process');
    expect(worker.status).toBe(503);
  });

  it('is 503 when the cache the gateway itself uses (model catalog) is down', async () => {
    const { status, body } = await health(fakePlatform({ cache: true }), { chatty: 'http://127.0.0.1:9', quiet: 'http://127.0.0.1:9' });
    expect(status).toBe(503);
    expect(body.dependencies.cache.status).toBe('Error');
  });
});

describe('gateway /readyz', () => {
  async function readyz(platform: Platform, serviceUrls: Record<string, string>, draining = false) {
    const app = express().use(healthRoutes(platform, placeServices(MANIFEST, { serviceUrls, workers: 'external' }), () => draining));
    const server = await listen(app, 0, '127.0.0.1');
    servers.push(server);
    const res = await fetch(`${server.url}/readyz`);
    return { status: res.status, body: (await res.json()) as any };
  }

  it('is ready while every proxied service is down: the gateway can still take traffic', async () => {
    const { status, body } = await readyz(fakePlatform({}), { chatty: 'http://127.0.0.1:9', quiet: 'http://127.0.0.1:9' });
    expect(status).toBe(200);
    expect(body.status).toBe('OK');
    expect(body.dependencies.services).toBeUndefined();
  });

  it('is not ready when its own cache, or a part a mounted service uses, is down', async () => {
    expect((await readyz(fakePlatform({ cache: true }), { chatty: 'http://127.0.0.1:9', quiet: 'http://127.0.0.1:9' })).status).toBe(503);
    expect((await readyz(fakePlatform({ database: true }), { chatty: 'http://127.0.0.1:9' })).status).toBe(503);
  });

  it('is not ready once shutdown has begun', async () => {
    const { status, body } = await readyz(fakePlatform({}), {}, true);
    expect(status).toBe(503);
    expect(body.closing).toBe(true);
  });
});
