import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freshPostgres, TEST_PG_URL } from './postgres.js';
import { freePort, startDistributedTopology, startEmbeddedGateway } from '../../scripts/launcher.js';
import type { ManagedProcess } from './process-harness.js';

export type Mode = 'embedded' | 'distributed';

/** What a test needs to reach one running platform. */
export interface PlatformInfo {
  mode: Mode;
  /** The gateway's origin, e.g. http://127.0.0.1:40123 */
  origin: string;
  /** The SDK's baseURL: origin + /v1 */
  baseURL: string;
  /** Distributed: each service process's own origin by name (to show a call straight to it is refused). */
  services?: Record<string, string>;
  /** The gateway's Envoy external processor (gRPC), host:port (EXTPROC_PORT). */
  extproc?: string;
}

export interface RunningPlatform extends PlatformInfo {
  processes: ManagedProcess[];
  stop(): Promise<void>;
}

export { TEST_PG_URL };
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** The embedded platform exactly as `npm start` runs it: one process, SQLite in a fresh DATA_DIR. */
export async function startEmbedded(env: Record<string, string>, logDir: string): Promise<RunningPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rgw-embedded-'));
  const extprocPort = await freePort();
  const gateway = await startEmbeddedGateway('embedded-gateway', { ...env, DATA_DIR: dataDir, EXTPROC_PORT: String(extprocPort) }, { logDir });
  return {
    mode: 'embedded',
    origin: gateway.url,
    baseURL: `${gateway.url}/v1`,
    extproc: `127.0.0.1:${extprocPort}`,
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

  const extprocPort = await freePort();
  const shared = {
    ...env,
    // Read by the gateway only (the services have no external processor).
    EXTPROC_PORT: String(extprocPort),
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    AMQP_URL: TEST_AMQP_URL,
    KEY_PREFIX: `rgwtest_${suffix}`,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'rgw-distributed-')),
  };
  let topology: Awaited<ReturnType<typeof startDistributedTopology>> | undefined;
  const stop = async () => {
    await topology?.stop();
    rmSync(shared.DATA_DIR, { recursive: true, force: true });
    await database.drop();
  };
  try {
    // Every service of the manifest as its own process, the gateway proxying to each (scripts/launcher.ts).
    topology = await startDistributedTopology(shared, { logDir, namePrefix: 'distributed-' });
    const services = Object.fromEntries(topology.processes.filter((p) => p.url !== topology!.url).map((p) => [p.name.replace(/^distributed-/, ''), p.url]));
    return { mode: 'distributed', origin: topology.url, baseURL: `${topology.url}/v1`, services, extproc: `127.0.0.1:${extprocPort}`, processes: topology.processes, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
