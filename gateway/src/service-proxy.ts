import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createProxyMiddleware, debugProxyErrorsPlugin, proxyEventsPlugin } from 'http-proxy-middleware';
import { GatewayTimeoutError, ServiceUnreachableError, errorEventData, sendError, sseFrame, type ApiError, type Logger } from '@rgw/shared';

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });

const PROXY_TIMEOUT_CODE = 'RGW_PROXY_TIMEOUT';

/**
 * Forwards a service's routes to its own process. Nothing parses the body before this point, so POST
 * bodies and SSE streams pass through unbuffered. Failures are ours, in the envelope, and never name
 * the service's address: unreachable is a 502, no response headers within `timeoutMs` is a 504
 * (a stream that has started is never cut by it), and a service that dies mid-reply ends the client's
 * reply too: an event stream with a final `error` event, anything else by closing the connection.
 */
export function serviceProxy(service: string, target: string, logger: Logger, timeoutMs = 300_000) {
  const proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
    target,
    agent,
    xfwd: true,
    // The default plugins less the logger's, which builds two URLs and walks the agent's sockets for
    // every reply to hand a line to a logger that drops it (we log requests ourselves).
    ejectPlugins: true,
    plugins: [debugProxyErrorsPlugin, proxyEventsPlugin],
    on: {
      proxyReq: (proxyReq, _req, res) => {
        // http-proxy only watches for 'aborted', which Node no longer emits once the body was read: tie
        // the service request to the client's connection so a departed client stops the work behind it.
        res.on('close', () => {
          if (!res.writableFinished) proxyReq.destroy();
        });
        if (timeoutMs > 0) {
          const timer = setTimeout(() => proxyReq.destroy(Object.assign(new Error('service did not answer in time'), { code: PROXY_TIMEOUT_CODE })), timeoutMs);
          const clear = () => clearTimeout(timer);
          proxyReq.once('response', clear);
          proxyReq.once('close', clear);
        }
      },
      proxyRes: (proxyRes, _req, res) => {
        const eventStream = String(proxyRes.headers['content-type'] ?? '').startsWith('text/event-stream');
        // The last chunk relayed, to carry the stream's sequence numbering into a final error event.
        let last: Buffer | undefined;
        if (eventStream) proxyRes.on('data', (chunk: Buffer) => (last = chunk));
        proxyRes.on('error', () => {}); // reported through 'close' below
        proxyRes.once('close', () => {
          if (proxyRes.complete || res.writableEnded || res.destroyed) return;
          logger.warn({ service, reqId: res.getHeader('x-request-id') }, 'service broke off its reply');
          proxyRes.unpipe(res);
          if (eventStream) res.end(errorEvent(new ServiceUnreachableError(`The ${service} service broke off its reply.`), last));
          else res.destroy();
        });
      },
      error: (err, _req, res) => {
        const code = (err as NodeJS.ErrnoException).code;
        if (!('setHeader' in res)) {
          (res as Socket).destroy();
          return;
        }
        if (res.destroyed || res.writableEnded) return;
        const timedOut = code === PROXY_TIMEOUT_CODE;
        logger.warn({ service, target, err: (err as Error).message, reqId: res.getHeader('x-request-id') }, timedOut ? 'service timed out' : 'service unreachable');
        const apiError = timedOut
          ? new GatewayTimeoutError(`The ${service} service did not answer within ${timeoutMs} ms.`)
          : new ServiceUnreachableError(`The ${service} service is unreachable${code && !code.startsWith('RGW_') ? ` (${code})` : ''}.`);
        if (res.headersSent) {
          // Mid-reply: the status is out already; close the reply as the 'close' handler above would.
          const eventStream = String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');
          if (eventStream) res.end(errorEvent(apiError, undefined));
          else res.destroy();
          return;
        }
        sendError(res, apiError);
      },
    },
  });
  return (req: IncomingMessage, res: ServerResponse) => proxy(req, res, () => undefined);
}

const SEQUENCE = Buffer.from('"sequence_number":');

/** A bare Responses-stream `error` event, numbered after the last event relayed when it can tell. */
function errorEvent(err: ApiError, last: Buffer | undefined): string {
  const at = last ? last.lastIndexOf(SEQUENCE) : -1;
  const match = last && at !== -1 ? /^\d+/.exec(last.toString('latin1', at + SEQUENCE.length, at + SEQUENCE.length + 20)) : null;
  return sseFrame('error', errorEventData(err, match ? Number(match[0]) + 1 : undefined));
}
