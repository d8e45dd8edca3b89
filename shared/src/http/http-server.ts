import http, { type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logging.js';

export interface RunningServer {
  server: Server;
  url: string;
  /** Stops accepting, lets in-flight requests and streams finish within `timeoutMs`, then cuts the rest. */
  close(timeoutMs: number): Promise<void>;
}

export async function listen(handler: RequestListener, port: number, host: string): Promise<RunningServer> {
  const server = http.createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    server,
    url: `http://${shownHost}:${addr.port}`,
    close: (timeoutMs) => closeGracefully(server, timeoutMs),
  };
}

function closeGracefully(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), timeoutMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    // Idle keep-alive sockets would otherwise hold close() open until they time out.
    server.closeIdleConnections();
  });
}

/**
 * Runs `shutdown` once on SIGTERM or SIGINT and exits: 0 when it finished, 1 when it failed or did
 * not finish within `timeoutMs` plus a margin (a hung job must not keep the process alive forever).
 */
export function onShutdownSignal(logger: Logger, timeoutMs: number, shutdown: () => Promise<void>): void {
  let stopping = false;
  const exit = (code: number) => {
    logger.flush();
    process.exit(code);
  };
  const handler = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown did not finish in time; exiting');
      exit(1);
    }, timeoutMs + 5000).unref();
    shutdown().then(
      () => exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        exit(1);
      },
    );
  };
  process.once('SIGTERM', () => handler('SIGTERM'));
  process.once('SIGINT', () => handler('SIGINT'));
}
