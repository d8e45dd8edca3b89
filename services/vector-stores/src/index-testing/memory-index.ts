import { matchesFilter } from '@rgw/shared';
import type { Attributes, ChunkRecord, SearchHit, SearchRequest, VectorIndex } from '../index/vector-index.js';

/**
 * A brute-force in-memory VectorIndex for tests (and the stand-in until the embedded index lands):
 * cosine similarity for vectors, term overlap for keywords, their mean for hybrid. One process only.
 */
export class MemoryIndex implements VectorIndex {
  readonly kind = 'embedded' as const;
  private readonly chunks = new Map<string, ChunkRecord>();
  /** Counts upserts so tests can see how often a chunk was written. */
  upserts = 0;

  async ensureReady(): Promise<void> {}
  async ping(): Promise<void> {}

  async upsert(chunks: ChunkRecord[]): Promise<void> {
    for (const c of chunks) this.chunks.set(c.id, { ...c, attributes: { ...c.attributes } });
    this.upserts += chunks.length;
  }

  async deleteFile(vectorStoreId: string, fileId: string): Promise<void> {
    for (const [id, c] of this.chunks) if (c.vectorStoreId === vectorStoreId && c.fileId === fileId) this.chunks.delete(id);
  }

  async deleteStore(vectorStoreId: string): Promise<void> {
    for (const [id, c] of this.chunks) if (c.vectorStoreId === vectorStoreId) this.chunks.delete(id);
  }

  async setFileAttributes(vectorStoreId: string, fileId: string, attributes: Attributes): Promise<void> {
    for (const c of this.chunks.values()) if (c.vectorStoreId === vectorStoreId && c.fileId === fileId) c.attributes = { ...attributes };
  }

  async fileChunks(vectorStoreId: string, fileId: string, opts: { afterIndex?: number; limit: number }) {
    const all = this.of(vectorStoreId, fileId)
      .filter((c) => opts.afterIndex === undefined || c.chunkIndex > opts.afterIndex)
      .sort((a, b) => a.chunkIndex - b.chunkIndex);
    return { chunks: all.slice(0, opts.limit).map((c) => ({ chunkIndex: c.chunkIndex, text: c.text })), hasMore: all.length > opts.limit };
  }

  async fileUsage(vectorStoreId: string, fileId: string) {
    const chunks = this.of(vectorStoreId, fileId);
    return { chunks: chunks.length, bytes: chunks.reduce((n, c) => n + Buffer.byteLength(c.text), 0) };
  }

  async search(req: SearchRequest): Promise<SearchHit[]> {
    return scoreChunks(this.chunks.values(), req);
  }

  async close(): Promise<void> {}

  /** Every stored chunk (tests). */
  all(): ChunkRecord[] {
    return [...this.chunks.values()];
  }

  private of(vectorStoreId: string, fileId: string): ChunkRecord[] {
    return [...this.chunks.values()].filter((c) => c.vectorStoreId === vectorStoreId && c.fileId === fileId);
  }
}

/** Brute force over candidate chunks: the filter first, then the best `topK` by the mode's score. */
export function scoreChunks(chunks: Iterable<ChunkRecord>, req: SearchRequest): SearchHit[] {
  const stores = new Set(req.vectorStoreIds);
  const terms = new Set(tokens(req.queryText));
  const hits: SearchHit[] = [];
  for (const c of chunks) {
    if (c.projectId !== req.projectId || !stores.has(c.vectorStoreId)) continue;
    if (req.filter && !matchesFilter(c.attributes, req.filter)) continue;
    const vector = req.queryVector && c.embedding ? (cosine(req.queryVector, c.embedding) + 1) / 2 : 0;
    const words = tokens(c.text);
    const keyword = terms.size ? words.filter((w) => terms.has(w)).length / (words.length + terms.size) : 0;
    const score = req.mode === 'vector' ? vector : req.mode === 'keyword' ? keyword : (vector + keyword) / 2;
    if (req.mode === 'keyword' && keyword === 0) continue;
    if (req.scoreThreshold !== undefined && score < req.scoreThreshold) continue;
    hits.push({ chunkId: c.id, vectorStoreId: c.vectorStoreId, fileId: c.fileId, filename: c.filename, chunkIndex: c.chunkIndex, text: c.text, score, attributes: c.attributes });
  }
  return hits.sort((a, b) => b.score - a.score).slice(0, req.topK);
}

function tokens(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return -1;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}
