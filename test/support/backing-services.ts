import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { TEST_AMQP_URL, TEST_PG_URL, TEST_REDIS_URL } from './platform-harness.js';

export type Backing = 'postgres' | 'redis' | 'rabbitmq';

const probes: Record<Backing, () => Promise<void>> = {
  postgres: async () => {
    const c = new pg.Client({ connectionString: TEST_PG_URL });
    await c.connect();
    await c.end();
  },
  redis: async () => {
    const r = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => {});
    await r.connect();
    await r.quit();
  },
  rabbitmq: async () => {
    const c = await amqp.connect(TEST_AMQP_URL);
    await c.close();
  },
};

/**
 * True when the real service answers. When it does not, says so loudly; under CI (or
 * REQUIRE_DISTRIBUTED=1) it throws instead, because there a missing service is a broken machine.
 */
export async function available(service: Backing, suite: string): Promise<boolean> {
  try {
    await probes[service]();
    return true;
  } catch (err) {
    const why = `${service} is not reachable (${(err as Error).message})`;
    if (process.env.CI || process.env.REQUIRE_DISTRIBUTED === '1') throw new Error(`${suite}: ${why}`);
    console.warn(`\n!! SKIPPED: ${suite} against ${service}. Why: ${why}\n`);
    return false;
  }
}

export { freshPostgres } from './postgres.js';
export { TEST_AMQP_URL, TEST_REDIS_URL };
