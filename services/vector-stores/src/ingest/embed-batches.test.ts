import { describe, expect, it } from 'vitest';
import { type EmbedFn, embedChunks, EmbeddingResponseError, type EmbedOptions } from './embed-batches.js';

interface Chunk {
  index: number;
  text: string;
}
const chunks = (n: number): Chunk[] => Array.from({ length: n }, (_, i) => ({ index: i, text: `chunk ${i}` }));
/** A vector that encodes its input, so a test can see which vector went with which chunk. */
const vectorOf = (text: string): number[] => [Number(text.split(' ')[1]), 1, 2];

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs?: number,
  ) {
    super(`HTTP ${status}`);
  }
}

async function run(embed: EmbedFn, input: Chunk[], opts: EmbedOptions = {}) {
  const batches = [];
  for await (const batch of embedChunks(input, embed, opts)) batches.push(batch);
  return batches;
}

const delay = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    });
  });

describe('embedChunks', () => {
  it('sends many inputs per call and yields every chunk with its vector, in order', async () => {
    const calls: number[] = [];
    const batches = await run(async (inputs) => {
      calls.push(inputs.length);
      return inputs.map(vectorOf);
    }, chunks(150), { batchSize: 64 });
    expect(calls).toEqual([64, 64, 22]);
    const flat = batches.flat();
    expect(flat.map((e) => e.chunk.index)).toEqual(chunks(150).map((c) => c.index));
    expect(flat.every((e) => e.embedding instanceof Float32Array && e.embedding[0] === e.chunk.index)).toBe(true);
  });

  it('keeps several calls in flight, up to the concurrency, and still yields in input order', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let call = 0;
    const batches = await run(async (inputs) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Later calls answer sooner, so completion order is not input order.
      await delay(40 - (call++ % 4) * 10);
      inFlight--;
      return inputs.map(vectorOf);
    }, chunks(100), { batchSize: 10, concurrency: 3 });
    expect(maxInFlight).toBe(3);
    expect(batches.flat().map((e) => e.chunk.index)).toEqual(chunks(100).map((c) => c.index));
  });

  it('retries a 429 no sooner than its retry-after', async () => {
    let attempts = 0;
    const retries: number[] = [];
    const started = Date.now();
    const batches = await run(async (inputs) => {
      if (attempts++ === 0) throw new HttpError(429, 120);
      return inputs.map(vectorOf);
    }, chunks(3), { baseDelayMs: 1, onRetry: ({ delayMs }) => retries.push(delayMs) });
    expect(attempts).toBe(2);
    expect(retries).toEqual([120]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    expect(batches.flat()).toHaveLength(3);
  });

  it('backs off exponentially with jitter on 5xx and transport errors, up to maxRetries', async () => {
    const retries: number[] = [];
    let attempts = 0;
    const failing: EmbedFn = async () => {
      attempts++;
      throw attempts % 2 ? new HttpError(503) : new TypeError('fetch failed');
    };
    const opts: EmbedOptions = { maxRetries: 4, baseDelayMs: 4, maxDelayMs: 20, random: () => 0.5, onRetry: ({ delayMs }) => retries.push(delayMs) };
    await expect(run(failing, chunks(2), opts)).rejects.toThrow('HTTP 503'); // the last of 5 attempts (1st, 3rd, 5th: 503; 2nd, 4th: transport)
    expect(attempts).toBe(5);
    expect(retries).toEqual([2, 4, 8, 10]); // half of min(20, 4·2ⁿ)
  });

  it('does not retry other 4xx errors', async () => {
    let attempts = 0;
    await expect(
      run(async () => {
        attempts++;
        throw new HttpError(400);
      }, chunks(5)),
    ).rejects.toMatchObject({ status: 400 });
    expect(attempts).toBe(1);
  });

  it('aborts the calls in flight when the signal fires', async () => {
    const controller = new AbortController();
    const signals: AbortSignal[] = [];
    setTimeout(() => controller.abort(), 30);
    const started = Date.now();
    await expect(
      run(async (inputs, signal) => {
        signals.push(signal);
        await delay(5_000, signal);
        return inputs.map(vectorOf);
      }, chunks(40), { batchSize: 10, concurrency: 2, signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(signals.length).toBe(2);
    expect(signals.every((s) => s.aborted)).toBe(true);
  });

  it('stops waiting in a backoff when aborted', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const started = Date.now();
    await expect(
      run(async () => {
        throw new HttpError(429, 10_000);
      }, chunks(1), { signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('reports the failing call, not the abort of its siblings, and aborts them', async () => {
    const signals: AbortSignal[] = [];
    let call = 0;
    await expect(
      run(async (inputs, signal) => {
        signals.push(signal);
        if (call++ === 1) throw new HttpError(401);
        await delay(5_000, signal);
        return inputs.map(vectorOf);
      }, chunks(40), { batchSize: 10, concurrency: 3 }),
    ).rejects.toMatchObject({ status: 401 });
    expect(signals[0]!.aborted).toBe(true);
  });

  it('aborts the calls in flight when the consumer stops early', async () => {
    const signals: AbortSignal[] = [];
    let call = 0;
    for await (const batch of embedChunks(chunks(50), async (inputs, signal) => {
      signals.push(signal);
      if (call++ > 0) await delay(5_000, signal).catch(() => undefined);
      return inputs.map(vectorOf);
    }, { batchSize: 10, concurrency: 2 })) {
      expect(batch).toHaveLength(10);
      break;
    }
    expect(signals.at(-1)!.aborted).toBe(true);
  });

  it('checks the vectors: count, a consistent dimension, finite values', async () => {
    let call = 0;
    await expect(run(async (inputs) => inputs.map(() => (call++ < 2 ? [1, 2, 3] : [1, 2])), chunks(4), { batchSize: 2 })).rejects.toThrow(
      /2 dimensions where 3 were expected/,
    );
    await expect(run(async (inputs) => inputs.map(() => [1, 2]), chunks(2), { dimension: 3 })).rejects.toBeInstanceOf(EmbeddingResponseError);
    await expect(run(async () => [[1, 2]], chunks(2))).rejects.toThrow(/1 vectors for 2 inputs/);
    await expect(run(async (inputs) => inputs.map(() => [1, Number.NaN]), chunks(1))).rejects.toThrow(/non-finite/);
    let attempts = 0;
    await expect(
      run(async () => {
        attempts++;
        return [];
      }, chunks(1)),
    ).rejects.toBeInstanceOf(EmbeddingResponseError);
    expect(attempts).toBe(1); // a bad reply is not retried
  });
});
