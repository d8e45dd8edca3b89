import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type { parse as Parse } from 'yaml';
import { z } from 'zod';
import type { ObjectStoreConfig } from './objects/object-store.js';
import { SERVICE_MANIFEST, serviceUrlVariable, type ServiceName } from './service-manifest.js';

// The YAML parser loads only with a CONFIG_FILE (loadConfig is synchronous, hence require).
const requireCjs = createRequire(import.meta.url);
const parseYaml = (text: string): unknown => (requireCjs('yaml') as { parse: typeof Parse }).parse(text);

const API_SERVICE_NAMES = SERVICE_MANIFEST.filter((s) => s.role === 'api').map((s) => s.name) as [ServiceName, ...ServiceName[]];

const providerSchema = z.strictObject({
  /** Used in `provider/model` addressing and in health output. */
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'provider id may use letters, digits, "_", "." and "-"'),
  baseUrl: z.string().url(),
  apiKey: z.string().optional(),
  /** Models served by this provider that its own GET /models does not list (or when it has none). */
  models: z.array(z.string().min(1)).default([]),
  /** Ask the provider's GET /models; turn off for servers without that endpoint. */
  listModels: z.boolean().default(true),
});
export type ProviderConfig = z.infer<typeof providerSchema>;

const limitSchema = z.number().int().positive().optional();

/** A key of the YAML file's `auth.projects[].keys`: the secret itself (use `${VAR}` to keep it out of the file). */
const staticKeySchema = z.strictObject({
  key: z.string().min(8, 'an API key needs at least 8 characters'),
  name: z.string().optional(),
  /** Models this key may use (plain or provider-qualified ids); absent = every model. */
  models: z.array(z.string().min(1)).optional(),
  rpm: limitSchema,
  tpm: limitSchema,
});

const staticProjectSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'project id may use letters, digits, "_", "." and "-"'),
  name: z.string().optional(),
  rpm: limitSchema,
  tpm: limitSchema,
  keys: z.array(staticKeySchema).default([]),
});
export type StaticProjectConfig = z.infer<typeof staticProjectSchema>;

const fileSchema = z.strictObject({
  port: z.number().int().optional(),
  host: z.string().optional(),
  dataDir: z.string().optional(),
  bodyLimit: z.union([z.number(), z.string()]).optional(),
  embeddingModel: z.string().optional(),
  databaseUrl: z.string().optional(),
  redisUrl: z.string().optional(),
  amqpUrl: z.string().optional(),
  modelCacheTtlSeconds: z.number().positive().optional(),
  upstreamTimeoutMs: z.number().int().positive().optional(),
  providers: z.array(providerSchema).default([]),
  services: z.partialRecord(z.enum(API_SERVICE_NAMES), z.string().url()).optional(),
  gatewayUrl: z.string().url().optional(),
  workers: z.enum(['in-process', 'external']).optional(),
  auth: z.strictObject({ projects: z.array(staticProjectSchema).default([]) }).optional(),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  bodyLimitBytes: number;
  embeddingModel?: string;
  databaseUrl?: string;
  redisUrl?: string;
  amqpUrl?: string;
  /** Prefix for Redis keys and RabbitMQ queue names, so several deployments can share a broker. */
  keyPrefix: string;
  modelCacheTtlMs: number;
  upstreamTimeoutMs: number;
  shutdownTimeoutMs: number;
  providers: ProviderConfig[];
  /** Base URLs of services run as their own processes; a service without one is mounted in-process. */
  serviceUrls: Partial<Record<ServiceName, string>>;
  /**
   * The gateway's URL (GATEWAY_URL), through which a service run as its own process reaches the
   * others. Required by the service runner; the gateway itself uses its own address.
   */
  gatewayUrl?: string;
  /**
   * INTERNAL_TOKEN: signs the principal the gateway forwards to services and services send each
   * other; a service with one refuses requests that lack a valid signature (direct calls to its port).
   */
  internalToken?: string;
  /**
   * WORKERS: `in-process` (default) runs every worker of the manifest inside the gateway;
   * `external` means each runs as its own process (distributed), so the gateway starts none.
   */
  workers: 'in-process' | 'external';
  /** Time a client has to send its request headers (slowloris guard). */
  headersTimeoutMs: number;
  /** Time a client has to send its whole request, body included (not the reply: streams may run long). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is held open between requests. */
  keepAliveTimeoutMs: number;
  /** Distributed mode: how long the gateway waits for a service's response headers (504 after). */
  proxyTimeoutMs: number;
  /** Largest reply body buffered from a model server (e.g. an embeddings reply); larger is a 502. */
  upstreamMaxBodyBytes: number;
  /** API_KEYS: comma-separated keys, each its own project (id derived from the key's hash). */
  apiKeys: string[];
  /** Projects and keys of the YAML file's `auth.projects`. */
  authProjects: StaticProjectConfig[];
  /** ADMIN_API_KEY: authenticates the admin API (/v1/organization/...); alone it also turns keys on. */
  adminApiKey?: string;
  /** RATE_LIMIT_RPM / RATE_LIMIT_TPM: default limits of every key (unset = unlimited). */
  defaultKeyLimits: { rpm?: number; tpm?: number };
  /** Whether HOST (or the file's host) was set: an open gateway binds to loopback unless told otherwise. */
  hostExplicit: boolean;
  /** File bytes: S3 when S3_ENDPOINT or S3_BUCKET is set, else local disk under DATA_DIR/objects. */
  objectStore: ObjectStoreConfig;
  /** FILES_MAX_BYTES: largest file accepted by POST /v1/files (default 512 MB, OpenAI's). */
  filesMaxBytes: number;
  /** QDRANT_URL / QDRANT_API_KEY: the vector index of distributed deployments; unset = the embedded index. */
  qdrantUrl?: string;
  qdrantApiKey?: string;
  /**
   * CORS_ALLOWED_ORIGINS: comma-separated origins (`https://app.example.com`) browsers may call the
   * gateway from, or `*` for any; empty (default) sends no CORS headers, so browsers refuse cross-origin calls.
   */
  corsAllowedOrigins: string[];
  /** EXTPROC_PORT and friends: the Envoy external processor beside the HTTP listener; unset = off. */
  extproc?: ExtProcConfig;
}

export interface ExtProcConfig {
  /** EXTPROC_PORT: the gRPC port of envoy.service.ext_proc.v3.ExternalProcessor. */
  port: number;
  /** EXTPROC_BUFFER_LIMIT: bodies declared larger (and every multipart upload) go to the HTTP listener unbuffered; match Envoy's buffer limit. */
  bufferLimitBytes: number;
  /** EXTPROC_BODY_ROUTING=1: chat completions and embeddings continue to Envoy's own upstream, routed on the model header. */
  bodyRouting: boolean;
  /** EXTPROC_MODEL_HEADER: the header the model is copied into for body routing (default x-gateway-model-name). */
  modelHeader: string;
}

/** Whether callers must present an API key (any key, or the admin key that manages them, is configured). */
export function keysConfigured(config: Pick<Config, 'apiKeys' | 'authProjects' | 'adminApiKey'>): boolean {
  return config.apiKeys.length > 0 || config.authProjects.some((p) => p.keys.length > 0) || !!config.adminApiKey;
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** "50mb", "512kb", "1048576" or a number of bytes. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
  if (!m) throw new Error(`invalid size '${value}' (expected e.g. 50mb)`);
  return Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] ?? 'b').toLowerCase()]!);
}

