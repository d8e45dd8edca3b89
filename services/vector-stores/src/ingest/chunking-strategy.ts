import { z } from 'zod';

// OpenAI's `chunking_strategy` (ChunkingStrategyRequestParam in the spec): `auto`, or `static` with a
// chunk size of 100–4096 tokens and an overlap of at most half of it.

export const AUTO_MAX_CHUNK_SIZE_TOKENS = 800;
export const AUTO_CHUNK_OVERLAP_TOKENS = 400;

export const staticChunkingSchema = z
  .strictObject({
    max_chunk_size_tokens: z.number().int().min(100).max(4096),
    chunk_overlap_tokens: z.number().int().min(0),
  })
  .superRefine((value, ctx) => {
    if (value.chunk_overlap_tokens > value.max_chunk_size_tokens / 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['chunk_overlap_tokens'],
        message: `chunk_overlap_tokens (${value.chunk_overlap_tokens}) must not exceed half of max_chunk_size_tokens (${value.max_chunk_size_tokens}).`,
      });
    }
  });

export const autoChunkingStrategySchema = z.strictObject({ type: z.literal('auto') });
export const staticChunkingStrategySchema = z.strictObject({ type: z.literal('static'), static: staticChunkingSchema });

/** Inbound `chunking_strategy` (strict: unknown keys and types are a 400). */
export const chunkingStrategySchema = z.discriminatedUnion('type', [autoChunkingStrategySchema, staticChunkingStrategySchema]);
export type ChunkingStrategyParam = z.infer<typeof chunkingStrategySchema>;

/** The stored and returned form (StaticChunkingStrategyResponseParam): `auto` is returned resolved, as OpenAI does. */
export interface StaticChunkingStrategy {
  type: 'static';
  static: { max_chunk_size_tokens: number; chunk_overlap_tokens: number };
}

/** A file's `chunking_strategy` in a reply: static, or `other` for a file indexed without one. */
export type ChunkingStrategyObject = StaticChunkingStrategy | { type: 'other' };

/** Reading back a stored strategy: tolerant, anything unrecognised reads as `other`. */
export const chunkingStrategyObjectSchema = z
  .union([
    z.object({ type: z.literal('static'), static: z.object({ max_chunk_size_tokens: z.number(), chunk_overlap_tokens: z.number() }) }),
    z.object({ type: z.literal('other') }),
  ])
  .catch({ type: 'other' });

/** The static strategy a request's `chunking_strategy` (or its absence, meaning `auto`) comes to. */
export function resolveChunking(strategy?: ChunkingStrategyParam | null): StaticChunkingStrategy {
  if (strategy?.type === 'static') {
    return { type: 'static', static: { max_chunk_size_tokens: strategy.static.max_chunk_size_tokens, chunk_overlap_tokens: strategy.static.chunk_overlap_tokens } };
  }
  return { type: 'static', static: { max_chunk_size_tokens: AUTO_MAX_CHUNK_SIZE_TOKENS, chunk_overlap_tokens: AUTO_CHUNK_OVERLAP_TOKENS } };
}

/** Chunker options of a resolved strategy. */
export function chunkOptionsOf(strategy: StaticChunkingStrategy): { maxTokens: number; overlapTokens: number } {
  return { maxTokens: strategy.static.max_chunk_size_tokens, overlapTokens: strategy.static.chunk_overlap_tokens };
}
