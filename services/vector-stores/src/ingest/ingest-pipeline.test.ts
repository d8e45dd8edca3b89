import { describe, expect, it } from 'vitest';
import { chunkOptionsOf, chunkText, embedChunks, extractText, resolveChunking } from './index.js';
import * as samples from './test-samples.js';

// The three steps composed as the ingest worker composes them, on every sample type.

async function ingest(filename: string, body: Buffer | string, strategy = resolveChunking()) {
  const chunks = chunkText(extractText({ filename, body: samples.streamOf(body) }), chunkOptionsOf(strategy));
  const out = [];
  for await (const batch of embedChunks(chunks, async (inputs) => inputs.map((t) => [t.length, 1]), { batchSize: 8 })) out.push(...batch);
  return out;
}

describe('extract → chunk → embed', () => {
  it('turns every supported sample into embedded chunks holding its text', async () => {
    const cases: [string, Buffer | string, string][] = [
      ['a.txt', 'plain words here', 'plain words here'],
      ['a.md', samples.sampleMarkdown, 'Troubleshooting'],
      ['a.py', samples.sampleCode, 'fibonacci'],
      ['a.json', samples.sampleJson, '"currency": "EUR"'],
      ['a.jsonl', samples.sampleJsonl, 'Jupiter'],
      ['a.csv', samples.sampleCsv, 'Lisbon,Portugal'],
      ['a.html', samples.sampleHtml, 'Borealis'],
      ['a.pdf', await samples.samplePdf(['Nebula survey results']), 'Nebula survey'],
      ['a.docx', await samples.sampleDocx(['Docx body text']), 'Docx body text'],
      ['a.pptx', await samples.samplePptx([{ paragraphs: ['Slide body'], notes: 'Slide notes' }]), 'Slide notes'],
    ];
    for (const [name, body, expected] of cases) {
      const embedded = await ingest(name, body);
      expect(embedded.length, name).toBe(1);
      expect(embedded[0]!.chunk.text, name).toContain(expected);
      expect(embedded[0]!.embedding[0]).toBe(embedded[0]!.chunk.text.length);
    }
  });

  it('honours a static strategy', async () => {
    const text = 'word '.repeat(5000).trim();
    const embedded = await ingest('a.txt', text, resolveChunking({ type: 'static', static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 0 } }));
    expect(embedded.every((e) => e.chunk.tokens <= 100)).toBe(true);
    expect(embedded).toHaveLength(50);
    expect(embedded.map((e) => e.chunk.text).join('') === text).toBe(true);
  });

  it('measures throughput on 10 MB of text with a zero-cost embedder', async () => {
    await ingest('warm.txt', 'warm up '.repeat(5000));
    const started = performance.now();
    let chunks = 0;
    const source = extractText({ filename: 'ten.txt', body: samples.largeTextStream(10 * 1024 * 1024) });
    for await (const batch of embedChunks(chunkText(source, { maxTokens: 800, overlapTokens: 400 }), async (inputs) => inputs.map(() => [0, 1]))) {
      chunks += batch.length;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(`pipeline: 10.5 MB in ${seconds.toFixed(1)} s = ${(10.5 / seconds).toFixed(2)} MB/s, ${chunks} chunks = ${Math.round(chunks / seconds)} chunks/s`);
    expect(chunks).toBeGreaterThan(4000);
  }, 120_000);
});
