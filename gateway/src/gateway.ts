import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express from 'express';
import {
  SERVICE_MANIFEST,
  checkManifest,
  createPlatform,
  placeServices,
  routesOf,
  createServiceApp,
  errorMiddleware,
  listen,
  notFoundHandler,
  assignRequestId,
  requestContext,
  routerFor,
  sendError,
  lingerAfterEarlyAnswer,
  serviceForPath,
  signPrincipal,
  stripInternalHeaders,
  keysConfigured,
  toApiError,
  trackHttpRequest,
  usageOf,
  type Config,
  type Logger,
  type Placement,
  type PlacedService,
  type Principal,
  type Platform,
  type ServiceFactory,
  type ServiceInstance,
  type ServiceSpec,
} from '@rgw/shared';
import { randomBytes } from 'node:crypto';
import { adminRoutes } from './auth/admin-routes.js';
import { Gatekeeper, estimateTokens, type Caller } from './auth/gatekeeper.js';
import { chatCompletions, type PassThroughContext } from './inference/pass-through.js';
import { embeddings } from './inference/embeddings.js';
import { introspection } from './routes/api-description.js';
import { docsRoutes } from './routes/docs-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { introspectionRouteDescriptors } from './routes/introspection-routes.js';
import { modelsRoutes } from './routes/models-routes.js';
import { corsPolicy } from './cors.js';
import type { ExtProcServer } from './extproc/index.js';
import { checkFactories, SERVICE_FACTORIES } from './service-registry.js';

export interface Gateway {
  url: string;
  platform: Platform;
  /** The api services running in this process; the rest are proxied to their URLs. */
  mounted: string[];
  /** Where each service of the manifest runs (mounted, proxied, in-process or external worker). */
  placements: PlacedService[];
  close(): Promise<void>;
}

/** What the gateway runs: the real manifest and registry, or a test's own. */
export interface GatewayServices {
  manifest: readonly ServiceSpec[];
  factories: Readonly<Record<string, ServiceFactory>>;
  /** Per-service factory options (e.g. the server tools of the responses service). */
  options?: Readonly<Record<string, unknown>>;
}

type InferenceHandler = (req: IncomingMessage, res: ServerResponse, ctx: PassThroughContext, requestId: string, caller: Caller) => Promise<void>;

/** Answered without a key: orchestrators and monitors call them. */
const PROBES = new Set(['/health', '/v1/health', '/livez', '/readyz', '/metrics']);
/** Answered without a key too: the API description is no secret (Llama Stack's version is public as well). */
const PUBLIC = new Set(['/openapi.json', '/openapi.yaml', '/v1/version']);
const isPublic = (path: string) => PROBES.has(path) || PUBLIC.has(path) || path === '/docs' || path.startsWith('/docs/');
const ADMIN_PREFIX = '/v1/organization';

// Served by the gateway itself on a bare node:http path: Express routing and middleware would cost
// the hot inference path more than the whole proxy hop (see bench/).
const INFERENCE: Record<string, InferenceHandler> = {
  '/v1/chat/completions': chatCompletions,
  '/v1/embeddings': embeddings,
};

/**
 * Starts the gateway. Each api service of the manifest whose URL is configured is proxied to; every
 * other one is created here and mounted in-process, so one process with no URLs is the embedded
 * platform. Workers run here too unless WORKERS=external.
 */