/** Replaces `${VAR}` in config-file strings with the environment's value, so secrets stay out of the file. */
function expandEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? '');
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got '${raw}'`);
  return n;
}

/**
 * Reads the optional YAML file named by CONFIG_FILE, then applies environment variables, which win.
 * BACKEND_BASE_URL adds one provider (id BACKEND_ID, default "default") ahead of the file's providers.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let file: z.infer<typeof fileSchema> = { providers: [] };
  if (env.CONFIG_FILE) {
    const text = expandEnv(readFileSync(env.CONFIG_FILE, 'utf8'), env);
    const parsed = fileSchema.safeParse(parseYaml(text) ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`${env.CONFIG_FILE}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    file = parsed.data;
  }

  const providers = [...file.providers];
  if (env.BACKEND_BASE_URL) {
    const models = (env.BACKEND_MODELS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    providers.unshift(
      providerSchema.parse({ id: env.BACKEND_ID || 'default', baseUrl: env.BACKEND_BASE_URL, apiKey: env.BACKEND_API_KEY || undefined, models }),
    );
  }
  const ids = new Set<string>();
  for (const p of providers) {
    if (ids.has(p.id)) throw new Error(`provider id '${p.id}' is configured twice`);
    ids.add(p.id);
  }

  const serviceUrls: Partial<Record<ServiceName, string>> = { ...file.services };
  for (const name of API_SERVICE_NAMES) {
    const url = env[serviceUrlVariable(name)];
    if (url) serviceUrls[name] = url;
  }
  const workers = env.WORKERS || file.workers || 'in-process';
  if (workers !== 'in-process' && workers !== 'external') throw new Error(`WORKERS must be 'in-process' or 'external', got '${workers}'`);
  const gatewayUrl = env.GATEWAY_URL || file.gatewayUrl;
  if (gatewayUrl && !URL.canParse(gatewayUrl)) throw new Error(`GATEWAY_URL must be a URL, got '${gatewayUrl}'`);

  const bodyLimit = env.BODY_LIMIT ?? file.bodyLimit ?? '50mb';
  const apiKeys = (env.API_KEYS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const authProjects = file.auth?.projects ?? [];
  const adminApiKey = env.ADMIN_API_KEY || undefined;
  const internalToken = env.INTERNAL_TOKEN || undefined;
  const explicitHost = env.HOST || file.host;
  // Open (no key) means loopback unless asked; a process that checks credentials (keys, or a service
  // with the internal token) listens everywhere by default, as a container needs.
  const guarded = keysConfigured({ apiKeys, authProjects, adminApiKey }) || !!internalToken;
  const positive = (name: string) => {
    const n = intFromEnv(env, name);
    if (n !== undefined && !(Number.isInteger(n) && n > 0)) throw new Error(`${name} must be a positive integer, got '${env[name]}'`);
    return n;
  };
  const dataDir = resolve(env.DATA_DIR || file.dataDir || './data');
  const objectStore: ObjectStoreConfig =
    env.S3_ENDPOINT || env.S3_BUCKET
      ? {
          kind: 's3',
          endpoint: env.S3_ENDPOINT || undefined,
          bucket: env.S3_BUCKET || 'rgw-files',
          region: env.S3_REGION || env.AWS_REGION || 'us-east-1',
          accessKeyId: env.S3_ACCESS_KEY_ID || undefined,
          secretAccessKey: env.S3_SECRET_ACCESS_KEY || undefined,
        }
      : { kind: 'disk', dir: resolve(dataDir, 'objects') };
  return {
    port: intFromEnv(env, 'PORT') ?? file.port ?? 8321,
    host: explicitHost || (guarded ? '0.0.0.0' : '127.0.0.1'),
    hostExplicit: !!explicitHost,
    apiKeys,
    authProjects,
    adminApiKey,
    defaultKeyLimits: { rpm: positive('RATE_LIMIT_RPM'), tpm: positive('RATE_LIMIT_TPM') },
    dataDir,
    objectStore,
    filesMaxBytes: parseSize(env.FILES_MAX_BYTES ?? '512mb'),
    qdrantUrl: env.QDRANT_URL || undefined,
    qdrantApiKey: env.QDRANT_API_KEY || undefined,
    corsAllowedOrigins: (env.CORS_ALLOWED_ORIGINS ?? '').split(',').map((s) => s.trim().replace(/\/+$/, '')).filter(Boolean),
    bodyLimitBytes: parseSize(bodyLimit),
    embeddingModel: env.EMBEDDING_MODEL || file.embeddingModel,
    databaseUrl: env.DATABASE_URL || file.databaseUrl,
    redisUrl: env.REDIS_URL || file.redisUrl,
    amqpUrl: env.AMQP_URL || file.amqpUrl,
    keyPrefix: env.KEY_PREFIX || 'rgw',
    modelCacheTtlMs: (intFromEnv(env, 'MODEL_CACHE_TTL_SECONDS') ?? file.modelCacheTtlSeconds ?? 60) * 1000,
    upstreamTimeoutMs: intFromEnv(env, 'UPSTREAM_TIMEOUT_MS') ?? file.upstreamTimeoutMs ?? 600_000,
    shutdownTimeoutMs: intFromEnv(env, 'SHUTDOWN_TIMEOUT_MS') ?? 10_000,
    providers,
    serviceUrls,
    gatewayUrl,
    internalToken,
    workers,
    headersTimeoutMs: intFromEnv(env, 'HEADERS_TIMEOUT_MS') ?? 30_000,
    requestTimeoutMs: intFromEnv(env, 'REQUEST_TIMEOUT_MS') ?? 300_000,
    keepAliveTimeoutMs: intFromEnv(env, 'KEEP_ALIVE_TIMEOUT_MS') ?? 65_000,
    proxyTimeoutMs: intFromEnv(env, 'PROXY_TIMEOUT_MS') ?? 300_000,
    upstreamMaxBodyBytes: parseSize(env.UPSTREAM_MAX_BODY ?? '64mb'),
    extproc: extprocFromEnv(env),
  };
}

function extprocFromEnv(env: NodeJS.ProcessEnv): ExtProcConfig | undefined {
  const port = intFromEnv(env, 'EXTPROC_PORT');
  if (port === undefined) return undefined;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`EXTPROC_PORT must be a port number, got '${env.EXTPROC_PORT}'`);
  const routing = (env.EXTPROC_BODY_ROUTING ?? '').toLowerCase();
  if (routing && !['1', '0', 'true', 'false', 'on', 'off'].includes(routing)) throw new Error(`EXTPROC_BODY_ROUTING must be on or off, got '${env.EXTPROC_BODY_ROUTING}'`);
  return {
    port,
    // Envoy's default per-connection buffer limit: a body it cannot buffer it refuses with its own 413.
    bufferLimitBytes: parseSize(env.EXTPROC_BUFFER_LIMIT ?? '1mb'),
    bodyRouting: ['1', 'true', 'on'].includes(routing),
    modelHeader: (env.EXTPROC_MODEL_HEADER || 'x-gateway-model-name').toLowerCase(),
  };
}
