import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { BadGatewayError, countTokens, upstreamJson, validate } from '@rgw/shared';
import { embeddingsRequestSchema } from './inference-schemas.js';
import type { Caller } from '../auth/gatekeeper.js';
import type { PassThroughContext } from './pass-through.js';
import { readBodyFor } from './request-body.js';

// Tolerant reply schema: we need `data[].embedding`; the rest is relayed as sent, with the fields the
// OpenAI shape requires filled in where a server leaves them out.
const upstreamReplySchema = z.looseObject({
  data: z.array(z.looseObject({ embedding: z.union([z.array(z.number()), z.string()]), index: z.number().int().optional() })),
  model: z.string().optional(),
  usage: z.looseObject({ prompt_tokens: z.number(), total_tokens: z.number() }).optional(),
});

/**
 * POST /v1/embeddings. The upstream is always asked for floats (many servers lack base64), and the
 * gateway encodes base64 itself, so `encoding_format` behaves the same whatever the model server.
 * The official SDK asks for base64 by default, which makes this path the common one.
 */
export async function embeddings(req: IncomingMessage, res: ServerResponse, ctx: PassThroughContext, requestId: string, caller: Caller): Promise<void> {
  const { json } = await readBodyFor(req, ctx);
  const body = validate(embeddingsRequestSchema, json);
  ctx.gate.checkModel(caller.principal, body.model);
  const route = await ctx.catalog.resolve(body.model);
  const wantBase64 = body.encoding_format === 'base64';
  const upstream = await upstreamJson(route.provider, {
    method: 'POST',
    path: '/embeddings',
    model: route.upstreamModel,
    body: JSON.stringify({ ...body, model: route.upstreamModel, encoding_format: 'float' }),
    requestId,
    timeoutMs: ctx.upstreamTimeoutMs,
    maxBodyBytes: ctx.upstreamMaxBodyBytes,
  });
  const parsed = upstreamReplySchema.safeParse(upstream);
  if (!parsed.success) throw new BadGatewayError(`upstream provider '${route.provider.id}' sent an embeddings reply without data[].embedding`, 'upstream_invalid_reply');
  const reply = parsed.data;
  const data = reply.data.map((item, i) => {
    const floats = typeof item.embedding === 'string' ? base64ToFloats(item.embedding) : item.embedding;
    return { ...item, object: 'embedding', index: item.index ?? i, embedding: wantBase64 ? floatsToBase64(floats) : floats };
  });
  const text = JSON.stringify({
    ...reply,
    object: 'list',
    data,
    model: reply.model ?? route.upstreamModel,
    usage: reply.usage ?? { prompt_tokens: 0, total_tokens: 0 },
  });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  const tokens = reply.usage?.prompt_tokens;
  const usage = tokens === undefined ? undefined : { input_tokens: tokens, output_tokens: 0 };
  ctx.gate.record(caller, body.model, usage);
  countTokens(res, body.model, usage, caller.principal.projectId);
}

/** OpenAI's base64 embedding: the vector as little-endian float32, base64-encoded. */
export function floatsToBase64(values: number[]): string {
  const buf = Buffer.allocUnsafe(values.length * 4);
  values.forEach((v, i) => buf.writeFloatLE(v, i * 4));
  return buf.toString('base64');
}

export function base64ToFloats(text: string): number[] {
  const buf = Buffer.from(text, 'base64');
  const out: number[] = new Array(buf.length >> 2);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}
