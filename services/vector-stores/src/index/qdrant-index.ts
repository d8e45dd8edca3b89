import { createHash } from 'node:crypto';
import { QdrantClient } from '@qdrant/js-client-rest';
import { InvalidRequestError } from '@rgw/shared/errors';
import { attributePath, toQdrantFilter, type QdrantCondition } from './qdrant-filter.js';
import { RRF_K } from './rank-fusion.js';
import { bm25Score } from './keyword-terms.js';
import { documentSparseVector, querySparseVector } from './sparse-terms.js';
import type { Attributes, ChunkRecord, SearchHit, SearchRequest, VectorIndex } from './vector-index.js';
import { cosineScore } from './vector-math.js';

export interface QdrantIndexOptions {
  url: string;
  apiKey?: string;
  /** Collection name prefix: `<prefix>_chunks_<dim>` and `<prefix>_chunks_sparse`. */
  prefix?: string;
  timeoutMs?: number;
}

const DENSE = 'dense';
const SPARSE = 'text';
const HYBRID_DEPTH = 50;
const UPSERT_BATCH = 256;
const SCROLL_PAGE = 1000;

interface ChunkPayload {
  chunk_id: string;
  project_id: string;
  store_id: string;
  file_id: string;
  filename: string;
  chunk_index: number;
  text: string;
  tokens: number;
  bytes: number;
  attributes: Attributes;
}

