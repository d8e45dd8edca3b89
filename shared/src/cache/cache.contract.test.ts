import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { available, TEST_REDIS_URL } from '../../../test/support/backing-services.js';
import type { Cache } from './cache.js';
import { MemoryCache } from './memory-cache.js';
import { RedisCache } from './redis-cache.js';

// One contract, every adapter: what the model catalog relies on.
const adapters: [string, () => Promise<Cache>][] = [['memory', async () => new MemoryCache()]];
if (await available('redis', 'cache contract')) {
  adapters.push(['redis', () => RedisCache.connect(TEST_REDIS_URL, `rgwunit_${randomBytes(4).toString('hex')}`)]);
}

describe.each(adapters)('Cache contract: %s', (_name, make) => {
  let cache: Cache;
  afterAll(() => cache?.close());

  it('stores, reads back, overwrites and deletes JSON values', async () => {
    cache = await make();
    await cache.set('k', { a: [1, 'two'] }, 10_000);
    expect(await cache.get('k')).toEqual({ a: [1, 'two'] });
    await cache.set('k', 'new', 10_000);
    expect(await cache.get('k')).toBe('new');
    await cache.delete('k');
    expect(await cache.get('k')).toBeUndefined();
    await cache.ping();
  });

  it('counts atomically and restarts a counter after its TTL', async () => {
    const counts = await Promise.all(Array.from({ length: 20 }, () => cache.incr('counter', 1, 10_000)));
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(await cache.incr('counter', -5, 10_000)).toBe(15);
    // A TTL long enough that a loaded machine does not expire it between the next two calls.
    expect(await cache.incr('brief', 3, 400)).toBe(3);
    expect(await cache.incr('brief', 2, 10_000)).toBe(5); // the first deadline stands
    await new Promise((r) => setTimeout(r, 500));
    expect(await cache.incr('brief', 1, 10_000)).toBe(1);
  });

  it('forgets entries after their TTL', async () => {
    await cache.set('short', 1, 30);
    await cache.set('long', 2, 10_000);
    await new Promise((r) => setTimeout(r, 80));
    expect(await cache.get('short')).toBeUndefined();
    expect(await cache.get('long')).toBe(2);
  });
});

describe('MemoryCache TTL with a controlled clock', () => {
  it('expires exactly at the deadline', async () => {
    let now = 1000;
    const cache = new MemoryCache(() => now);
    await cache.set('k', 'v', 500);
    now = 1499;
    expect(await cache.get('k')).toBe('v');
    now = 1500;
    expect(await cache.get('k')).toBeUndefined();
  });
});
