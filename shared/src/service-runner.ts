import { Router } from 'express';
import { loadConfig } from './config.js';
import { listen, onShutdownSignal } from './http/http-server.js';
import { livenessHandler } from './http/liveness.js';
import { createServiceApp } from './http/service-app.js';
import { createPlatform, processHealth, type ServiceFactory } from './platform.js';
import { serviceSpec, type ServiceName } from './service-manifest.js';

/**
 * Runs one service of the manifest as its own process (distributed mode): its routes (none for a
 * worker), a /health of its own that fails only for the platform parts it uses, /livez, its queue
 * consumers, and graceful shutdown. Port: PORT, else the service's default port. Needs GATEWAY_URL:
 * services reach each other only through the gateway.
 */
export async function runService(name: ServiceName, factory: ServiceFactory, options?: unknown): Promise<void> {
  const spec = serviceSpec(name);
  const config = loadConfig();
  if (!config.gatewayUrl) {
    // A set-up mistake, not a crash: one plain line, no stack.
    console.error(
      `GATEWAY_URL is not set: the ${name} service, run on its own, reaches the other services through the gateway. ` +
        'Set GATEWAY_URL (or gatewayUrl in CONFIG_FILE) to the gateway, e.g. GATEWAY_URL=http://127.0.0.1:8321',
    );
    process.exit(2);
  }
  const port = process.env.PORT ? config.port : spec.defaultPort;
  const platform = await createPlatform(config, name);
  const instance = await factory(platform, options);
  const routes = Router();
  routes.get('/livez', livenessHandler);
  routes.get('/health', async (_req, res) => {
    const { ok, dependencies } = await processHealth(platform, spec.uses);
    res.status(ok ? 200 : 503).json({ status: ok ? 'OK' : 'Error', service: name, role: spec.role, dependencies });
  });
  if (instance.routes) routes.use(instance.routes);
  const server = await listen(createServiceApp({ logger: platform.logger, bodyLimitBytes: config.bodyLimitBytes, routes }), port, config.host);
  await instance.start?.();
  platform.logger.info({ url: server.url, service: name, role: spec.role, gatewayUrl: config.gatewayUrl }, 'service listening');
  onShutdownSignal(platform.logger, config.shutdownTimeoutMs, async () => {
    await server.close(config.shutdownTimeoutMs);
    await instance.close?.();
    await platform.close();
  });
}
