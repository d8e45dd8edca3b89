import { BadGatewayError, type InferenceClient } from '@rgw/shared';

interface EmbeddingsReply {
  data?: { embedding?: unknown; index?: number }[];
}

/** Embeds texts with a model through the platform's inference client; one call, vectors in input order. */
export async function embedTexts(inference: Pick<InferenceClient, 'embeddings'>, model: string, texts: string[], opts: { dimensions?: number; signal?: AbortSignal } = {}): Promise<number[][]> {
  const body: Record<string, unknown> & { model: string } = { model, input: texts, encoding_format: 'float' };
  if (opts.dimensions) body.dimensions = opts.dimensions;
  const reply = await inference.embeddings<EmbeddingsReply>(body, { signal: opts.signal });
  const data = Array.isArray(reply?.data) ? reply.data : [];
  if (data.length !== texts.length) throw new BadGatewayError(`the embedding model '${model}' answered ${data.length} embeddings for ${texts.length} inputs`, 'upstream_invalid_reply');
  const out: number[][] = new Array(texts.length);
  data.forEach((item, i) => {
    const vector = item.embedding;
    if (!Array.isArray(vector) || !vector.every((v) => typeof v === 'number')) throw new BadGatewayError(`the embedding model '${model}' sent an embedding that is not a list of numbers`, 'upstream_invalid_reply');
    out[typeof item.index === 'number' && item.index >= 0 && item.index < texts.length ? item.index : i] = vector;
  });
  return out;
}