export async function startGateway(givenConfig: Config, opts: { logger?: Logger; services?: GatewayServices } = {}): Promise<Gateway> {
  const services: GatewayServices = opts.services ?? { manifest: SERVICE_MANIFEST, factories: SERVICE_FACTORIES };
  checkManifest(services.manifest);
  checkFactories(services.manifest, services.factories);
  const placements = placeServices(services.manifest, { serviceUrls: givenConfig.serviceUrls, workers: givenConfig.workers });
  const config = withInternalToken(givenConfig, placements);
  const keysRequired = keysConfigured(config);
  // Open (no key) listens on loopback unless HOST says otherwise.
  const host = keysRequired || config.hostExplicit ? config.host : '127.0.0.1';
  const routes = routesOf(services.manifest);
  let url = '';
  // Set once close() starts: /readyz then fails, so the pod leaves its Service before the listener closes.
  let draining = false;
  const platform = await createPlatform(config, 'gateway', { logger: opts.logger, gatewayUrl: () => url });
  const logger = platform.logger;
  const instances: ServiceInstance[] = [];
  const mounts: Record<string, RequestListener> = {};
  let gate: Gatekeeper;
  try {
    gate = await Gatekeeper.create(platform);
    for (const { spec, placement, url: remote } of placements) {
      if (placement === 'external') continue;
      if (placement === 'proxied') {
        // http-proxy-middleware loads only where a service is proxied (distributed).
        const { serviceProxy } = await import('./service-proxy.js');
        const proxy = serviceProxy(spec.name, remote!, logger, config.proxyTimeoutMs);
        mounts[spec.name] = (req, res) => {
          assignRequestId(req, res);
          proxy(req, res);
        };
        continue;
      }
      const instance = await services.factories[spec.name]!(platform, services.options?.[spec.name]);
      instances.push(instance);
      if (placement === 'mounted') {
        if (!instance.routes) throw new Error(`api service '${spec.name}' has no routes to mount`);
        mounts[spec.name] = createServiceApp({ logger, bodyLimitBytes: config.bodyLimitBytes, routes: instance.routes, internalToken: config.internalToken });
      }
    }
  } catch (err) {
    for (const instance of instances) await instance.close?.().catch(() => {});
    await (gate! as Gatekeeper | undefined)?.close().catch(() => {});
    await platform.close();
    throw err;
  }
  // The metrics label of a request no Express route of this process matches: the fixed paths the
  // gateway serves itself as they are, a proxied service's requests by its prefix (its own process
  // labels them by route), anything else `unmatched` (a raw path per request would be unbounded).
  const fixedPaths = new Set([...PROBES, ...Object.keys(INFERENCE)]);
  const routeLabel = (path: string, method: string | undefined): string | undefined => {
    if (fixedPaths.has(path)) return method === 'OPTIONS' ? 'preflight' : path;
    const owner = routes.find((r) => path === r.prefix || path.startsWith(`${r.prefix}/`));
    return owner ? `${owner.prefix}/*` : undefined;
  };
  const names = (p: Placement) => placements.filter((s) => s.placement === p).map((s) => s.spec.name);

  const app = express();
  app.disable('x-powered-by');
  app.use(requestContext(logger));
  app.use(healthRoutes(platform, placements, () => draining));
  app.use(modelsRoutes(platform.catalog));
  app.use(routerFor(introspectionRouteDescriptors(introspection), { bodyLimitBytes: config.bodyLimitBytes }));
  app.use(docsRoutes());
  app.use(adminRoutes(gate, config.bodyLimitBytes));
  app.use(notFoundHandler);
  app.use(errorMiddleware(logger));

  const inferenceCtx: PassThroughContext = {
    catalog: platform.catalog,
    bodyLimitBytes: config.bodyLimitBytes,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    upstreamMaxBodyBytes: config.upstreamMaxBodyBytes,
    gate,
  };

  /** The one error path of the inference handlers: the envelope, or nothing when nobody is left to answer. */
  const failInference = (req: IncomingMessage, res: ServerResponse, err: unknown, requestId: string, path: string) => {
    // The client went away (and its upstream call was aborted). `req.socket` is null once Node has
    // let go of the connection, so it is not trusted to be there.
    if (res.destroyed || !req.socket || req.socket.destroyed) {
      logger.info({ reqId: requestId, url: path, error: (err as Error).message }, 'client disconnected');
      return;
    }
    const apiError = toApiError(err, config.bodyLimitBytes);
    if (apiError.status >= 500 && apiError.code === 'internal_error') logger.error({ reqId: requestId, err }, 'unhandled error');
    // A model server failing (5xx) is an operator's concern, not a client's mistake: warn.
    else logger[apiError.status >= 500 ? 'warn' : 'info']({ reqId: requestId, url: path, status: apiError.status, code: apiError.code, error: apiError.message, ...usageOf(res) }, 'request failed');
    // The body may not have been read to its end (a 413, a refused content type): what the client is
    // still sending is drained for a moment so the reply reaches it (closing at once would reset the
    // connection under a client that is still writing), then the connection is cut.
    lingerAfterEarlyAnswer(req, res);
    sendError(res, apiError);
  };

  /** A request refused before it reached its handler (401, 403, 429): answered with the body still unread. */
  const refuse = (req: IncomingMessage, res: ServerResponse, err: unknown, path: string) => {
    const requestId = assignRequestId(req, res);
    failInference(req, res, err, requestId, path);
  };

  const cors = corsPolicy(config.corsAllowedOrigins);
  const handler: RequestListener = (req, res) => {
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    trackHttpRequest(req, res, routeLabel(path, req.method));
    if (cors?.(req, res)) return;
    if (isPublic(path)) {
      stripInternalHeaders(req.headers);
      return app(req, res);
    }
    if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) {
      gate.authenticateAdmin(req).then(() => app(req, res), (err) => refuse(req, res, err, path));
      return;
    }
    const inference = req.method === 'POST' ? INFERENCE[path] : undefined;
    if (inference) {
      const requestId = assignRequestId(req, res);
      const started = process.hrtime.bigint();
      // Key (one hash and a map lookup), rate limits, then the handler: no database round trip.
      const run = async () => {
        const { principal, internal } = await gate.authenticate(req);
        const caller: Caller = { principal, estimate: estimateTokens(req) };
        if (!internal) setHeaders(res, await gate.admit(caller));
        await inference(req, res, inferenceCtx, requestId, caller);
      };
      run().then(
        () => logger.info({ reqId: requestId, method: 'POST', url: path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6, ...usageOf(res) }, 'request'),
        (err) => failInference(req, res, err, requestId, path),
      );
      return;
    }
    const service = serviceForPath(path, routes);
    gate.authenticate(req).then(async ({ principal, internal }) => {
      // Calls our own services make on a client's behalf were counted when the client's request was.
      if (!internal) setHeaders(res, await gate.admit({ principal, estimate: 0 }));
      if (!service) return app(req, res);
      // Who is calling, signed, for the service (mounted here or behind the proxy) to act for.
      if (config.internalToken) Object.assign(req.headers, signed(principal, config.internalToken));
      mounts[service]!(req, res);
    }).catch((err) => refuse(req, res, err, path));
  };

  const server = await listen(handler, config.port, host, config);
  url = server.url;
  // ExtProc mode (EXTPROC_PORT): Envoy's external processor, answering through the listener above.
  let extproc: ExtProcServer | undefined;
  if (config.extproc) {
    // gRPC and the .proto files load only with ExtProc on.
    const { startExtProc } = await import('./extproc/index.js');
    extproc = await startExtProc({
      config: config.extproc,
      host,
      target: url,
      logger,
      // Body routing sends inference past our listener: the key, limits and model access are checked here.
      authorize: async (headers, model) => {
        const req = { headers } as IncomingMessage;
        const { principal, internal } = await gate.authenticate(req);
        if (!internal) await gate.admit({ principal, estimate: estimateTokens(req) });
        gate.checkModel(principal, model);
      },
    }).catch(async (err) => {
      await server.close(0);
      throw err;
    });
  }
  for (const instance of instances) await instance.start?.();
  await gate.start();
  if (!keysRequired) {
    if (isLoopback(host)) logger.info({ host }, 'no API key configured: the platform is open to every caller, so it listens on loopback only (set API_KEYS or ADMIN_API_KEY to require keys)');
    else logger.warn({ host }, `OPEN ON A NON-LOOPBACK ADDRESS: no API key is configured and HOST=${host} was asked for, so anyone who reaches this port can use the model servers and read every stored object`);
  }
  // Says which service runs where, so a service that was meant to be proxied but is mounted shows.
  logger.info(
    { url, mounted: names('mounted'), proxied: Object.fromEntries(placements.filter((p) => p.url).map((p) => [p.spec.name, p.url])), workers: { inProcess: names('in-process'), external: names('external') } },
    'gateway listening',
  );
  if (config.providers.length === 0) {
    logger.warn('no model provider configured: set BACKEND_BASE_URL (and BACKEND_API_KEY) or CONFIG_FILE to serve models');
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    platform,
    mounted: names('mounted'),
    placements,
    close: () =>
      (closing ??= (async () => {
        draining = true;
        await extproc?.close(config.shutdownTimeoutMs);
        await server.close(config.shutdownTimeoutMs);
        for (const instance of instances) await instance.close?.().catch((err) => logger.error({ err }, 'service close failed'));
        await gate.close().catch((err) => logger.error({ err }, 'usage flush failed'));
        await platform.close();
      })()),
  };
}

