import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_AMQP_URL, TEST_REDIS_URL, type Mode } from './platform-harness.js';
import { freshPostgres } from './postgres.js';
import { freePort, REPO_ROOT, spawnTs, waitHealthy, type ManagedProcess } from './process-harness.js';

/**
 * A private platform for fault tests, which kill its processes: unlike the shared ones of the global
 * setup, every process can be SIGKILLed and started again on the same port with the same data
 * (embedded: the same DATA_DIR; distributed: the same Postgres database, Redis and RabbitMQ prefix).
 */
export interface FaultPlatform {
  mode: Mode;
  baseURL: string;
  /** SIGKILL the process that runs responses (embedded: the one process; distributed: the responses service). */
  crash(): Promise<void>;
  /** Start it again, as an orchestrator would, and wait until it is healthy. */
  restart(): Promise<void>;
  /** Distributed only: the conversations service, to kill and restart on its own. */
  conversations?: { crash(): Promise<void>; restart(): Promise<void> };
  stop(): Promise<void>;
}

const LOG_DIR = join(REPO_ROOT, '.tmp', 'test-logs', 'fault');

/** One restartable process: same entry, env and port every time; each run logs to its own file. */
function restartable(name: string, entry: string, env: Record<string, string>) {
  let current: ManagedProcess | undefined;
  let runs = 0;
  return {
    get url() {
      return `http://127.0.0.1:${env.PORT}`;
    },
    async start() {
      current = await spawnTs(`${name}-${++runs}`, entry, env, LOG_DIR);
      await waitHealthy(current);
    },
    async crash() {
      const child = current?.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
    stop: () => current?.stop(5_000),
  };
}

export async function startFaultPlatform(mode: Mode, env: Record<string, string>): Promise<FaultPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), `rgw-fault-${mode}-`));
  const gatewayPort = String(await freePort());
  const base = { ...env, DATA_DIR: dataDir };
  if (mode === 'embedded') {
    const gateway = restartable('embedded', 'gateway/src/main.ts', { ...base, PORT: gatewayPort });
    await gateway.start();
    return {
      mode,
      baseURL: `${gateway.url}/v1`,
      crash: () => gateway.crash(),
      restart: () => gateway.start(),
      async stop() {
        await gateway.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const database = await freshPostgres('rgw_fault');
  const shared = {
    ...base,
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    AMQP_URL: TEST_AMQP_URL,
    KEY_PREFIX: `rgwfault_${randomBytes(4).toString('hex')}`,
    GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
  };
  const names = ['responses', 'conversations', 'prompts'] as const;
  const services = await Promise.all(names.map(async (name) => restartable(`distributed-${name}`, `services/${name}/src/main.ts`, { ...shared, PORT: String(await freePort()) })));
  const serviceUrls = Object.fromEntries(names.map((name, i) => [`${name.toUpperCase()}_SERVICE_URL`, services[i]!.url]));
  const gateway = restartable('distributed-gateway', 'gateway/src/main.ts', { ...shared, ...serviceUrls, PORT: gatewayPort });
  const all = [...services, gateway];
  const stop = async () => {
    await Promise.allSettled(all.map((p) => p.stop()));
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await Promise.all(services.map((s) => s.start()));
    await gateway.start();
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  const [responses, conversations] = services as [ReturnType<typeof restartable>, ReturnType<typeof restartable>];
  return {
    mode,
    baseURL: `${gateway.url}/v1`,
    crash: () => responses.crash(),
    restart: () => responses.start(),
    conversations: { crash: () => conversations.crash(), restart: () => conversations.start() },
    stop,
  };
}
