import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_AMQP_URL, TEST_REDIS_URL } from '../test/support/platform-harness.js';
import { freshPostgres } from '../test/support/postgres.js';
import { freePort, REPO_ROOT } from '../test/support/process-harness.js';

export const LOG_DIR = join(REPO_ROOT, '.tmp', 'bench-logs');

export interface BenchProcess {
  name: string;
  url: string;
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Spawns `node --import tsx <entry>` with its stdout/stderr going straight to a log file. Unlike the
 * test harness we do not pipe the output through this process: the bench process is the load
 * generator, and relaying thousands of log lines a second would steal its CPU.
 */
export async function spawnEntry(name: string, entry: string, env: Record<string, string>, nodeArgs: string[] = [], root = REPO_ROOT): Promise<BenchProcess> {
  mkdirSync(LOG_DIR, { recursive: true });
  const port = env.PORT ?? String(await freePort());
  const logFile = join(LOG_DIR, `${name}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(root, entry)], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', ...env, PORT: port },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    child,
    logFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls `GET <url><path>` until it answers 200; fails with the log's tail if the process dies. */
export async function waitReady(proc: BenchProcess, path = '/health', timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode}:\n${tail(proc.logFile)}`);
    if ((await getStatus(`${proc.url}${path}`)) === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${proc.name} was not ready within ${timeoutMs} ms:\n${tail(proc.logFile)}`);
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
  });
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
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
export async function startEmbedded(env: Record<string, string>, nodeArgs: string[], root = REPO_ROOT): Promise<BenchPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rgw-bench-'));
  const name = root === REPO_ROOT ? 'embedded-gateway' : 'compared-gateway';
  const gateway = await spawnEntry(name, 'gateway/src/main.ts', { ...env, DATA_DIR: dataDir }, nodeArgs, root);
  const stop = async () => {
    await gateway.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitReady(gateway);
  } catch (err) {
    await stop();
    throw err;
  }
  return { mode: 'embedded', url: gateway.url, processes: [gateway], stop };
}

const SERVICES = ['responses', 'conversations', 'prompts'] as const;

/**
 * The distributed platform, as the test suite builds it (test/support/platform-harness.ts): a fresh
 * Postgres database (dropped again on stop), a private Redis/RabbitMQ prefix, one process per service
 * and the gateway proxying to them.
 */
export async function startDistributed(env: Record<string, string>): Promise<BenchPlatform> {
  const suffix = randomBytes(4).toString('hex');
  const database = await freshPostgres('rgw_bench');
  const dataDir = mkdtempSync(join(tmpdir(), 'rgw-bench-dist-'));
  const shared = {
    ...env,
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    AMQP_URL: TEST_AMQP_URL,
    KEY_PREFIX: `rgwbench_${suffix}`,
    DATA_DIR: dataDir,
  };
  const processes: BenchProcess[] = [];
  const stop = async () => {
    await Promise.all(processes.reverse().map((p) => p.stop()));
    rmSync(dataDir, { recursive: true, force: true });
    await database.drop();
  };
  try {
    const gatewayPort = String(await freePort());
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const services = await Promise.all(
      SERVICES.map((name) => spawnEntry(`distributed-${name}`, `services/${name}/src/main.ts`, { ...shared, GATEWAY_URL: gatewayUrl })),
    );
    processes.push(...services);
    await Promise.all(services.map((s) => waitReady(s)));
    const serviceUrls = Object.fromEntries(SERVICES.map((name, i) => [`${name.toUpperCase()}_SERVICE_URL`, services[i]!.url]));
    const gateway = await spawnEntry('distributed-gateway', 'gateway/src/main.ts', { ...shared, ...serviceUrls, PORT: gatewayPort });
    processes.push(gateway);
    await waitReady(gateway);
    return { mode: 'distributed', url: gateway.url, processes, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
