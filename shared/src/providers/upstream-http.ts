import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { BadGatewayError, upstreamError } from '../errors.js';
import type { ProviderConfig } from '../config.js';

// Keep-alive agents: a fresh TCP (and TLS) handshake per inference call would dominate added latency.
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' });
const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' });

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Path below the provider's base URL, e.g. `/chat/completions`. */
  path: string;
  body?: string | Buffer;
  requestId?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Joins `/v1` style base URLs and endpoint paths without doubling or losing slashes. */
export function upstreamUrl(provider: ProviderConfig, path: string): URL {
  return new URL(provider.baseUrl.replace(/\/+$/, '') + path);
}

/**
 * Sends one request to a provider and resolves with its raw response as soon as the status line and
 * headers arrive, so callers can pipe a stream through unbuffered. Transport failures become 502.
 */
export function sendUpstream(provider: ProviderConfig, req: UpstreamRequest): Promise<IncomingMessage> {
  const url = upstreamUrl(provider, req.path);
  const isHttps = url.protocol === 'https:';
  const headers: Record<string, string | number> = { accept: 'application/json, text/event-stream' };
  if (provider.apiKey) headers.authorization = `Bearer ${provider.apiKey}`;
  if (req.requestId) headers['x-request-id'] = req.requestId;
  if (req.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(req.body);
  }
  return new Promise((resolve, reject) => {
    const outgoing = (isHttps ? https : http).request(
      url,
      { method: req.method, headers, agent: isHttps ? httpsAgent : httpAgent, signal: req.signal, timeout: req.timeoutMs },
      resolve,
    );
    outgoing.on('timeout', () => outgoing.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })));
    outgoing.on('error', (err: NodeJS.ErrnoException) => {
      if (err.name === 'AbortError') return reject(err);
      const timedOut = err.code === 'ETIMEDOUT';
      reject(
        new BadGatewayError(
          `upstream provider '${provider.id}' ${timedOut ? 'timed out' : 'is unreachable'} (${err.code ?? err.message}) at ${url.origin}`,
          timedOut ? 'upstream_timeout' : 'upstream_unreachable',
        ),
      );
    });
    outgoing.end(req.body);
  });
}

export async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A JSON request/response round trip; non-2xx replies are relayed as upstream errors. */
export async function upstreamJson<T = unknown>(provider: ProviderConfig, req: UpstreamRequest): Promise<T> {
  const res = await sendUpstream(provider, req);
  const text = await readBody(res);
  const status = res.statusCode ?? 502;
  if (status >= 400) throw upstreamError(provider.id, status, text);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new BadGatewayError(`upstream provider '${provider.id}' sent a reply that is not JSON`, 'upstream_invalid_reply');
  }
}
