import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkText, type TextChunk } from './chunk-tokens.js';
import { ChunkThreads } from './chunk-thread.js';

const words = (n: number, seed: number) => Array.from({ length: n }, (_, i) => `w${(i * seed) % 977} ${i % 13 === 0 ? 'é ✓\n' : ''}`).join('');
const TEXT = words(60_000, 7);
/** The text in uneven segments, as extraction hands it over. */
function* segments(text: string): Generator<string> {
  for (let i = 0, n = 1; i < text.length; i += n, n = (n * 7 + 3) % 40_000) yield text.slice(i, i + n);
}
const collect = async (it: AsyncIterable<TextChunk>) => {
  const out: TextChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
};

const failures: Error[] = [];
const threads = new ChunkThreads(1, (err) => failures.push(err));
afterAll(() => threads.close());
beforeAll(async () => {
  // Until its thread is up a file is chunked on the calling thread: these cases are about the thread.
  expect(await threads.ready()).toBe(true);
}, 60_000);

describe('ChunkThreads', () => {
  it('cuts on its thread exactly the chunks chunkText cuts, file after file', { timeout: 60_000 }, async () => {
    const opts = { maxTokens: 800, overlapTokens: 400 };
    const expected = await collect(chunkText(segments(TEXT), opts));
    expect(expected.length).toBeGreaterThan(100);
    expect(await collect(threads.chunk(segments(TEXT), opts))).toEqual(expected);
    expect(failures).toEqual([]);
    const small = { maxTokens: 100, overlapTokens: 0 };
    expect(await collect(threads.chunk(['one two three'], small))).toEqual(await collect(chunkText(['one two three'], small)));
  });

  it('a consumer that stops early leaves the thread ready for the next file', { timeout: 60_000 }, async () => {
    const opts = { maxTokens: 200, overlapTokens: 50 };
    let n = 0;
    for await (const _ of threads.chunk(segments(TEXT), opts)) if (++n === 70) break;
    expect(await collect(threads.chunk(segments(TEXT), opts))).toEqual(await collect(chunkText(segments(TEXT), opts)));
  });

  it("an extraction failure reaches the consumer as it is (its code decides the file's last_error)", async () => {
    async function* broken() {
      yield words(5000, 3);
      throw Object.assign(new Error('corrupt'), { code: 'invalid_file' });
    }
    const err = await collect(threads.chunk(broken(), { maxTokens: 100, overlapTokens: 0 })).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: 'corrupt', code: 'invalid_file' });
    const bad = await collect(threads.chunk(['x'], { maxTokens: 100, overlapTokens: 80 })).catch((e: unknown) => e);
    expect(bad).toMatchObject({ name: 'RangeError' });
  });

  it('two files at once: one on the thread, the other on the calling thread, both right', { timeout: 60_000 }, async () => {
    const opts = { maxTokens: 300, overlapTokens: 100 };
    const [a, b] = await Promise.all([collect(threads.chunk(segments(TEXT), opts)), collect(threads.chunk(segments(words(20_000, 11)), opts))]);
    expect(a).toEqual(await collect(chunkText(segments(TEXT), opts)));
    expect(b).toEqual(await collect(chunkText(segments(words(20_000, 11)), opts)));
  });
});
