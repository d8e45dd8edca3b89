import { createVectorIndex } from '../services/vector-stores/src/index/create-vector-index.js';
import { chunkText, extractText } from '../services/vector-stores/src/ingest/index.js';
import { embedChunks } from '../services/vector-stores/src/ingest/embed-batches.js';
import type { ChunkRecord, VectorIndex } from '../services/vector-stores/src/index/vector-index.js';
import { hashedEmbedding } from './bench-embedder.js';

// What the ingest and file_search sections share: generated text, calls to the gateway by plain
// fetch, and the ingest pipeline run in the bench process (the baseline).

/** A fixed vocabulary of made-up words, so that generated text tokenizes like prose (about a token a word). */
const WORDS = (() => {
  const syllables = ['ka', 'lo', 'mi', 'ter', 'an', 'so', 'ven', 'ri', 'du', 'pel', 'or', 'sta', 'ne', 'qui', 'bar', 'el'];
  let x = 12345;
  const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 8) / 0x1000000;
  return Array.from({ length: 3000 }, () => Array.from({ length: 1 + Math.floor(rand() * 3) }, () => syllables[Math.floor(rand() * syllables.length)]).join(''));
})();

/** About `bytes` of sentences of those words, deterministic per seed. */
export function generatedText(bytes: number, seed: number): Buffer {
  let x = seed >>> 0 || 1;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const n = 8 + Math.floor(rand() * 12);
    const words = Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]!);
    const line = `${words.join(' ')}.\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(''));
}

/** A few words of the vocabulary, for queries. */
export const queryWords = (i: number) => `${WORDS[(i * 7) % WORDS.length]} ${WORDS[(i * 13 + 5) % WORDS.length]}`;

export async function api<T = any>(origin: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${origin}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export async function uploadFile(origin: string, name: string, bytes: Buffer): Promise<string> {
  const form = new FormData();
  form.append('purpose', 'assistants');
  form.append('file', new Blob([bytes], { type: 'text/plain' }), name);
  const res = await fetch(`${origin}/v1/files`, { method: 'POST', body: form });
  const text = await res.text();
  if (!res.ok) throw new Error(`upload ${name}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { id: string }).id;
}

/** Polls until `done` returns a value; fails after `timeoutMs`. */
export async function pollUntil<T>(fn: () => Promise<T | undefined>, intervalMs: number, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Attaches files as one batch and waits for every file to end; returns the seconds taken and the batch. */
export async function attachBatch(origin: string, storeId: string, fileIds: string[], chunking?: unknown, timeoutMs = 600_000): Promise<{ seconds: number; batch: any }> {
  const t0 = performance.now();
  const created = await api(origin, 'POST', `/v1/vector_stores/${storeId}/file_batches`, { file_ids: fileIds, ...(chunking ? { chunking_strategy: chunking } : {}) });
  const batch = await pollUntil(
    async () => {
      const b = await api(origin, 'GET', `/v1/vector_stores/${storeId}/file_batches/${created.id}`);
      return b.status === 'in_progress' ? undefined : b;
    },
    20,
    timeoutMs,
    `batch ${created.id}`,
  );
  const seconds = (performance.now() - t0) / 1000;
  if (batch.file_counts.completed !== fileIds.length) throw new Error(`batch ended ${batch.status} with ${JSON.stringify(batch.file_counts)}`);
  return { seconds, batch };
}

/** The index the embedded platform opens on this data dir (same adapter as the gateway's, no QDRANT_URL). */
export async function openIndexAt(dataDir: string): Promise<VectorIndex> {
  const index = await createVectorIndex({ dataDir, qdrantUrl: undefined, qdrantApiKey: undefined });
  await index.ensureReady();
  return index;
}

/** The bytes in 64 KB pieces, as a file streams from the object store. */
async function* slices(bytes: Buffer): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += 65536) yield bytes.subarray(at, at + 65536);
}

/**
 * The baseline: the worker's pipeline steps on the same bytes in this process (extract → chunk →
 * embed with the bench embedder → upsert), without the queue, the Files API, HTTP or status rows.
 */
export async function ingestDirect(index: VectorIndex, storeId: string, fileId: string, name: string, bytes: Buffer, maxTokens = 800, overlapTokens = 400): Promise<{ chunks: number; textBytes: number }> {
  const segments = extractText({ filename: name, contentType: 'text/plain', body: slices(bytes) });
  const chunks = chunkText(segments, { maxTokens, overlapTokens });
  let count = 0;
  let textBytes = 0;
  for await (const batch of embedChunks(chunks, async (texts) => texts.map((t) => hashedEmbedding(t)), { batchSize: 64 })) {
    const records: ChunkRecord[] = batch.map(({ chunk, embedding }) => ({
      id: `${storeId}:${fileId}:${chunk.index}`,
      projectId: 'proj_bench',
      vectorStoreId: storeId,
      fileId,
      filename: name,
      chunkIndex: chunk.index,
      text: chunk.text,
      tokens: chunk.tokens,
      embedding,
      attributes: {},
    }));
    await index.upsert(records);
    count += records.length;
    for (const r of records) textBytes += Buffer.byteLength(r.text);
  }
  return { chunks: count, textBytes };
}
