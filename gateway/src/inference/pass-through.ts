import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  SSE_HEADERS,
  UpstreamCall,
  countTokens,
  readUpstreamError,
  validate,
  type ModelCatalog,
} from '@rgw/shared';
import type { Caller, Gatekeeper } from '../auth/gatekeeper.js';
import { UsageTap } from '../auth/usage-tap.js';
import { chatCompletionRequestSchema } from './inference-schemas.js';
import { readBodyFor } from './request-body.js';

export interface PassThroughContext {
  catalog: ModelCatalog;
  bodyLimitBytes: number;
  upstreamTimeoutMs: number;
  /** Cap on a reply the gateway has to buffer (embeddings); streamed replies are never buffered. */
  upstreamMaxBodyBytes: number;
  /** Model access and usage of the caller's key. */
  gate: Gatekeeper;
}

/**
 * POST /v1/chat/completions: validated, routed by `model`, and relayed byte for byte. The request
 * body is re-serialised only when the model id has to be rewritten (`provider/model`); the reply,
 * streamed or not, is piped chunk by chunk as it arrives. A client that goes away aborts the upstream call.
 */
export async function chatCompletions(req: IncomingMessage, res: ServerResponse, ctx: PassThroughContext, requestId: string, caller: Caller): Promise<void> {
  const { raw, json } = await readBodyFor(req, ctx);
  const body = validate(chatCompletionRequestSchema, json);
  ctx.gate.checkModel(caller.principal, body.model);
  const route = await ctx.catalog.resolve(body.model);
  const payload = route.upstreamModel === body.model ? raw : JSON.stringify({ ...body, model: route.upstreamModel });
  // The client may have left while the body was read or the model resolved (a cold model list can
  // take seconds): starting the upstream call now would run a generation nobody waits for.
  if (res.destroyed || !req.socket || req.socket.destroyed) return;

  const call = new UpstreamCall(route.provider, {
    method: 'POST',
    path: '/chat/completions',
    model: route.upstreamModel,
    body: payload,
    requestId,
    timeoutMs: ctx.upstreamTimeoutMs,
  });
  res.once('close', () => {
    if (!res.writableFinished) call.abort();
  });
  const upstream = await call.response;
  const status = upstream.statusCode ?? 502;
  if (status >= 400) throw await readUpstreamError(upstream, route.provider.id);

  const contentType = upstream.headers['content-type'] ?? 'application/json';
  const stream = contentType.startsWith('text/event-stream');
  // The usage the model server reports, read as the reply goes by (never buffered in its way).
  const tap = new UsageTap(stream);
  upstream.on('data', (chunk: Buffer) => tap.push(chunk));
  if (stream) {
    res.writeHead(status, SSE_HEADERS);
    res.flushHeaders();
  } else {
    const headers: Record<string, string> = { 'content-type': contentType };
    const length = upstream.headers['content-length'];
    if (length) headers['content-length'] = length;
    res.writeHead(status, headers);
  }
  try {
    await relay(upstream, res);
    const usage = tap.result();
    ctx.gate.record(caller, body.model, usage);
    countTokens(res, body.model, usage, caller.principal.projectId);
  } catch (err) {
    // The client left (upstream aborted by us) or the upstream broke mid-body: nothing left to tell anyone.
    if (!call.aborted) res.destroy(err as Error);
  }
}

/**
 * Pipes the upstream reply into the response; settles once the response is done, or fails when
 * either side breaks first (destroying the other, as stream.pipeline does). A plain pipe() with three
 * listeners: stream.pipeline would cost an AbortController, and an AbortError built and thrown away,
 * on every request.
 */
function relay(upstream: IncomingMessage, res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    upstream.once('error', (err) => {
      upstream.unpipe(res);
      reject(err);
    });
    // Left attached: pipe() rethrows an error the response emits when nobody else listens for it.
    res.on('error', reject);
    res.once('close', () => {
      if (res.writableFinished) return resolve();
      upstream.destroy();
      reject(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    });
    upstream.pipe(res);
  });
}
