/**
 * The one process launcher: starts entry points with tsx and the platform's topologies from the
 * service manifest. Used by the integration harness (test/support), the bench and
 * `npm run start:distributed`; never by production code paths.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { GATEWAY_DEFAULT_PORT, GATEWAY_ENTRY, SERVICE_MANIFEST, serviceEntry, serviceUrlVariable, type ServiceSpec } from '@rgw/shared';

export const REPO_ROOT = resolve(import.meta.dirname, '..');

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolvePort(port));
    });
  });
}

export interface ManagedProcess {
  name: string;
  url: string;
  child: ChildProcess;
  /** Its stdout and stderr, or '' when they go to this process's own output. */
  logFile: string;
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface SpawnOptions {
  /** Folder for `<name>.log`; without it the child shares this process's stdout and stderr. */
  logDir?: string;
  /** Extra node flags (e.g. --cpu-prof for the bench). */
  nodeArgs?: string[];
  /** Checkout to run from (the bench can compare another tree). */
  root?: string;
}

/**
 * Spawns `node --import tsx <entry>` as a single node process, on PORT from `env` or a free one.
 * Its output goes straight to the log file (not piped through this process: a load generator
 * relaying thousands of log lines a second would steal its own CPU).
 */
export async function spawnTs(name: string, entry: string, env: Record<string, string>, opts: SpawnOptions | string = {}): Promise<ManagedProcess> {
  const { logDir, nodeArgs = [], root = REPO_ROOT } = typeof opts === 'string' ? { logDir: opts } : opts;
  const port = env.PORT || String(await freePort());
  let logFile = '';
  let fd: number | undefined;
  if (logDir) {
    mkdirSync(logDir, { recursive: true });
    logFile = join(logDir, `${name}.log`);
    fd = openSync(logFile, 'w');
  }
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(root, entry)], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', ...env, PORT: port },
    stdio: fd === undefined ? ['ignore', 'inherit', 'inherit'] : ['ignore', fd, fd],
  });
  if (fd !== undefined) closeSync(fd);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    child,
    logFile,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Polls `GET <url><path>` (default /health) until it answers 200; fails early, with the log's tail, if the process dies. */
export async function waitHealthy(proc: ManagedProcess, opts: number | { path?: string; timeoutMs?: number } = {}): Promise<void> {
  const { path = '/health', timeoutMs = 60_000 } = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode}:\n${tail(proc.logFile)}`);
    if ((await getStatus(`${proc.url}${path}`)) === 200) return;
    await new Promise((r) => setTimeout(r, 120));
  }
  throw new Error(`${proc.name} did not become healthy within ${timeoutMs} ms:\n${tail(proc.logFile)}`);
}

// node:http without keep-alive: polling must not hold sockets open in the process it waits for.
function getStatus(url: string): Promise<number> {
  return new Promise((resolveStatus) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolveStatus(res.statusCode ?? 0));
    });
    req.on('error', () => resolveStatus(0));
  });
}

export function tail(file: string, lines = 40): string {
  if (!file) return '(output not captured)';
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** One process of a topology: what to run and with which environment of its own. */
export interface ProcessPlan {
  name: string;
  entry: string;
  env: Record<string, string>;
}

/**
 * The distributed topology of a manifest: every service (api and worker) as its own process on its
 * port, told where the gateway is; then the gateway with `<NAME>_SERVICE_URL` for each api service
 * and WORKERS=external (the workers run as their own processes, so it must not start them too).
 */
export function distributedPlan(
  ports: { gateway: number; service: (spec: ServiceSpec) => number },
  manifest: readonly ServiceSpec[] = SERVICE_MANIFEST,
): { services: ProcessPlan[]; gateway: ProcessPlan } {
  const gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
  const services = manifest.map((spec) => ({
    name: spec.name,
    entry: serviceEntry(spec),
    env: { PORT: String(ports.service(spec)), GATEWAY_URL: gatewayUrl },
  }));
  const urls = Object.fromEntries(
    manifest.flatMap((spec, i) => (spec.role === 'api' ? [[serviceUrlVariable(spec.name), `http://127.0.0.1:${services[i]!.env.PORT}`]] : [])),
  );
  return { services, gateway: { name: 'gateway', entry: GATEWAY_ENTRY, env: { ...urls, WORKERS: 'external', PORT: String(ports.gateway) } } };
}

export interface StartedTopology {
  /** The gateway's origin. */
  url: string;
  /** Services first, the gateway last. */
  processes: ManagedProcess[];
  /** Stops the gateway first, then the services (each lets its in-flight work finish). */
  stop(graceMs?: number): Promise<void>;
}

export interface TopologyOptions extends SpawnOptions {
  /** Prefix of each process's name (and log file), e.g. `distributed-`. */
  namePrefix?: string;
  /** `default`: the manifest's ports (the dev script); `free`: any free ports (tests, bench). */
  ports?: 'default' | 'free';
  gatewayPort?: number;
  manifest?: readonly ServiceSpec[];
}

/** Starts the distributed topology (`env` goes to every process) and waits until the gateway is healthy. */
export async function startDistributedTopology(env: Record<string, string>, opts: TopologyOptions = {}): Promise<StartedTopology> {
  const { namePrefix = '', ports = 'free', manifest = SERVICE_MANIFEST, ...spawnOpts } = opts;
  // One internal credential for every process: the gateway signs who is calling with it, and each
  // service refuses a request without it (a call straight to its port).
  env = env.INTERNAL_TOKEN ? env : { ...env, INTERNAL_TOKEN: randomBytes(32).toString('base64url') };
  const servicePorts = new Map<string, number>();
  for (const spec of manifest) servicePorts.set(spec.name, ports === 'free' ? await freePort() : spec.defaultPort);
  const gatewayPort = opts.gatewayPort ?? (ports === 'free' ? await freePort() : GATEWAY_DEFAULT_PORT);
  const plan = distributedPlan({ gateway: gatewayPort, service: (s) => servicePorts.get(s.name)! }, manifest);

  const processes: ManagedProcess[] = [];
  const stop = async (graceMs?: number) => {
    const [gateway, ...services] = [...processes].reverse();
    await gateway?.stop(graceMs);
    await Promise.all(services.map((p) => p.stop(graceMs)));
  };
  try {
    for (const p of plan.services) processes.push(await spawnTs(`${namePrefix}${p.name}`, p.entry, { ...env, ...p.env }, spawnOpts));
    await Promise.all(processes.map((p) => waitHealthy(p)));
    const gateway = await spawnTs(`${namePrefix}gateway`, plan.gateway.entry, { ...env, ...plan.gateway.env }, spawnOpts);
    processes.push(gateway);
    await waitHealthy(gateway);
    return { url: gateway.url, processes, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** Starts the embedded platform as `npm start` runs it: one gateway process mounting every service. */
export async function startEmbeddedGateway(name: string, env: Record<string, string>, opts: SpawnOptions = {}): Promise<ManagedProcess> {
  const gateway = await spawnTs(name, GATEWAY_ENTRY, env, opts);
  try {
    await waitHealthy(gateway);
  } catch (err) {
    await gateway.stop();
    throw err;
  }
  return gateway;
}