/** How long signed principal headers are reused: far inside the verifiers' allowed clock skew. */
const SIGNATURE_REUSE_MS = 10_000;
const signatures = new WeakMap<Principal, { at: number; headers: Record<string, string> }>();

/**
 * signPrincipal, kept per principal object for a few seconds: the gatekeeper hands out the same
 * object for a key, so a busy client's requests share one JSON encoding and one HMAC.
 */
function signed(principal: Principal, secret: string): Record<string, string> {
  const now = Date.now();
  const kept = signatures.get(principal);
  if (kept && now - kept.at < SIGNATURE_REUSE_MS) return kept.headers;
  const headers = signPrincipal(principal, secret, now);
  signatures.set(principal, { at: now, headers });
  return headers;
}

function setHeaders(res: ServerResponse, headers: Record<string, string>): void {
  for (const name in headers) res.setHeader(name, headers[name]!);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * With keys required, services verify a principal signed with the internal token. Embedded, one is
 * made up at start when none is configured (every verifier is in this process); a service or worker
 * in another process must share it, so a gateway with keys, other processes and no INTERNAL_TOKEN
 * would refuse every call and does not start.
 */
function withInternalToken(config: Config, placements: PlacedService[]): Config {
  if (config.internalToken || !keysConfigured(config)) return config;
  const remote = placements.filter((p) => p.placement === 'proxied' || p.placement === 'external').map((p) => p.spec.name);
  if (remote.length) {
    throw new Error(
      `API keys are configured and ${remote.join(', ')} run${remote.length === 1 ? 's' : ''} in other processes, but INTERNAL_TOKEN is not set: set the same INTERNAL_TOKEN (a long random secret) for the gateway and every service`,
    );
  }
  return { ...config, internalToken: randomBytes(32).toString('base64url') };
}
