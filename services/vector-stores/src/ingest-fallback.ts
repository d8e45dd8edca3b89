import { z } from 'zod';

/*
 * TODO(merge): a minimal stand-in for the pipeline engineer's `./ingest/index.ts` (same names and
 * shapes), so the worker runs and is tested before theirs lands: plain text only, whitespace "tokens".
 */

/** `chunking_strategy` as a request gives it: `auto`, or `static` with 100–4096 tokens and overlap ≤ half. */
export const chunkingStrategySchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('auto') }),
  z.strictObject({
    type: z.literal('static'),
    static: z
      .strictObject({ max_chunk_size_tokens: z.number().int().min(100).max(4096), chunk_overlap_tokens: z.number().int().min(0) })
      .refine((s) => s.chunk_overlap_tokens <= s.max_chunk_size_tokens / 2, { message: 'chunk_overlap_tokens must not exceed half of max_chunk_size_tokens.', path: ['chunk_overlap_tokens'] }),
  }),
]);
export type ChunkingStrategyParam = z.infer<typeof chunkingStrategySchema>;

/** The strategy as a vector store file reports it (`auto` resolved to its numbers). */
export interface ResolvedChunking {
  type: 'static';
  static: { max_chunk_size_tokens: number; chunk_overlap_tokens: number };
}

export function resolveChunking(strategy?: ChunkingStrategyParam | null): ResolvedChunking {
  if (strategy?.type === 'static') return { type: 'static', static: { ...strategy.static } };
  return { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } };
}

export class IngestError extends Error {
  constructor(readonly code: 'unsupported_file' | 'invalid_file', message: string) {
    super(message);
  }
}

const TEXT_EXTENSIONS = /\.(txt|md|markdown|csv|json|jsonl|ts|js|py|html?)$/i;

export async function* extractText(input: { filename: string; contentType?: string; body: AsyncIterable<Uint8Array> }): AsyncIterable<string> {
  if (!TEXT_EXTENSIONS.test(input.filename) && !input.contentType?.startsWith('text/')) {
    throw new IngestError('unsupported_file', `Files of this type are not supported: ${input.filename}.`);
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const part of input.body) yield decoder.decode(part, { stream: true });
    const rest = decoder.decode();
    if (rest) yield rest;
  } catch (err) {
    if (err instanceof TypeError) throw new IngestError('invalid_file', `The file ${input.filename} is not valid UTF-8 text.`);
    throw err;
  }
}

export interface TextChunk {
  index: number;
  text: string;
  tokens: number;
}

export async function* chunkText(segments: AsyncIterable<string>, opts: { maxTokens: number; overlapTokens: number }): AsyncIterable<TextChunk> {
  let words: string[] = [];
  let start = 0;
  let carry = '';
  let index = 0;
  const step = Math.max(1, opts.maxTokens - opts.overlapTokens);
  for await (const segment of segments) {
    const parts = (carry + segment).split(/\s+/);
    carry = parts.pop() ?? '';
    for (const part of parts) if (part) words.push(part);
    while (words.length - start >= opts.maxTokens) {
      const taken = words.slice(start, start + opts.maxTokens);
      yield { index: index++, text: taken.join(' '), tokens: taken.length };
      start += step;
    }
    // Drop what no chunk needs any more (without shifting the array once per chunk).
    words = words.slice(start);
    start = 0;
  }
  if (carry) words.push(carry);
  if (words.length && (index === 0 || words.length > opts.overlapTokens)) yield { index: index++, text: words.join(' '), tokens: words.length };
}

export interface EmbeddedChunk extends TextChunk {
  embedding?: Float32Array;
}

/** Groups chunks into batches and embeds each with one call (none when there is no embedder). */
export async function* embedChunks(
  chunks: AsyncIterable<TextChunk>,
  embed: ((texts: string[]) => Promise<number[][]>) | undefined,
  opts: { batchSize?: number } = {},
): AsyncIterable<EmbeddedChunk[]> {
  const size = opts.batchSize ?? 64;
  let batch: TextChunk[] = [];
  const flush = async (): Promise<EmbeddedChunk[]> => {
    const current = batch;
    batch = [];
    if (!embed) return current;
    const vectors = await embed(current.map((c) => c.text));
    return current.map((c, i) => ({ ...c, embedding: Float32Array.from(vectors[i]!) }));
  };
  for await (const chunk of chunks) {
    batch.push(chunk);
    if (batch.length >= size) yield await flush();
  }
  if (batch.length) yield await flush();
}
