import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, spawnTs, startDistributedTopology, startEmbeddedGateway, waitHealthy, type ManagedProcess } from '../scripts/launcher.js';
import { TEST_AMQP_URL, TEST_REDIS_URL } from '../test/support/platform-harness.js';
import { freshPostgres } from '../test/support/postgres.js';

export const LOG_DIR = join(REPO_ROOT, '.tmp', 'bench-logs');

export type BenchProcess = ManagedProcess;

/** Spawns `node --import tsx <entry>` with its output going straight to a log file (scripts/launcher.ts). */
export function spawnEntry(name: string, entry: string, env: Record<string, string>, nodeArgs: string[] = [], root = REPO_ROOT): Promise<BenchProcess> {
  return spawnTs(name, entry, env, { logDir: LOG_DIR, nodeArgs, root });
}

/** Polls `GET <url><path>` until it answers 200; fails with the log's tail if the process dies. */
export function waitReady(proc: BenchProcess, path = '/health', timeoutMs = 60_000): Promise<void> {
  return waitHealthy(proc, { path, timeoutMs });
}

export interface BenchPlatform {
  mode: 'embedded' | 'distributed';
  url: string;
  processes: BenchProcess[];
  stop(): Promise<void>;
}

/**
 * The embedded platform as `npm start` runs it: one gateway process, SQLite in a fresh DATA_DIR.
 * `root` runs the gateway of another checkout instead (BENCH_COMPARE_ROOT).
 */
export function startEmbedded(env: Record<string, string>, nodeArgs: string[], root = REPO_ROOT): Promise<BenchPlatform> {
  const name = root === REPO_ROOT ? 'embedded-gateway' : 'compared-gateway';
  return embeddedPlatform((dataDir) => startEmbeddedGateway(name, { ...env, DATA_DIR: dataDir }, { logDir: LOG_DIR, nodeArgs, root }));
}

/** The embedded gateway of a compiled tree (`npm run build -- --out <dir> --link`): its bundled `gateway/src/main.js`. */
export function startBuiltEmbedded(dir: string, name: string, env: Record<string, string>, nodeArgs: string[]): Promise<BenchPlatform> {
  return embeddedPlatform(async (dataDir) => {
    const gateway = await spawnTs(name, 'gateway/src/main.js', { ...env, DATA_DIR: dataDir }, { logDir: LOG_DIR, nodeArgs, root: dir });
    await waitReady(gateway).catch(async (err) => {
      await gateway.stop();
      throw err;
    });
    return gateway;
  });
}

/** A gateway started by `start` in a fresh DATA_DIR, removed again when it stops (or fails to start). */
async function embeddedPlatform(start: (dataDir: string) => Promise<BenchProcess>): Promise<BenchPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rgw-bench-'));
  try {
    const gateway = await start(dataDir);
    return {
      mode: 'embedded',
      url: gateway.url,
      processes: [gateway],
      async stop() {
        await gateway.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The distributed platform, as the test suite builds it (test/support/platform-harness.ts): a fresh
 * Postgres database (dropped again on stop), a private Redis/RabbitMQ prefix, one process per service
 * of the manifest and the gateway proxying to them. `root` runs another checkout's processes instead.
 */
export async function startDistributed(env: Record<string, string>, nodeArgs: string[] = [], root = REPO_ROOT): Promise<BenchPlatform> {
  const suffix = randomBytes(4).toString('hex');
  const database = await freshPostgres('rgw_bench');
  const dataDir = mkdtempSync(join(tmpdir(), 'rgw-bench-dist-'));
  const cleanUp = async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await database.drop();
  };
  try {
    const topology = await startDistributedTopology(
      { ...env, DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, AMQP_URL: TEST_AMQP_URL, KEY_PREFIX: `rgwbench_${suffix}`, DATA_DIR: dataDir },
      { logDir: LOG_DIR, namePrefix: root === REPO_ROOT ? 'distributed-' : 'compared-distributed-', nodeArgs, root },
    );
    return {
      mode: 'distributed',
      url: topology.url,
      processes: topology.processes,
      async stop() {
        await topology.stop();
        await cleanUp();
      },
    };
  } catch (err) {
    await cleanUp().catch(() => {});
    throw err;
  }
}