/** A stable UUID for a chunk id (Qdrant point ids are UUIDs or integers): re-upserting replaces the point. */
export function pointId(chunkId: string): string {
  const h = createHash('sha256').update(chunkId).digest('hex');
  // Shaped as a version-5-style UUID (version and variant bits set) so every parser accepts it.
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * The distributed chunk index on Qdrant: one collection per embedding dimension (dense cosine
 * vectors plus a sparse BM25-style text vector with Qdrant's IDF modifier) and one sparse-only
 * collection for stores without an embedding model. Filters are translated and pushed into Qdrant;
 * hybrid search is Qdrant's reciprocal rank fusion of the two prefetches. Any number of API and
 * worker processes may share it.
 */
export class QdrantVectorIndex implements VectorIndex {
  readonly kind = 'qdrant' as const;
  private readonly client: QdrantClient;
  private readonly prefix: string;
  /** Collections and payload indexes this process knows exist (creating them is idempotent anyway). */
  private readonly known = new Set<string>();
  private readonly indexed = new Set<string>();

  constructor(opts: QdrantIndexOptions) {
    this.client = new QdrantClient({ url: opts.url, apiKey: opts.apiKey, timeout: opts.timeoutMs ?? 30_000, checkCompatibility: false });
    this.prefix = opts.prefix ?? 'rgw';
  }

  async ensureReady(): Promise<void> {
    await this.client.getCollections();
  }

  async ping(): Promise<void> {
    await this.client.getCollections();
  }

  async upsert(chunks: ChunkRecord[]): Promise<void> {
    const groups = new Map<string, { dim: number | null; chunks: ChunkRecord[] }>();
    for (const c of chunks) {
      const dim = c.embedding && c.embedding.length > 0 ? c.embedding.length : null;
      const name = this.collectionName(dim);
      if (!groups.has(name)) groups.set(name, { dim, chunks: [] });
      groups.get(name)!.chunks.push(c);
    }
    for (const [name, group] of groups) {
      await this.ensureCollection(name, group.dim);
      await this.ensureAttributeIndexes(name, group.chunks.map((c) => c.attributes));
      for (let i = 0; i < group.chunks.length; i += UPSERT_BATCH) {
        const points = group.chunks.slice(i, i + UPSERT_BATCH).map((c) => ({
          id: pointId(c.id),
          vector: { ...(group.dim ? { [DENSE]: Array.from(c.embedding!) } : {}), [SPARSE]: documentSparseVector(c.text) },
          payload: {
            chunk_id: c.id,
            project_id: c.projectId,
            store_id: c.vectorStoreId,
            file_id: c.fileId,
            filename: c.filename,
            chunk_index: c.chunkIndex,
            text: c.text,
            tokens: c.tokens,
            bytes: Buffer.byteLength(c.text),
            attributes: c.attributes ?? {},
          } satisfies ChunkPayload as unknown as Record<string, unknown>,
        }));
        // wait: the write is applied (searchable) before we resolve, as the interface promises.
        await this.client.upsert(name, { wait: true, points });
      }
    }
  }

  async deleteFile(vectorStoreId: string, fileId: string): Promise<void> {
    await this.deleteWhere({ must: [match('store_id', vectorStoreId), match('file_id', fileId)] });
  }

  async deleteStore(vectorStoreId: string): Promise<void> {
    await this.deleteWhere({ must: [match('store_id', vectorStoreId)] });
  }

  async setFileAttributes(vectorStoreId: string, fileId: string, attributes: Attributes): Promise<void> {
    for (const name of await this.collections()) {
      await this.ensureAttributeIndexes(name, [attributes]);
      // set_payload replaces the whole `attributes` value: keys dropped by the update are gone.
      await this.client.setPayload(name, { wait: true, payload: { attributes }, filter: { must: [match('store_id', vectorStoreId), match('file_id', fileId)] } });
    }
  }

  async fileChunks(vectorStoreId: string, fileId: string, opts: { afterIndex?: number; limit: number }) {
    const limit = Math.max(0, Math.floor(opts.limit));
    const filter = { must: [match('store_id', vectorStoreId), match('file_id', fileId), { key: 'chunk_index', range: { gt: opts.afterIndex ?? -1 } }] };
    const found: { chunkIndex: number; text: string }[] = [];
    for (const name of await this.collections()) {
      const page = await this.client.scroll(name, { filter, limit: limit + 1, with_payload: ['chunk_index', 'text'], order_by: { key: 'chunk_index', direction: 'asc' } });
      for (const p of page.points) found.push({ chunkIndex: Number(p.payload?.chunk_index), text: String(p.payload?.text ?? '') });
    }
    found.sort((a, b) => a.chunkIndex - b.chunkIndex);
    return { chunks: found.slice(0, limit), hasMore: found.length > limit };
  }

  async fileUsage(vectorStoreId: string, fileId: string) {
    const filter = { must: [match('store_id', vectorStoreId), match('file_id', fileId)] };
    let chunks = 0;
    let bytes = 0;
    for (const name of await this.collections()) {
      let offset: string | number | undefined;
      do {
        const page = await this.client.scroll(name, { filter, limit: SCROLL_PAGE, with_payload: ['bytes'], offset });
        for (const p of page.points) {
          chunks++;
          bytes += Number(p.payload?.bytes ?? 0);
        }
        offset = (page.next_page_offset ?? undefined) as string | number | undefined;
      } while (offset !== undefined);
    }
    return { chunks, bytes };
  }

  async search(req: SearchRequest): Promise<SearchHit[]> {
    const k = Math.floor(req.topK);
    if (k < 1 || req.vectorStoreIds.length === 0) return [];
    const scope: QdrantCondition[] = [match('project_id', req.projectId), { key: 'store_id', match: { any: [...new Set(req.vectorStoreIds)] } }];
    if (req.filter) scope.push(toQdrantFilter(req.filter));
    const filter = { must: scope };
    const existing = await this.collections();
    let scored: { score: number; payload: ChunkPayload }[] = [];

    if (req.mode === 'keyword') {
      const sparse = querySparseVector(req.queryText);
      if (sparse.indices.length === 0) return [];
      for (const name of existing) {
        const res = await this.client.query(name, { query: sparse, using: SPARSE, filter, limit: k, with_payload: true });
        for (const p of res.points) scored.push({ score: bm25Score(-p.score), payload: p.payload as unknown as ChunkPayload });
      }
      scored.sort((a, b) => b.score - a.score);
    } else {
      if (!req.queryVector || req.queryVector.length === 0) throw new InvalidRequestError(`A query vector is needed for ${req.mode} search.`, 'search_mode');
      const name = this.collectionName(req.queryVector.length);
      if (!existing.includes(name)) return [];
      const dense = Array.from(req.queryVector);
      if (req.mode === 'vector') {
        const res = await this.client.query(name, { query: dense, using: DENSE, filter, limit: k, with_payload: true });
        scored = res.points.map((p) => ({ score: cosineScore(p.score), payload: p.payload as unknown as ChunkPayload }));
      } else {
        const depth = Math.max(HYBRID_DEPTH, k * 2);
        const sparse = querySparseVector(req.queryText);
        const prefetch = [{ query: dense, using: DENSE, filter, limit: depth }, ...(sparse.indices.length > 0 ? [{ query: sparse, using: SPARSE, filter, limit: depth }] : [])];
        const res = await this.client.query(name, { prefetch, query: { rrf: { k: RRF_K } }, filter, limit: k, with_payload: true });
        // Qdrant scores a point 1/(k + position) per list, position from 0: first in both lists = 2/k.
        const max = 2 / RRF_K;
        scored = res.points.map((p) => ({ score: Math.min(1, p.score / max), payload: p.payload as unknown as ChunkPayload }));
      }
    }
    const threshold = req.scoreThreshold ?? 0;
    return scored
      .filter((s) => s.score >= threshold)
      .slice(0, k)
      .map(({ score, payload: p }) => ({ chunkId: p.chunk_id, vectorStoreId: p.store_id, fileId: p.file_id, filename: p.filename, chunkIndex: p.chunk_index, text: p.text, score, attributes: p.attributes ?? {} }));
  }

  async close(): Promise<void> {}

  /** Removes every collection of this prefix (tests). */
  async dropCollections(): Promise<void> {
    for (const name of await this.collections()) await this.client.deleteCollection(name);
    this.known.clear();
    this.indexed.clear();
  }

  private collectionName(dim: number | null): string {
    return `${this.prefix}_chunks_${dim ?? 'sparse'}`;
  }

  /** Every collection of this prefix, asked each time: another process may have created one. */
  private async collections(): Promise<string[]> {
    const res = await this.client.getCollections();
    const mine = new RegExp(`^${this.prefix.replace(/[^A-Za-z0-9_]/g, '\\$&')}_chunks_(\\d+|sparse)$`);
    return res.collections.map((c) => c.name).filter((n) => mine.test(n));
  }

  private async deleteWhere(filter: { must: QdrantCondition[] }): Promise<void> {
    for (const name of await this.collections()) await this.client.delete(name, { wait: true, filter });
  }

  private async ensureCollection(name: string, dim: number | null): Promise<void> {
    if (this.known.has(name)) return;
    const { exists } = await this.client.collectionExists(name);
    if (!exists) {
      try {
        await this.client.createCollection(name, {
          vectors: dim ? { [DENSE]: { size: dim, distance: 'Cosine' } } : {},
          sparse_vectors: { [SPARSE]: { modifier: 'idf' } },
        });
      } catch (err) {
        // Another process created it in between: fine; anything else is real.
        if (!(await this.client.collectionExists(name)).exists) throw err;
      }
    }
    for (const [field, schema] of [['project_id', 'keyword'], ['store_id', 'keyword'], ['file_id', 'keyword'], ['chunk_index', 'integer']] as const) {
      await this.client.createPayloadIndex(name, { field_name: field, field_schema: schema, wait: true });
    }
    this.known.add(name);
  }

  /** A payload index per attribute key, typed by the first value seen (keyword, float or bool). */
  private async ensureAttributeIndexes(name: string, all: Attributes[]): Promise<void> {
    for (const attributes of all) {
      for (const [key, value] of Object.entries(attributes ?? {})) {
        const id = `${name}\u0000${key}`;
        if (this.indexed.has(id)) continue;
        const schema = typeof value === 'number' ? 'float' : typeof value === 'boolean' ? 'bool' : 'keyword';
        try {
          await this.client.createPayloadIndex(name, { field_name: attributePath(key), field_schema: schema, wait: true });
        } catch {
          // Already indexed with another type by an earlier value: filters still work, unindexed for that type.
        }
        this.indexed.add(id);
      }
    }
  }
}

function match(key: string, value: string): QdrantCondition {
  return { key, match: { value } };
}
