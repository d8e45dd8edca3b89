import http, { type RequestListener, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Config } from '../config.js';
import { ApiError } from '../errors.js';
import type { Logger } from '../logging.js';
import { newRequestId } from './request-id.js';

export interface RunningServer {
  server: Server;
  url: string;
  /** Stops accepting, lets in-flight requests and streams finish within `timeoutMs`, then cuts the rest. */
  close(timeoutMs: number): Promise<void>;
}

/** Connection limits of every HTTP server we run (gateway and services); see Config for each. */
export type ServerLimits = Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'>;

const DEFAULT_LIMITS: ServerLimits = { headersTimeoutMs: 30_000, requestTimeoutMs: 300_000, keepAliveTimeoutMs: 65_000 };

/**
 * Listens with timeouts on every phase a client controls: its headers, its whole request, and idle
 * keep-alive time. `requestTimeout` only runs until the request has been received, so a long SSE
 * reply is never cut by it. Node's own parser errors (400, 431, 408) get the OpenAI envelope.
 */
export async function listen(handler: RequestListener, port: number, host: string, limits: Partial<ServerLimits> = {}): Promise<RunningServer> {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs } = { ...DEFAULT_LIMITS, ...limits };
  const server = http.createServer(
    {
      keepAliveTimeout: keepAliveTimeoutMs,
      // Node requires headersTimeout <= requestTimeout (0 disables the request timeout).
      requestTimeout: requestTimeoutMs,
      headersTimeout: requestTimeoutMs > 0 ? Math.min(headersTimeoutMs, requestTimeoutMs) : headersTimeoutMs,
      // How often the two timeouts above are checked: a fraction of the shorter one, at most 1 s.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(Math.min(headersTimeoutMs, requestTimeoutMs || headersTimeoutMs) / 4))),
    },
    handler,
  );
  server.on('clientError', answerClientError);
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

// Node's own choice of status for each parser error, kept, with our message and code.
const BAD_REQUEST = [400, 'Bad Request', 'The request is not valid HTTP/1.1.', 'bad_http_request'] as const;
const PARSER_ERRORS: Record<string, readonly [number, string, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'The request headers are too large.', 'headers_too_large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', 'The chunk extensions of the request are too large.', 'request_too_large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request was not received in time.', 'request_timeout'],
};

/**
 * Node's HTTP parser refused the request (malformed, headers too large, too slow): answer in the
 * envelope with a request id on the raw socket, as Node itself would answer with an empty body.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, reason, message, code] = PARSER_ERRORS[err.code ?? ''] ?? BAD_REQUEST;
  const body = JSON.stringify(new ApiError(status, message, { code }).toBody());
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `x-request-id: ${newRequestId()}\r\nconnection: close\r\n\r\n${body}`,
  );
  // A client that never reads must not hold the socket open.
  socket.setTimeout(5000, () => socket.destroy());
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
  installLastResortHandlers(logger);
}

let lastResortInstalled = false;

/**
 * The last line of defence of a process entry point (every one calls onShutdownSignal). A promise
 * rejected with nobody listening is a bug to log, not a reason to drop every other request in
 * flight: the process keeps serving. An exception thrown out of a callback leaves state unknown:
 * it is logged with its stack and the process exits, for the supervisor to restart it.
 */
export function installLastResortHandlers(logger: Logger): void {
  if (lastResortInstalled) return;
  lastResortInstalled = true;
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection (process keeps running)');
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting');
    logger.flush();
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
  });
}
