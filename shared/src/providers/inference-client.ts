import type { Config } from '../config.js';
import { ApiError, BadGatewayError, upstreamError } from '../errors.js';
import { SseLineTooLongError, parseSse } from '../http/sse-parser.js';
import type { ModelCatalog } from './model-catalog.js';
import { brokenReply, readUpstreamError, sendUpstream, upstreamJson } from './upstream-http.js';

export interface CallOptions {
  requestId?: string;
  signal?: AbortSignal;
}

/**
 * Chat Completions and Embeddings against whichever provider serves the model, for services that
 * build on inference (responses, the ingest worker). The gateway's own pass-through path does not use it.
 */
function parseChunk<T>(providerId: string, data: string): T {
  let chunk: T & { error?: unknown };
  try {
    chunk = JSON.parse(data) as T & { error?: unknown };
  } catch {
    throw new BadGatewayError(`upstream provider '${providerId}' sent a stream event that is not JSON`, 'upstream_invalid_reply');
  }
  return withoutError(providerId, chunk);
}

/** Some servers report failures as an `error` object inside a stream chunk or a 200 reply. */
function withoutError<T>(providerId: string, value: T & { error?: unknown }): T {
  if (value && typeof value === 'object' && 'error' in value && value.error) {
    throw upstreamError(providerId, 502, JSON.stringify({ error: value.error }));
  }
  return value;
}

export class InferenceClient {
  constructor(readonly catalog: ModelCatalog, private readonly config: Pick<Config, 'upstreamTimeoutMs'> & Partial<Pick<Config, 'upstreamMaxBodyBytes'>>) {}

  async chatCompletion<T = unknown>(body: Record<string, unknown> & { model: string }, opts: CallOptions = {}): Promise<T> {
    const route = await this.catalog.resolve(body.model);
    const reply = await upstreamJson<T & { error?: unknown }>(route.provider, {
      method: 'POST',
      path: '/chat/completions',
      model: route.upstreamModel,
      body: JSON.stringify({ ...body, model: route.upstreamModel, stream: false }),
      timeoutMs: this.config.upstreamTimeoutMs,
      maxBodyBytes: this.config.upstreamMaxBodyBytes,
      ...opts,
    });
    return withoutError(route.provider.id, reply);
  }

  /** Streams chat-completion chunks as parsed JSON objects, ending at `[DONE]` or the end of the body. */
  async *chatCompletionStream<T = unknown>(body: Record<string, unknown> & { model: string }, opts: CallOptions = {}): AsyncGenerator<T> {
    const route = await this.catalog.resolve(body.model);
    const res = await sendUpstream(route.provider, {
      method: 'POST',
      path: '/chat/completions',
      model: route.upstreamModel,
      body: JSON.stringify({ ...body, model: route.upstreamModel, stream: true }),
      timeoutMs: this.config.upstreamTimeoutMs,
      maxBodyBytes: this.config.upstreamMaxBodyBytes,
      ...opts,
    });
    if ((res.statusCode ?? 502) >= 400) throw await readUpstreamError(res, route.provider.id);
    let done = false;
    try {
      for await (const ev of parseSse(res)) {
        // Read on past [DONE] to the end of the body: leaving early destroys the socket, and the
        // next call would pay for a new connection (and TLS handshake) to the model server.
        if (done || !ev.data) continue;
        if (ev.data === '[DONE]') {
          done = true;
          continue;
        }
        yield parseChunk<T>(route.provider.id, ev.data);
      }
    } catch (err) {
      if (err instanceof ApiError || opts.signal?.aborted) throw err;
      if (err instanceof SseLineTooLongError) {
        res.destroy();
        throw new BadGatewayError(`upstream provider '${route.provider.id}' sent a stream line longer than ${err.limit} bytes`, 'upstream_invalid_reply');
      }
      throw brokenReply(route.provider.id, err);
    }
  }

  async embeddings<T = unknown>(body: Record<string, unknown> & { model: string }, opts: CallOptions = {}): Promise<T> {
    const route = await this.catalog.resolve(body.model);
    return upstreamJson<T>(route.provider, {
      method: 'POST',
      path: '/embeddings',
      model: route.upstreamModel,
      body: JSON.stringify({ ...body, model: route.upstreamModel }),
      timeoutMs: this.config.upstreamTimeoutMs,
      maxBodyBytes: this.config.upstreamMaxBodyBytes,
      ...opts,
    });
  }
}
