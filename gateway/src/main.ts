import { createLogger, installLastResortHandlers, keysConfigured, loadConfig, onShutdownSignal } from '@rgw/shared';
import { startGateway } from './gateway.js';

const config = loadConfig();
// In a container (the image sets RGW_CONTAINER=1) loopback is unreachable from outside, and open on
// every address must be asked for: without keys and without HOST the gateway would serve nobody.
if (process.env.RGW_CONTAINER === '1' && !keysConfigured(config) && !config.hostExplicit) {
  console.error(
    'refusing to start: no API key is configured (API_KEYS, ADMIN_API_KEY or auth in CONFIG_FILE), and in a container an open gateway must be asked for explicitly with HOST=0.0.0.0',
  );
  process.exit(1);
}
// From the first moment, not only once started: a broker that drops while the gateway is still
// setting up its consumers must be logged and reconnected to, not end the process.
const logger = createLogger('gateway');
installLastResortHandlers(logger);
const gateway = await startGateway(config, { logger });
onShutdownSignal(gateway.platform.logger, gateway.platform.config.shutdownTimeoutMs, () => gateway.close());
