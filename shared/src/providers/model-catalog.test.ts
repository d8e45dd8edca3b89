import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockModelServer } from '../../../test/support/mock-model-server.js';
import { MemoryCache } from '../cache/memory-cache.js';
import type { ProviderConfig } from '../config.js';
import { ApiError } from '../errors.js';
import { createLogger } from '../logging.js';
import { ModelCatalog } from './model-catalog.js';

const log = createLogger('catalog-test', 'silent');
let a: MockModelServer;
let b: MockModelServer;
const provider = (id: string, baseUrl: string, extra: Partial<ProviderConfig> = {}): ProviderConfig => ({ id, baseUrl, models: [], listModels: true, ...extra });

beforeAll(async () => {
  a = await MockModelServer.start({ models: ['shared', 'only-a'] });
  b = await MockModelServer.start({ models: ['shared', 'only-b'] });
});
afterAll(async () => {
  await a.close();
  await b.close();
});

describe('ModelCatalog', () => {
  it('routes plain ids to the first provider offering them and qualified ids to the named one', async () => {
    const cat = new ModelCatalog([provider('a', a.url), provider('b', b.url, { models: ['static-b'] })], new MemoryCache(), 60_000, log);
    expect((await cat.resolve('shared')).provider.id).toBe('a');
    expect(await cat.resolve('b/shared')).toMatchObject({ provider: { id: 'b' }, upstreamModel: 'shared' });
    expect((await cat.resolve('only-b')).provider.id).toBe('b');
    expect((await cat.resolve('static-b')).provider.id).toBe('b');
    const ids = (await cat.list()).map((m) => m.id);
    expect(ids).toEqual(['shared', 'only-a', 'static-b', 'only-b', 'a/shared', 'b/shared']);
  });

  it('answers unknown ids with a 404 model_not_found, also for a provider that does not offer them', async () => {
    const cat = new ModelCatalog([provider('a', a.url)], new MemoryCache(), 60_000, log);
    for (const id of ['nope', 'a/only-b', 'zzz/shared']) {
      const err = (await cat.resolve(id).catch((e: unknown) => e)) as ApiError;
      expect(err).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });
    }
  });

  it('keeps listing the others when one provider is down, and still routes explicit ids to it', async () => {
    const cat = new ModelCatalog([provider('down', 'http://127.0.0.1:9/v1'), provider('a', a.url)], new MemoryCache(), 60_000, log);
    expect((await cat.list()).map((m) => m.id)).toEqual(['shared', 'only-a']);
    expect((await cat.resolve('down/anything')).upstreamModel).toBe('anything');
    expect((await cat.providerStatus()).down!.status).toBe('Error');
    const err = (await cat.resolve('ghost').catch((e: unknown) => e)) as ApiError;
    expect(err.status).toBe(404);
    expect(err.message).toContain("'down'");
  });

  it('asks each provider once per TTL, through the shared cache', async () => {
    const cache = new MemoryCache();
    const before = a.requests.filter((r) => r.path === '/v1/models').length;
    const one = new ModelCatalog([provider('a', a.url)], cache, 60_000, log);
    const two = new ModelCatalog([provider('a', a.url)], cache, 60_000, log);
    await Promise.all([one.list(), one.list(), one.resolve('shared')]);
    await two.list(); // a second process sharing the cache (Redis in distributed mode)
    expect(a.requests.filter((r) => r.path === '/v1/models').length - before).toBe(1);
  });

  it('says which setting to configure when there is no provider', async () => {
    const cat = new ModelCatalog([], new MemoryCache(), 60_000, log);
    expect(await cat.list()).toEqual([]);
    const err = (await cat.resolve('x').catch((e: unknown) => e)) as ApiError;
    expect(err).toMatchObject({ status: 503, code: 'no_provider_configured' });
    expect(err.message).toContain('BACKEND_BASE_URL');
  });
});
