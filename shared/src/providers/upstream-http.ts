import http, { type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { ApiError, BadGatewayError, upstreamError } from '../errors.js';
import type { ProviderConfig } from '../config.js';
import { observeModelCall } from '../metrics/model-metrics.js';

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
  /** Largest reply body read into memory (upstreamJson); default DEFAULT_MAX_REPLY_BYTES. */
  maxBodyBytes?: number;
  /** The model asked for, for the call's metrics (label `model`). */
  model?: string;
}

/** Default cap on a buffered upstream reply (Config.upstreamMaxBodyBytes overrides it). */
export const DEFAULT_MAX_REPLY_BYTES = 64 * 1024 ** 2;

/** An error reply is only read for its message: more than this is cut off and the connection dropped. */
export const MAX_ERROR_BODY_BYTES = 16 * 1024;

/** Joins `/v1` style base URLs and endpoint paths without doubling or losing slashes. */
export function upstreamUrl(provider: ProviderConfig, path: string): URL {
  return new URL(provider.baseUrl.replace(/\/+$/, '') + path);
}

interface Endpoint {
  origin: string;
  isHttps: boolean;
  /** The parts of the URL http.request uses, worked out once instead of parsing the URL on every call. */
  target: Pick<RequestOptions, 'protocol' | 'hostname' | 'port' | 'path' | 'auth'>;
  authorization?: string;
}

// Providers live as long as the config; the few paths we call per provider are resolved once each.
const endpoints = new WeakMap<ProviderConfig, Map<string, Endpoint>>();

function endpointOf(provider: ProviderConfig, path: string): Endpoint {
  let byPath = endpoints.get(provider);
  if (!byPath) endpoints.set(provider, (byPath = new Map()));
  let endpoint = byPath.get(path);
  if (!endpoint) {
    const url = upstreamUrl(provider, path);
    const { protocol, hostname, port, path: urlPath, auth } = urlToHttpOptions(url);
    endpoint = {
      origin: url.origin,
      isHttps: url.protocol === 'https:',
      target: { protocol, hostname, port, path: urlPath, auth },
      authorization: provider.apiKey ? `Bearer ${provider.apiKey}` : undefined,
    };
    byPath.set(path, endpoint);
  }
  return endpoint;
}

/**
 * One request to a provider: `response` resolves as soon as the status line and headers arrive, so
 * callers can pipe a stream through unbuffered; transport failures reject it with a 502. `abort()`
 * cancels the call at any point (rejecting `response` with an AbortError while it is still pending)
 * without the cost of an AbortController per request, which matters on the gateway's hot path.
 */
export class UpstreamCall {
  readonly response: Promise<IncomingMessage>;
  private outgoing!: ClientRequest;
  private cancelled = false;

  constructor(provider: ProviderConfig, req: UpstreamRequest) {
    const endpoint = endpointOf(provider, req.path);
    const headers: Record<string, string | number> = { accept: 'application/json, text/event-stream' };
    if (endpoint.authorization) headers.authorization = endpoint.authorization;
    if (req.requestId) headers['x-request-id'] = req.requestId;
    if (req.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(req.body);
    }
    const { target, isHttps } = endpoint;
    // One literal of a fixed shape: spreading the URL's options, or passing a URL, costs more per call.
    const options: RequestOptions = {
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      path: target.path,
      auth: target.auth,
      agent: isHttps ? httpsAgent : httpAgent,
      method: req.method,
      headers,
      timeout: req.timeoutMs,
      signal: req.signal,
    };
    this.response = new Promise((resolve, reject) => {
      const send = (retry: boolean) => {
        const outgoing = (isHttps ? https : http).request(options, resolve);
        this.outgoing = outgoing;
        outgoing.on('timeout', () => outgoing.destroy(Object.assign(new Error('upstream timed out'), { code: 'ETIMEDOUT' })));
        outgoing.on('error', (err: NodeJS.ErrnoException) => {
          if (err.name === 'AbortError') return reject(err);
          // A pooled keep-alive connection the server closed just as we reused it (servers time idle
          // connections out, e.g. after 5 s): nothing reached the server, so it is sent once more on
          // a fresh connection, as Node's documentation advises.
          if (retry && outgoing.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && !this.cancelled) return send(false);
          const timedOut = err.code === 'ETIMEDOUT';
          // The provider's address stays in our logs, not in the client's error message.
          reject(
            new BadGatewayError(
              `upstream provider '${provider.id}' ${timedOut ? 'timed out' : 'is unreachable'}${err.code ? ` (${err.code})` : ''}`,
              timedOut ? 'upstream_timeout' : 'upstream_unreachable',
            ),
          );
        });
        outgoing.end(req.body);
      };
      send(true);
    });
    observeModelCall(this.response, provider.id, req.model, req.path);
  }

