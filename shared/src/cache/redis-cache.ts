import type { Redis } from 'ioredis';
import type { Cache } from './cache.js';

/** INCRBY and, on a counter that has no deadline yet (just created), PEXPIRE: one atomic step. */
const INCR_SCRIPT = `local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`;

export class RedisCache implements Cache {
  readonly kind = 'redis' as const;
  private constructor(private readonly client: Redis, private readonly prefix: string) {}

  static async connect(url: string, prefix: string): Promise<RedisCache> {
    // ioredis loads only where REDIS_URL is set (distributed), not with every process. Through
    // `default` (its module.exports): a CommonJS module imported lazily from the bundle has no named exports.
    const { Redis } = (await import('ioredis')).default;
    // Fail fast instead of queueing commands while Redis is away; callers treat a failure as a miss.
    const client = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
    client.on('error', () => {});
    await client.connect();
    return new RedisCache(client, prefix);
  }

  private key(key: string): string {
    return `${this.prefix}:cache:${key}`;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const raw = await this.client.get(this.key(key));
    return raw === null ? undefined : (JSON.parse(raw) as T);
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    await this.client.set(this.key(key), JSON.stringify(value), 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async incr(key: string, by: number, ttlMs: number): Promise<number> {
    const result = await this.client.eval(INCR_SCRIPT, 1, this.key(key), Math.trunc(by), Math.max(1, Math.round(ttlMs)));
    return Number(result);
  }

  async delete(key: string): Promise<void> {
    await this.client.del(this.key(key));
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
