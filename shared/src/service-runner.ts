import { createPlatform, platformHealth, type ServiceFactory } from './platform.js';
import { loadConfig } from './config.js';
import { createServiceApp } from './http/service-app.js';
import { listen, onShutdownSignal } from './http/http-server.js';
import { SERVICE_DEFAULT_PORTS, type ServiceName } from './route-table.js';
import { Router } from 'express';
import { livenessHandler } from './http/liveness.js';

/**
 * Runs one service as its own process (distributed mode): its routes, a /health of its own, its
 * queue consumers, and graceful shutdown. Port: PORT, else the service's default port.
 */
export async function runService(name: ServiceName, factory: ServiceFactory): Promise<void> {
  const config = loadConfig();
  const port = process.env.PORT ? config.port : SERVICE_DEFAULT_PORTS[name];
  const platform = await createPlatform(config, name);
  const instance = await factory(platform);
  const routes = Router();
  routes.get('/livez', livenessHandler);
  routes.get('/health', async (_req, res) => {
    const deps = await platformHealth(platform);
    const ok = Object.values(deps).every((d) => d.status === 'OK');
    res.status(ok ? 200 : 503).json({ status: ok ? 'OK' : 'Error', dependencies: deps });
  });
  routes.use(instance.routes);
  const server = await listen(createServiceApp({ logger: platform.logger, bodyLimitBytes: config.bodyLimitBytes, routes }), port, config.host, config);
  await instance.start?.();
  platform.logger.info({ url: server.url, service: name }, 'service listening');
  onShutdownSignal(platform.logger, config.shutdownTimeoutMs, async () => {
    await server.close(config.shutdownTimeoutMs);
    await instance.close?.();
    await platform.close();
  });
}