  get aborted(): boolean {
    return this.cancelled;
  }

  /** Cancels the call and frees its connection, as aborting its AbortSignal would. */
  abort(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.outgoing.destroy(new AbortError());
  }
}

/** The same error Node raises when a request's AbortSignal fires (so logs and handlers see no difference). */
class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor() {
    super('The operation was aborted', { cause: new DOMException('This operation was aborted', 'AbortError') });
    this.name = 'AbortError';
  }
}

/**
 * Sends one request to a provider and resolves with its raw response as soon as the status line and
 * headers arrive, so callers can pipe a stream through unbuffered. Transport failures become 502.
 */
export function sendUpstream(provider: ProviderConfig, req: UpstreamRequest): Promise<IncomingMessage> {
  return new UpstreamCall(provider, req).response;
}

/**
 * Reads a whole upstream reply up to `maxBytes`; a reply that breaks off is the provider's failure
 * (502), not ours, and so is one larger than the cap (its connection is dropped, not read to the end).
 */
export function readBody(res: IncomingMessage, providerId: string, maxBytes = DEFAULT_MAX_REPLY_BYTES): Promise<string> {
  return readCapped(res, maxBytes).then(
    ({ text, cut }) => {
      if (cut) throw new BadGatewayError(`upstream provider '${providerId}' sent a reply larger than the limit of ${maxBytes} bytes`, 'upstream_reply_too_large');
      return text;
    },
    (err) => {
      throw brokenReply(providerId, err);
    },
  );
}

/**
 * The status and message of an upstream error reply, from at most MAX_ERROR_BODY_BYTES of its body:
 * a 100 MB error page is neither buffered nor relayed.
 */
export async function readUpstreamError(res: IncomingMessage, providerId: string): Promise<ApiError> {
  let text: string;
  try {
    text = (await readCapped(res, MAX_ERROR_BODY_BYTES)).text;
  } catch (err) {
    return brokenReply(providerId, err);
  }
  return upstreamError(providerId, res.statusCode ?? 502, text);
}

/** Collects up to `maxBytes` of a body; past that the body is abandoned and its socket destroyed. */
function readCapped(res: IncomingMessage, maxBytes: number): Promise<{ text: string; cut: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (cut: boolean) => {
      res.off('data', onData);
      res.off('end', onEnd);
      res.off('close', onClose);
      resolve({ text: Buffer.concat(chunks).toString('utf8'), cut });
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > maxBytes) {
        chunks.push(chunk.subarray(0, maxBytes - size));
        size = maxBytes;
        done(true);
        res.destroy();
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = () => done(false);
    const onClose = () => {
      if (!res.complete) reject(Object.assign(new Error('connection closed before the end of the reply'), { code: 'ECONNRESET' }));
    };
    res.on('data', onData);
    res.once('end', onEnd);
    res.once('close', onClose);
    res.on('error', (err) => reject(err));
  });
}

export function brokenReply(providerId: string, err: unknown): BadGatewayError {
  const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new BadGatewayError(`upstream provider '${providerId}' broke off its reply (${reason})`, 'upstream_unreachable');
}

/** A JSON request/response round trip; non-2xx replies are relayed as upstream errors. */
export async function upstreamJson<T = unknown>(provider: ProviderConfig, req: UpstreamRequest): Promise<T> {
  const res = await sendUpstream(provider, req);
  if ((res.statusCode ?? 502) >= 400) throw await readUpstreamError(res, provider.id);
  const text = await readBody(res, provider.id, req.maxBodyBytes);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new BadGatewayError(`upstream provider '${provider.id}' sent a reply that is not JSON`, 'upstream_invalid_reply');
  }
}
