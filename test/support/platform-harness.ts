import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freshPostgres, TEST_PG_URL } from './postgres.js';
import { freePort, spawnTs, waitHealthy, type ManagedProcess } from './process-harness.js';

export type Mode = 'embedded' | 'distributed';

/** What a test needs to reach one running platform. */
export interface PlatformInfo {
  mode: Mode;
  /** The gateway's origin, e.g. http://127.0.0.1:40123 */
  origin: string;
  /** The SDK's baseURL: origin + /v1 */
  baseURL: string;
}

export interface RunningPlatform extends PlatformInfo {
  processes: ManagedProcess[];
  stop(): Promise<void>;
}

export { TEST_PG_URL };
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

const SERVICES = ['responses', 'conversations', 'prompts'] as const;

/** The embedded platform exactly as `npm start` runs it: one process, SQLite in a fresh DATA_DIR. */
export async function startEmbedded(env: Record<string, string>, logDir: string): Promise<RunningPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rgw-embedded-'));
  const gateway = await spawnTs('embedded-gateway', 'gateway/src/main.ts', { ...env, DATA_DIR: dataDir }, logDir);
  await waitHealthy(gateway);
  return {
    mode: 'embedded',
    origin: gateway.url,
    baseURL: `${gateway.url}/v1`,
    processes: [gateway],
    async stop() {
      await gateway.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Why distributed mode cannot run here, or undefined when Postgres, Redis and RabbitMQ all answer. */
export async function distributedUnavailable(): Promise<string | undefined> {
  const problems: string[] = [];
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect().then(() => client.end(), (e: Error) => problems.push(`Postgres at ${TEST_PG_URL}: ${e.message}`));
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  await redis.connect().then(() => redis.quit(), (e: Error) => problems.push(`Redis at ${TEST_REDIS_URL}: ${e.message}`));
  await amqp.connect(TEST_AMQP_URL).then((c) => c.close(), (e: Error) => problems.push(`RabbitMQ at ${TEST_AMQP_URL}: ${e.message}`));
  return problems.length ? problems.join('; ') : undefined;
}

/**
 * The distributed platform: a fresh Postgres database, a private Redis/RabbitMQ key prefix, every
 * service as its own process, and the gateway proxying to them.
 */
export async function startDistributed(env: Record<string, string>, logDir: string): Promise<RunningPlatform> {
  const suffix = randomBytes(4).toString('hex');
  const database = await freshPostgres();

  const shared = {
    ...env,
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    AMQP_URL: TEST_AMQP_URL,
    KEY_PREFIX: `rgwtest_${suffix}`,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'rgw-distributed-')),
  };
  const processes: ManagedProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.reverse().map((p) => p.stop()));
    rmSync(shared.DATA_DIR, { recursive: true, force: true });
    await database.drop();
  };
  try {
    const gatewayPort = String(await freePort());
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const services = await Promise.all(
      SERVICES.map((name) => spawnTs(`distributed-${name}`, `services/${name}/src/main.ts`, { ...shared, GATEWAY_URL: gatewayUrl }, logDir)),
    );
    processes.push(...services);
    await Promise.all(services.map((s) => waitHealthy(s)));
    const serviceUrls = Object.fromEntries(SERVICES.map((name, i) => [`${name.toUpperCase()}_SERVICE_URL`, services[i]!.url]));
    const gateway = await spawnTs('distributed-gateway', 'gateway/src/main.ts', { ...shared, ...serviceUrls, PORT: gatewayPort }, logDir);
    processes.push(gateway);
    await waitHealthy(gateway);
    return { mode: 'distributed', origin: gateway.url, baseURL: `${gateway.url}/v1`, processes, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
