import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createProxyMiddleware } from 'http-proxy-middleware';
import { BadGatewayError, sendError, type Logger } from '@rgw/shared';

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });

/**
 * Forwards a service's routes to its own process. Nothing parses the body before this point, so POST
 * bodies and SSE streams pass through unbuffered; a service that cannot be reached gets a 502 envelope.
 */
export function serviceProxy(service: string, target: string, logger: Logger) {
  const proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
    target,
    agent,
    xfwd: true,
    proxyTimeout: 0,
    on: {
      // http-proxy only watches for 'aborted', which Node no longer emits once the body was read: tie
      // the service request to the client's connection so a departed client stops the work behind it.
      proxyReq: (proxyReq, _req, res) => {
        res.on('close', () => {
          if (!res.writableFinished) proxyReq.destroy();
        });
      },
      error: (err, _req, res) => {
        logger.warn({ service, err: (err as Error).message }, 'service unreachable');
        if ('setHeader' in res) sendError(res, new BadGatewayError(`The ${service} service is unreachable (${(err as NodeJS.ErrnoException).code ?? err.message}).`, 'service_unreachable'));
        else res.destroy();
      },
    },
  });
  return (req: IncomingMessage, res: ServerResponse) => proxy(req, res, () => undefined);
}
