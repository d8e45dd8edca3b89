import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import {
  InvalidRequestError,
  SSE_HEADERS,
  readBody,
  sendUpstream,
  upstreamError,
  validate,
  type ModelCatalog,
} from '@rgw/shared';
import { chatCompletionRequestSchema } from './inference-schemas.js';
import { readJsonBody } from './request-body.js';

export interface PassThroughContext {
  catalog: ModelCatalog;
  bodyLimitBytes: number;
  upstreamTimeoutMs: number;
}

/**
 * POST /v1/chat/completions: validated, routed by `model`, and relayed byte for byte. The request
 * body is re-serialised only when the model id has to be rewritten (`provider/model`); the reply,
 * streamed or not, is piped chunk by chunk as it arrives. A client that goes away aborts the upstream call.
 */
export async function chatCompletions(req: IncomingMessage, res: ServerResponse, ctx: PassThroughContext, requestId: string): Promise<void> {
  const { raw, json } = await readBodyFor(req, ctx);
  const body = validate(chatCompletionRequestSchema, json);
  const route = await ctx.catalog.resolve(body.model);
  const payload = route.upstreamModel === body.model ? raw : JSON.stringify({ ...body, model: route.upstreamModel });

  const abort = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) abort.abort();
  };
  res.once('close', onClose);
  const upstream = await sendUpstream(route.provider, {
    method: 'POST',
    path: '/chat/completions',
    body: payload,
    requestId,
    signal: abort.signal,
    timeoutMs: ctx.upstreamTimeoutMs,
  });
  const status = upstream.statusCode ?? 502;
  if (status >= 400) throw upstreamError(route.provider.id, status, await readBody(upstream));

  const contentType = upstream.headers['content-type'] ?? 'application/json';
  if (contentType.startsWith('text/event-stream')) {
    res.writeHead(status, SSE_HEADERS);
    res.flushHeaders();
  } else {
    const headers: Record<string, string> = { 'content-type': contentType };
    const length = upstream.headers['content-length'];
    if (length) headers['content-length'] = length;
    res.writeHead(status, headers);
  }
  try {
    await pipeline(upstream, res);
  } catch (err) {
    // The client left (upstream aborted by us) or the upstream broke mid-body: nothing left to tell anyone.
    if (!abort.signal.aborted) res.destroy(err as Error);
  } finally {
    res.off('close', onClose);
  }
}

/** Reads and parses the JSON body; a body that says it is not JSON is refused before it is read. */
export async function readBodyFor(req: IncomingMessage, ctx: PassThroughContext) {
  if (!(req.headers['content-type'] ?? '').includes('json') && req.headers['content-type'] !== undefined) {
    throw new InvalidRequestError(`Expected a JSON body (content-type application/json), got '${req.headers['content-type']}'.`, null, 'invalid_content_type');
  }
  return readJsonBody(req, ctx.bodyLimitBytes);
}
