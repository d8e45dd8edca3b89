import { describe, expect, it } from 'vitest';
import { validate } from '@rgw/shared';
import { chunkingStrategyObjectSchema, chunkingStrategySchema, chunkOptionsOf, resolveChunking } from './chunking-strategy.js';

const check = (value: unknown) => validate(chunkingStrategySchema, value, 'chunking_strategy');

describe('chunking_strategy', () => {
  it('accepts auto and static within bounds', () => {
    expect(check({ type: 'auto' })).toEqual({ type: 'auto' });
    expect(check({ type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 50 } }).type).toBe('static');
    expect(check({ type: 'static', static: { max_chunk_size_tokens: 4096, chunk_overlap_tokens: 0 } }).type).toBe('static');
  });

  it.each([
    [{ type: 'static', static: { max_chunk_size_tokens: 99, chunk_overlap_tokens: 0 } }, 'chunking_strategy.static.max_chunk_size_tokens'],
    [{ type: 'static', static: { max_chunk_size_tokens: 4097, chunk_overlap_tokens: 0 } }, 'chunking_strategy.static.max_chunk_size_tokens'],
    [{ type: 'static', static: { max_chunk_size_tokens: 800.5, chunk_overlap_tokens: 0 } }, 'chunking_strategy.static.max_chunk_size_tokens'],
    [{ type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: -1 } }, 'chunking_strategy.static.chunk_overlap_tokens'],
    [{ type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 401 } }, 'chunking_strategy.static.chunk_overlap_tokens'],
    [{ type: 'static', static: { max_chunk_size_tokens: 800 } }, 'chunking_strategy.static.chunk_overlap_tokens'],
    [{ type: 'static' }, 'chunking_strategy.static'],
    [{ type: 'auto', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 0 } }, 'chunking_strategy.static'],
    [{ type: 'other' }, 'chunking_strategy.type'],
  ])('rejects %j naming %s', (value, param) => {
    let caught: { status?: number; param?: string } = {};
    try {
      check(value);
    } catch (err) {
      caught = err as typeof caught;
    }
    expect(caught.status).toBe(400);
    expect(caught.param).toBe(param);
  });

  it('says why an overlap is too large', () => {
    expect(() => check({ type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 401 } })).toThrow(/must not exceed half of max_chunk_size_tokens \(800\)/);
  });

  it('resolves auto (and nothing) to static 800/400, as OpenAI returns it', () => {
    const auto = { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } };
    expect(resolveChunking()).toEqual(auto);
    expect(resolveChunking({ type: 'auto' })).toEqual(auto);
    const custom = resolveChunking({ type: 'static', static: { max_chunk_size_tokens: 300, chunk_overlap_tokens: 20 } });
    expect(custom).toEqual({ type: 'static', static: { max_chunk_size_tokens: 300, chunk_overlap_tokens: 20 } });
    expect(chunkOptionsOf(custom)).toEqual({ maxTokens: 300, overlapTokens: 20 });
  });

  it('reads a stored strategy tolerantly (unknown reads as other)', () => {
    expect(chunkingStrategyObjectSchema.parse({ type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } }).type).toBe('static');
    expect(chunkingStrategyObjectSchema.parse({ type: 'other' })).toEqual({ type: 'other' });
    expect(chunkingStrategyObjectSchema.parse({ type: 'semantic' })).toEqual({ type: 'other' });
  });
});
