import { Router } from 'express';
import { loadConfig, type Config } from './config.js';
import { installLastResortHandlers, listen, onShutdownSignal } from './http/http-server.js';
import { livenessHandler } from './http/liveness.js';
import { metricsHandler } from './metrics/registry.js';
import { createServiceApp } from './http/service-app.js';
import { createLogger, type Logger } from './logging.js';
import { createPlatform, processHealth, type Platform, type ServiceFactory } from './platform.js';
import { SERVICE_MANIFEST, serviceSpec, type ServiceName, type ServiceSpec } from './service-manifest.js';

/** A process started without the settings it needs: reported as one line, without a stack. */
export class StartupConfigError extends Error {}

export interface RunningService {
  url: string;
  platform: Platform;
  /** Stops accepting, lets in-flight requests finish (up to the shutdown budget), stops its workers, closes the platform. */
  close(): Promise<void>;
}

/**
 * Starts one service of the manifest as its own process's server: its routes (none for a worker),
 * a /health of its own that fails only for the platform parts it uses, /livez, and its queue
 * consumers. Port: PORT, else the service's default port.
 */
export async function startService(
  name: string,
  factory: ServiceFactory,
  opts: { config: Config; options?: unknown; logger?: Logger; manifest?: readonly ServiceSpec[]; port?: number },
): Promise<RunningService> {
  const spec = serviceSpec(name, opts.manifest ?? SERVICE_MANIFEST);
  const { config } = opts;
  if (!config.gatewayUrl) {
    throw new StartupConfigError(
      `GATEWAY_URL is not set: the ${name} service, run on its own, reaches the other services through the gateway. ` +
        'Set GATEWAY_URL (or gatewayUrl in CONFIG_FILE) to the gateway, e.g. GATEWAY_URL=http://127.0.0.1:8321',
    );
  }
  const platform = await createPlatform(config, name, { logger: opts.logger });
  let closing = false;
  try {
    const instance = await factory(platform, opts.options);
    const routes = Router();
    routes.get('/livez', livenessHandler);
    routes.get('/health', async (_req, res) => {
      const { ok, dependencies } = await processHealth(platform, spec.uses);
      res.status(ok ? 200 : 503).json({ status: ok ? 'OK' : 'Error', service: name, role: spec.role, dependencies });
    });
    // Readiness for probes: the parts this service uses answer, and it is not shutting down (a
    // draining pod leaves its Service's endpoints before the listener closes).
    routes.get('/readyz', async (_req, res) => {
      const { ok } = closing ? { ok: false } : await processHealth(platform, spec.uses);
      res.status(ok ? 200 : 503).json({ status: ok ? 'OK' : 'Error', service: name, ...(closing ? { closing } : {}) });
    });
    routes.get('/metrics', metricsHandler);
    if (instance.routes) routes.use(instance.routes);
    const server = await listen(createServiceApp({ logger: platform.logger, bodyLimitBytes: config.bodyLimitBytes, routes, internalToken: config.internalToken }), opts.port ?? spec.defaultPort, config.host, config);
    await instance.start?.();
    platform.logger.info({ url: server.url, service: name, role: spec.role, gatewayUrl: config.gatewayUrl }, 'service listening');
    return {
      url: server.url,
      platform,
      async close() {
        closing = true;
        await server.close(config.shutdownTimeoutMs);
        await instance.close?.();
        await platform.close();
      },
    };
  } catch (err) {
    await platform.close();
    throw err;
  }
}

/** The entry point of a service's own process (`services/<name>/src/main.ts`): start, and stop on SIGTERM. */
export async function runService(name: ServiceName, factory: ServiceFactory, options?: unknown): Promise<void> {
  const config = loadConfig();
  // From the first moment (see gateway/src/main.ts): a failure while starting is logged, not fatal.
  const logger = createLogger(name);
  installLastResortHandlers(logger);
  let service: RunningService;
  try {
    service = await startService(name, factory, { config, options, logger, port: process.env.PORT ? config.port : undefined });
  } catch (err) {
    // A set-up mistake (no GATEWAY_URL) is one plain line; anything else keeps its stack.
    console.error(err instanceof StartupConfigError ? `${name} service did not start: ${err.message}` : err);
    process.exit(1);
  }
  onShutdownSignal(service.platform.logger, config.shutdownTimeoutMs, () => service.close());
}
