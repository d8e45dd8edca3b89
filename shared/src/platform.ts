import type { Router } from 'express';
import type { Cache } from './cache/cache.js';
import { MemoryCache } from './cache/memory-cache.js';
import { RedisCache } from './cache/redis-cache.js';
import type { Config } from './config.js';
import { openDatabase, type Database } from './db/database.js';
import { createLogger, type Logger } from './logging.js';
import { InferenceClient } from './providers/inference-client.js';
import { ModelCatalog } from './providers/model-catalog.js';
import { AmqpQueue } from './queue/amqp-queue.js';
import { DatabaseQueue } from './queue/database-queue.js';
import type { TopicQueue } from './queue/queue.js';
import type { PlatformPart, ServiceName } from './service-manifest.js';
import type { RouteDescriptor } from './http/route-descriptor.js';
import { createObjectStore } from './objects/create-object-store.js';
import type { ObjectStore } from './objects/object-store.js';

/**
 * Everything a process needs, with the adapter of each part chosen by configuration: SQLite or
 * Postgres (DATABASE_URL), memory or Redis (REDIS_URL), the database-backed queue or RabbitMQ (AMQP_URL).
 */
export interface Platform {
  config: Config;
  logger: Logger;
  database: Database;
  cache: Cache;
  queue: TopicQueue;
  /** File bytes (disk or S3). Opening it connects nothing; a service that stores bytes calls `ensureReady()`. */
  objects: ObjectStore;
  catalog: ModelCatalog;
  inference: InferenceClient;
  /** Base URL at which every public API is reachable (the gateway), for service-to-service calls. */
  gatewayUrl: () => string;
  close(): Promise<void>;
}

export async function createPlatform(config: Config, name: string, opts: { logger?: Logger; gatewayUrl?: () => string } = {}): Promise<Platform> {
  const logger = opts.logger ?? createLogger(name);
  const database = openDatabase(config);
  const opened: { close(): Promise<void> }[] = [database];
  try {
    await database.ping();
    const cache: Cache = config.redisUrl ? await RedisCache.connect(config.redisUrl, config.keyPrefix) : new MemoryCache();
    opened.push(cache);
    // Running jobs get most of the shutdown budget; the rest hands the unfinished ones back.
    const shutdownGraceMs = Math.max(0, config.shutdownTimeoutMs - 1000);
    const queue: TopicQueue = config.amqpUrl
      ? await AmqpQueue.connect(config.amqpUrl, config.keyPrefix, logger, { shutdownGraceMs })
      : await DatabaseQueue.open(database, logger, { shutdownGraceMs });
    opened.push(queue);
    const objects = await createObjectStore(config.objectStore);
    opened.push(objects);
    const catalog = new ModelCatalog(config.providers, cache, config.modelCacheTtlMs, logger);
    // Never a guess: defaulting to this process's own port made a lone service call itself.
    const gatewayUrl =
      opts.gatewayUrl ??
      (() => {
        if (!config.gatewayUrl) throw new Error('GATEWAY_URL is not configured: a service run on its own reaches the other services through the gateway');
        return config.gatewayUrl;
      });
    return {
      config,
      logger,
      database,
      cache,
      queue,
      objects,
      catalog,
      inference: new InferenceClient(catalog, config),
      gatewayUrl,
      async close() {
        // Queue first (finishes running jobs, which may still write), then the stores. Running jobs
        // get the shutdown budget; past it they are abandoned (a queued job is retried elsewhere).
        await withTimeout(queue.close(), config.shutdownTimeoutMs).catch((err) => logger.warn({ err: (err as Error).message }, 'queue close'));
        await cache.close().catch(() => {});
        await objects.close().catch(() => {});
        await database.close().catch(() => {});
      },
    };
  } catch (err) {
    for (const part of opened.reverse()) await part.close().catch(() => {});
    throw err;
  }
}

/** One service as the gateway mounts it (embedded) or its own process serves it (distributed). */
export interface ServiceInstance {
  name: ServiceName;
  /** Routes with their full public paths (`/v1/...`), identical in both modes; none for a worker. */
  routes?: Router;
  /** The same routes as data (method, path, schemas): the source of the API description; none for a worker. */
  descriptors?: RouteDescriptor[];
  /** Starts background consumers (queue workers); called once the process is ready. */
  start?(): Promise<void>;
  close?(): Promise<void>;
}

/** Creates a service on a platform; `options` are the service's own (e.g. the server tools a responses process offers). */
export type ServiceFactory<Options = any> = (platform: Platform, options?: Options) => Promise<ServiceInstance>;

export interface DependencyStatus {
  status: 'OK' | 'Error';
  kind?: string;
  error?: string;
  /** False for a part this process opened but none of its services uses: reported, never fatal. */
  required?: boolean;
}

/**
 * The health of a process from its platform parts: each part is pinged and reported, but only a part
 * in `uses` (what the process's services actually need) makes it unhealthy. So a RabbitMQ outage
 * leaves a conversations process, which never touches the queue, healthy.
 */
export async function processHealth(
  platform: Platform,
  uses: Iterable<PlatformPart>,
): Promise<{ ok: boolean; dependencies: Record<PlatformPart, DependencyStatus> }> {
  const used = new Set(uses);
  const deps = await platformHealth(platform);
  let ok = true;
  for (const part of Object.keys(deps) as PlatformPart[]) {
    if (!used.has(part)) deps[part] = { ...deps[part], required: false };
    else if (deps[part].status !== 'OK') ok = false;
  }
  return { ok, dependencies: deps };
}

/** Pings the platform's own parts, each bounded so a hung dependency reports instead of hanging /health. */
export async function platformHealth(platform: Platform): Promise<Record<PlatformPart, DependencyStatus>> {
  const check = async (kind: string, ping: () => Promise<void>): Promise<DependencyStatus> => {
    try {
      await withTimeout(ping(), 2000);
      return { status: 'OK', kind };
    } catch (err) {
      return { status: 'Error', kind, error: (err as Error).message };
    }
  };
  const [database, cache, queue, objects] = await Promise.all([
    check(platform.database.dialect, () => platform.database.ping()),
    check(platform.cache.kind, () => platform.cache.ping()),
    check(platform.queue.kind, () => platform.queue.ping()),
    check(platform.objects.kind, () => platform.objects.ping()),
  ]);
  return { database, cache, queue, objects };
}

export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]);
}
