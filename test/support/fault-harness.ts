import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceEntry, serviceSpec, serviceUrlVariable } from '@rgw/shared';
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
  /** Distributed only: any process started on its own (by service name, e.g. `ingest-worker`), to kill and restart. */
  process?(name: string): RestartableProcess;
  /** The DATA_DIR every process of this platform shares (the embedded vector index lives there). */
  dataDir: string;
  stop(): Promise<void>;
}

export interface RestartableProcess {
  crash(): Promise<void>;
  restart(): Promise<void>;
  /** The process running now, for its pid, log file and exit state. */
  readonly current: ManagedProcess | undefined;
}

export interface FaultPlatformOptions {
  /**
   * Distributed: more services of the manifest run as their own processes, besides responses,
   * conversations and prompts; the rest stay mounted (or, for the ingest worker, in-process) in the
   * gateway. With `ingest-worker` listed the gateway runs with WORKERS=external.
   */
  ownProcesses?: readonly ('files' | 'vector-stores' | 'ingest-worker')[];
  /** Distributed: environment of one process on top of the shared one (e.g. its AMQP_URL through a relay). */
  envOf?: Readonly<Record<string, Record<string, string>>>;
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
    get current() {
      return current;
    },
  };
}

export async function startFaultPlatform(mode: Mode, env: Record<string, string>, opts: FaultPlatformOptions = {}): Promise<FaultPlatform> {
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
      dataDir,
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
  const names = ['responses', 'conversations', 'prompts', ...(opts.ownProcesses ?? [])] as const;
  const services = await Promise.all(
    names.map(async (name) => restartable(`distributed-${name}`, serviceEntry(serviceSpec(name)), { ...shared, ...opts.envOf?.[name], PORT: String(await freePort()) })),
  );
  const serviceUrls = Object.fromEntries(names.flatMap((name, i) => (serviceSpec(name).role === 'api' ? [[serviceUrlVariable(name), services[i]!.url]] : [])));
  const workers: Record<string, string> = names.includes('ingest-worker') ? { WORKERS: 'external' } : {};
  const gateway = restartable('distributed-gateway', 'gateway/src/main.ts', { ...shared, ...serviceUrls, ...workers, PORT: gatewayPort });
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
    process(name) {
      const proc = services[names.indexOf(name as never)];
      if (!proc) throw new Error(`the fault platform does not run '${name}' as its own process (ownProcesses)`);
      return { crash: () => proc.crash(), restart: () => proc.start(), get current() { return proc.current; } };
    },
    dataDir,
    stop,
  };
}
