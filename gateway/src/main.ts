import { loadConfig, onShutdownSignal } from '@rgw/shared';
import { startGateway } from './gateway.js';

const gateway = await startGateway(loadConfig());
onShutdownSignal(gateway.platform.logger, gateway.platform.config.shutdownTimeoutMs, () => gateway.close());
