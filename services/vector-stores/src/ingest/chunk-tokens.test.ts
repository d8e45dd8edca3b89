import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { chunkText, safeCut, type TextChunk } from './chunk-tokens.js';
import { extractText } from './extract-text.js';
import { largeTextStream, memoryProbe } from './test-samples.js';

const count = (text: string): number => encode(text, { disallowedSpecial: new Set() }).length;

/** Deterministic prose mixing ASCII, accents, CJK, rare CJK and emoji that o200k splits mid-character. */
function prose(words: number, seed = 3): string {
  const vocab = ['alpha', 'beta', 'gamma', 'naïve', 'café', '世界', '数据库', '😀', '🧑‍🚀', '𠀀𠀁', 'Ω', 'the', 'of', 'über', '42', 'x=1;'];
  let s = seed;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out.push(vocab[s % vocab.length]!);
    if (s % 17 === 0) out.push('.\n');
    if (s % 61 === 0) out.push('\n\n');
  }
  return out.join(' ');
}

/** Cuts text into segments of pseudo-random sizes (1 char to 70k), as an extractor might yield. */
function* randomSegments(text: string, seed = 9): Generator<string> {
  let s = seed;
  for (let i = 0; i < text.length; ) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const n = s % 5 === 0 ? 1 + (s % 7) : 1 + (s % 70_000);
    yield text.slice(i, i + n);
    i += n;
  }
}

async function collect(segments: Iterable<string> | AsyncIterable<string>, maxTokens: number, overlapTokens: number): Promise<TextChunk[]> {
  const out: TextChunk[] = [];
  for await (const chunk of chunkText(segments, { maxTokens, overlapTokens })) out.push(chunk);
  return out;
}

describe('chunkText', () => {
  it('without overlap, partitions the text into exactly the tokens of the whole, whatever the segmentation', async () => {
    const text = prose(120_000);
    const chunks = await collect(randomSegments(text), 800, 0);
    expect(chunks.map((c) => c.text).join('')).toBe(text);
    expect(chunks.reduce((sum, c) => sum + c.tokens, 0)).toBe(count(text));
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
    expect(Math.max(...chunks.map((c) => c.tokens))).toBeLessThanOrEqual(800);
    // Only the last chunk may be short, and then by at most the 3 tokens of a character kept whole.
    expect(chunks.slice(0, -1).every((c) => c.tokens >= 797)).toBe(true);
  });

  it('overlaps consecutive chunks by about overlapTokens, each at most maxTokens', async () => {
    const text = prose(20_000);
    const chunks = await collect(randomSegments(text, 4), 100, 50);
    expect(chunks.length).toBeGreaterThan(10);
    let cursor = 0;
    let prev: { start: number; end: number } | null = null;
    for (const chunk of chunks) {
      expect(chunk.tokens).toBeLessThanOrEqual(100);
      expect(chunk.text).not.toContain('\uFFFD');
      const start: number = prev ? text.indexOf(chunk.text, prev.start + 1) : text.indexOf(chunk.text);
      expect(start, `chunk ${chunk.index} is a piece of the text`).toBeGreaterThanOrEqual(cursor);
      const end = start + chunk.text.length;
      if (prev) {
        expect(start).toBeLessThan(prev.end);
        const overlap = count(text.slice(start, prev.end));
        expect(overlap).toBeGreaterThanOrEqual(46);
        expect(overlap).toBeLessThanOrEqual(53);
      }
      prev = { start, end };
      cursor = start;
    }
    expect(prev!.end).toBe(text.length);
  });

  it('never splits a character, even where o200k splits it across tokens', async () => {
    // Each '𠀀' is several tokens: windows of 100 tokens must end and start between characters.
    const text = '𠀀𠀁🧑‍🚀'.repeat(3000);
    const chunks = await collect([text], 100, 30);
    for (const chunk of chunks) {
      expect(chunk.text).not.toContain('\uFFFD');
      expect(text.includes(chunk.text)).toBe(true);
      expect(chunk.tokens).toBeLessThanOrEqual(100);
    }
    const exact = await collect(randomSegments(text, 5), 100, 0);
    expect(exact.map((c) => c.text).join('')).toBe(text);
  });

  it('copes with a long run without a place to cut (a base64 blob) and with special-token text', async () => {
    const blob = Buffer.alloc(400_000, 'ab9/').toString('base64');
    const text = `header <|endoftext|> line\n${blob}\ntrailer`;
    const chunks = await collect(randomSegments(text, 2), 500, 0);
    expect(chunks.map((c) => c.text).join('')).toBe(text);
    expect(chunks.every((c) => c.tokens <= 500)).toBe(true);
    expect(chunks[0]!.text).toContain('<|endoftext|>');
  });

  it('yields nothing for empty or blank text and checks its options', async () => {
    expect(await collect([], 800, 400)).toEqual([]);
    expect(await collect(['', '   \n\n  '], 800, 400)).toEqual([]);
    await expect(collect(['x'], 100, 51)).rejects.toThrow(RangeError);
    await expect(collect(['x'], 0, 0)).rejects.toThrow(RangeError);
  });

  it('cuts only where the tokenizer starts a new piece', () => {
    expect(safeCut('hello world', 0)).toBe(5);
    expect(safeCut('line one\nnext', 0)).toBe(9);
    expect(safeCut('a  b', 0)).toBe(-1); // two spaces: " " and " b" are separate pieces, not safe to reason about
    expect(safeCut('世界世界', 0)).toBe(-1);
  });

  it('chunks 24 MB streamed from a file with bounded memory, and measures throughput', async () => {
    await collect(['warm the tokenizer up: ' + prose(30_000)], 800, 400); // its tables and merge cache are not ours to count
    const memory = memoryProbe();
    let chunks = 0;
    let measuring = 0;
    let bytes = 0;
    const total = 24 * 1024 * 1024;
    const started = performance.now();
    const segments = (async function* () {
      for await (const segment of extractText({ filename: 'big.txt', body: largeTextStream(total) })) {
        bytes += Buffer.byteLength(segment);
        yield segment;
      }
    })();
    for await (const chunk of chunkText(segments, { maxTokens: 800, overlapTokens: 400 })) {
      chunks++;
      if (chunk.tokens > 800) throw new Error(`chunk ${chunk.index} has ${chunk.tokens} tokens`);
      if (chunks % 1500 === 0) {
        const t = performance.now();
        memory.sample();
        measuring += performance.now() - t; // not counted in the throughput
      }
    }
    const seconds = (performance.now() - started - measuring) / 1000;
    console.log(
      `chunkText: ${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s = ${(bytes / 1e6 / seconds).toFixed(2)} MB/s, ` +
        `${chunks} chunks (800/400) = ${Math.round(chunks / seconds)} chunks/s, RSS growth ${memory.rssGrowthMb().toFixed(1)} MB, heap growth ${memory.heapGrowthMb().toFixed(1)} MB`,
    );
    expect(bytes).toBeGreaterThanOrEqual(total);
    expect(chunks).toBeGreaterThan(1000);
    // Holding the text would grow the heap by its size (25 MB and more); a window and a piece are well under 1 MB.
    expect(memory.heapGrowthMb()).toBeLessThan(8);
    expect(memory.rssGrowthMb()).toBeLessThan(48);
  }, 180_000);
});
