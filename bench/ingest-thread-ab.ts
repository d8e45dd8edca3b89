// A/B of the ingest worker's pipeline in one process, alternating, with CPU-seconds per 1,000 chunks:
// AB_SWITCH=chunker (default) chunks on the calling thread vs on a chunker thread (ChunkThreads);
// AB_SWITCH=writer commits the index rows on the calling thread vs on the index's writer thread
// (INDEX_WRITER_THREAD), the chunker thread on in both. Usage: npx tsx bench/ingest-thread-ab.ts (AB_MB, AB_ROUNDS, AB_SWITCH).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatedText, openIndexAt } from './vector-bench-support.js';
import { hashedEmbeddingJson } from './bench-embedder.js';
import { ChunkThreads, chunkText, embedChunks, extractText } from '../services/vector-stores/src/ingest/index.js';
const bytes = generatedText(Number(process.env.AB_MB ?? 4) * 1024 * 1024, 1);
const writerSwitch = process.env.AB_SWITCH === 'writer';
const threads = new ChunkThreads(1);
await threads.ready();
for (let round = 0; round < Number(process.env.AB_ROUNDS ?? 3); round++) {
  for (const mode of ['main', 'thread'] as const) {
    // Read by the index at its first upsert.
    process.env.INDEX_WRITER_THREAD = writerSwitch && mode === 'main' ? '0' : '1';
    const dir = mkdtempSync(join(tmpdir(), 'rgw-ingest-ab-'));
    const index = await openIndexAt(dir);
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    const segs = extractText({ filename: 'a.txt', contentType: 'text/plain', body: (async function* () { for (let i = 0; i < bytes.length; i += 65536) yield bytes.subarray(i, i + 65536); })() });
    const opts = { maxTokens: 800, overlapTokens: 400 };
    const chunks = writerSwitch || mode === 'thread' ? threads.chunk(segs, opts) : chunkText(segs, opts);
    let n = 0;
    // The embeddings as JSON text and parsed back, as the platform reads them from the model server.
    const embed = async (texts: string[]) => (JSON.parse(`{"data":[${texts.map((t) => `{"embedding":${hashedEmbeddingJson(t)}}`).join(',')}]}`) as { data: { embedding: number[] }[] }).data.map((d) => d.embedding);
    for await (const batch of embedChunks(chunks, embed, { batchSize: 64 })) {
      await index.upsert(batch.map(({ chunk, embedding }) => ({ id: `vs:f:${chunk.index}`, projectId: 'p', vectorStoreId: 'vs', fileId: 'f', filename: 'a.txt', chunkIndex: chunk.index, text: chunk.text, tokens: chunk.tokens, embedding, attributes: {} })));
      n += batch.length;
    }
    const c = process.cpuUsage(c0);
    const wall = (performance.now() - w0) / 1000;
    const label = writerSwitch ? (mode === 'main' ? 'writer-off' : 'writer-thread') : mode;
    console.log(JSON.stringify({ round, mode: label, chunks: n, wallS: +wall.toFixed(2), chunksPerS: Math.round(n / wall), cpuSPer1000: +(((c.user + c.system) / 1e6 / n) * 1000).toFixed(3) }));
    await index.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
await threads.close();
