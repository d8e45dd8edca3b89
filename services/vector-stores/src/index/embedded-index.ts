import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import { compileFilter } from '@rgw/shared/attribute-filter';
import { InvalidRequestError } from '@rgw/shared/errors';
import { DEFAULT_ANN_SETTINGS, type AnnSettings } from './ann-graph.js';
import { AnnMirror, type RowMeta } from './ann-mirror.js';
import { openSchema, UPSERT_SQL, type ChunkRow } from './embedded-schema.js';
import { OrderedWrites } from './ordered-writes.js';
import type { SnapshotOutcome } from './graph-snapshot.js';
import { bm25Score, ftsMatchQuery } from './keyword-terms.js';
import type { QuantizedVectors } from './quantized-vectors.js';
import { reciprocalRankFusion } from './rank-fusion.js';
import type { Attributes, ChunkRecord, SearchHit, SearchRequest, VectorIndex } from './vector-index.js';
import { blobToVector, cosineScore, dot, normalized, topK, vectorToBlob } from './vector-math.js';

export interface EmbeddedIndexOptions {
  ann?: Partial<AnnSettings>;
  /**
   * Candidate sets (rows of the searched stores that pass the filter) at most this large are
   * searched exactly: faster than a filtered graph walk there, and always right.
   */
  exactLimit?: number;
  /** The same for filtered searches (the filtered graph walk is slower, so exact wins up to larger sets). */
  filteredExactLimit?: number;
  /** Change-log entries kept for other processes to replay before the oldest are pruned. */
  logRetention?: number;
  /** SQLite busy timeout: how long a writer waits for another process's write to finish. */
  busyTimeoutMs?: number;
  /**
   * Graph snapshots beside the file (`graph-snapshot.ts`): a graph is saved in the background once
   * this many of its points changed since its last snapshot; opening loads it and replays the
   * change log instead of rebuilding. 0 turns snapshots off (neither written nor read).
   */
  snapshotMinChanges?: number;
  /**
   * Commit upserts on a writer thread (embedded-writer.ts), beside the caller's thread. Default: on
   * where there is more than one core, unless INDEX_WRITER_THREAD=0.
   */
  writerThread?: boolean;
  /** How long the writer thread may sit idle before it is stopped (default 60 s). */
  writerIdleMs?: number;
}

export const DEFAULT_EXACT_LIMIT = 2000;
export const DEFAULT_FILTERED_EXACT_LIMIT = 20_000;
/** Below this many changed points a rebuild at opening takes about a second: not worth a snapshot write (~150 B a point on disk). */
export const DEFAULT_SNAPSHOT_MIN_CHANGES = 5000;
/** Hybrid mode fuses this many candidates per list (at least), so a chunk strong in one list can still win. */
const HYBRID_DEPTH = 50;
/**
 * Both searches rescore 2k + this many of their 8-bit preselection at full precision: 8-bit
 * rounding (of the vectors and of the query) moves a 384-dimension cosine by a few 1e-4, so only
 * near-ties can change places.
 */
const RESCORE_EXTRA = 8;
/** A writer thread without a write for this long is stopped (its memory back); the next upsert starts another. */
const WRITER_IDLE_MS = 60_000;

/** Rows that may be returned: row ids and their slots in the compact vector copy. */
interface Candidates {
  rids: number[];
  slots: number[];
  length: number;
}

interface Ranked {
  rid: number;
  score: number;
}

/**
 * The embedded chunk index: one SQLite file (rows, FTS5 keyword index, change log) plus, in each
 * searching process, an in-memory HNSW graph per dimension rebuilt from the stored vectors and
 * replayed from the change log before every search. Several processes of one host may share the
 * file (WAL); it is not for network file systems.
 */
export class EmbeddedVectorIndex implements VectorIndex {
  readonly kind = 'embedded' as const;
  private db?: Db;
  private mirror?: AnnMirror;
  private stmt!: Record<'upsert' | 'deleteFile' | 'deleteStore' | 'setAttributes' | 'fileChunks' | 'usage' | 'vector' | 'hit' | 'keyword' | 'keywordAll' | 'logSpan' | 'prune' | 'setFloor', Statement>;
  private readonly ann: AnnSettings;
  private readonly exactLimit: number;
  private readonly filteredExactLimit: number;
  private readonly logRetention: number;
  /** The writes of this instance, in the order they were called (the writer thread answers later). */
  private readonly writes: OrderedWrites;

  constructor(
    readonly path: string,
    private readonly options: EmbeddedIndexOptions = {},
  ) {
    this.ann = { ...DEFAULT_ANN_SETTINGS, ...options.ann };
    this.exactLimit = options.exactLimit ?? DEFAULT_EXACT_LIMIT;
    this.filteredExactLimit = options.filteredExactLimit ?? options.exactLimit ?? DEFAULT_FILTERED_EXACT_LIMIT;
    this.logRetention = options.logRetention ?? 200_000;
    this.writes = new OrderedWrites({
      path,
      busyTimeoutMs: options.busyTimeoutMs ?? 10_000,
      threaded: options.writerThread ?? (process.env.INDEX_WRITER_THREAD !== '0' && availableParallelism() > 1),
      idleMs: options.writerIdleMs ?? WRITER_IDLE_MS,
      isOpen: () => this.db !== undefined,
    });
  }

  async ensureReady(): Promise<void> {
    this.open();
  }

  async ping(): Promise<void> {
    this.open().prepare('SELECT 1').get();
  }

  async upsert(chunks: ChunkRecord[]): Promise<void> {
    if (chunks.length === 0) return;
    const db = this.open();
    const rows = chunks.map((c) => {
      const unit = c.embedding ? normalized(c.embedding) : null;
      return {
        id: c.id,
        project_id: c.projectId,
        store_id: c.vectorStoreId,
        file_id: c.fileId,
        filename: c.filename,
        chunk_index: c.chunkIndex,
        text: c.text,
        tokens: c.tokens,
        attributes: JSON.stringify(c.attributes ?? {}),
        dim: unit ? unit.length : null,
        embedding: unit ? vectorToBlob(unit) : null,
      };
    });
    // IMMEDIATE: take the write lock up front, so two writers queue on the busy timeout instead of
    // one failing to upgrade a read transaction.
    const here = () => db.transaction(() => {
      for (const r of rows) this.stmt.upsert.run(r);
    }).immediate();
    await this.writes.upsert(rows, here, () => this.pruneLog());
  }

  async deleteFile(vectorStoreId: string, fileId: string): Promise<void> {
    const db = this.open();
    await this.writes.run(() => {
      db.transaction(() => this.stmt.deleteFile.run(vectorStoreId, fileId)).immediate();
      this.pruneLog();
    });
  }

  async deleteStore(vectorStoreId: string): Promise<void> {
    const db = this.open();
    await this.writes.run(() => {
      db.transaction(() => this.stmt.deleteStore.run(vectorStoreId)).immediate();
      this.pruneLog();
    });
  }

  async setFileAttributes(vectorStoreId: string, fileId: string, attributes: Attributes): Promise<void> {
    const db = this.open();
    await this.writes.run(() => db.transaction(() => this.stmt.setAttributes.run(JSON.stringify(attributes), vectorStoreId, fileId)).immediate());
  }

  async fileChunks(vectorStoreId: string, fileId: string, opts: { afterIndex?: number; limit: number }) {
    this.open();
    const limit = Math.max(0, Math.floor(opts.limit));
    const rows = this.stmt.fileChunks.all(vectorStoreId, fileId, opts.afterIndex ?? -1, limit + 1) as { chunk_index: number; text: string }[];
    return { chunks: rows.slice(0, limit).map((r) => ({ chunkIndex: r.chunk_index, text: r.text })), hasMore: rows.length > limit };
  }

  async fileUsage(vectorStoreId: string, fileId: string) {
    this.open();
    const r = this.stmt.usage.get(vectorStoreId, fileId) as { n: number; bytes: number };
    return { chunks: r.n, bytes: r.bytes };
  }

  async search(req: SearchRequest): Promise<SearchHit[]> {
    this.open();
    const k = Math.floor(req.topK);
    if (k < 1 || req.vectorStoreIds.length === 0) return [];
    let ranked: Ranked[];
    if (req.mode === 'keyword') {
      ranked = this.keywordRanked(req, k);
    } else {
      if (!req.queryVector || req.queryVector.length === 0) throw new InvalidRequestError(`A query vector is needed for ${req.mode} search.`, 'search_mode');
      if (req.mode === 'vector') {
        ranked = await this.vectorRanked(req, k);
      } else {
        const depth = Math.max(HYBRID_DEPTH, k * 2);
        const lists = [(await this.vectorRanked(req, depth)).map((r) => r.rid), this.keywordRanked(req, depth).map((r) => r.rid)];
        const fused = reciprocalRankFusion(lists);
        ranked = topK([...fused].map(([rid, score]) => ({ rid, score })), k);
      }
    }
    const threshold = req.scoreThreshold ?? 0;
    return ranked.filter((r) => r.score >= threshold).flatMap((r) => this.hydrate(r));
  }

  /** Resolves once the in-memory graphs hold every stored vector (until then searches also scan exactly). */
  async whenGraphsBuilt(): Promise<void> {
    const mirror = this.openMirror();
    await mirror.catchUp();
    await mirror.whenGraphsBuilt();
  }

  /** Per dimension, whether the last load of the graphs used a snapshot, or why not (tests, benchmark). */
  snapshotOutcomes(): SnapshotOutcome[] {
    return this.mirror?.snapshotOutcomes ?? [];
  }

  private openMirror(): AnnMirror {
    const db = this.open();
    const minChanges = this.options.snapshotMinChanges ?? DEFAULT_SNAPSHOT_MIN_CHANGES;
    return (this.mirror ??= new AnnMirror(db, this.ann, minChanges > 0 ? { dbPath: this.path, minChanges } : undefined));
  }

  async close(): Promise<void> {
    await this.writes.close();
    this.mirror?.close();
    this.db?.close();
    this.db = undefined;
    this.mirror = undefined;
  }

  /** The best chunks by cosine among those of the stores that pass the filter. */
  private async vectorRanked(req: SearchRequest, k: number): Promise<Ranked[]> {
    const mirror = this.openMirror();
    await mirror.catchUp();
    const query = normalized(req.queryVector!);
    const graph = mirror.graphs.get(query.length);
    const compact = mirror.compact.get(query.length);
    if (!graph || !compact || compact.size === 0) return [];
    // A store belongs to one project: checking one of its rows scopes the whole store.
    const storeIds = [...new Set(req.vectorStoreIds)].filter((id) => {
      const s = mirror.byStore.get(id);
      return !!s && s.size > 0 && s.values().next().value!.project === req.projectId;
    });
    const stores = storeIds.map((id) => mirror.byStore.get(id)!);
    if (stores.length === 0) return [];
    const total = stores.reduce((n, s) => n + s.size, 0);
    const pass = req.filter ? compileFilter(req.filter) : undefined;
    const dim = query.length;
    const collect = (): Candidates => {
      const out: Candidates = { rids: [], slots: [], length: 0 };
      for (const id of storeIds) {
        const view = mirror.columns(id)!;
        const pass = req.filter ? view.compile(req.filter) : undefined;
        const { rids, slots, dims } = view;
        for (let i = 0; i < view.length; i++) {
          if (dims[i] === dim && slots[i]! >= 0 && (!pass || pass(i))) {
            out.rids.push(rids[i]!);
            out.slots.push(slots[i]!);
          }
        }
      }
      out.length = out.rids.length;
      return out;
    };

    let candidates: Candidates | undefined;
    if (req.filter || total <= this.exactLimit) {
      candidates = collect();
      // A filtered graph walk calls back into JS at every node it visits: below this size a scan
      // of the passing rows is faster, and exact.
      if (candidates.length <= (req.filter ? this.filteredExactLimit : this.exactLimit)) return this.exact(compact, query, candidates, k);
    }
    // Rows not yet in the graph (just written, or the graph is still being built) are scored
    // exactly and merged; the graph's copy of a row whose vector changed is ignored meanwhile.
    const pending = mirror.pending.get(dim);
    const fresh: Candidates = { rids: [], slots: [], length: 0 };
    if (pending && pending.size > 0) {
      for (const rid of pending.keys()) {
        const meta = mirror.rows.get(rid);
        if (meta && meta.slot >= 0 && meta.dim === dim && stores.some((s) => s.has(rid)) && (!pass || pass(meta.attributes))) {
          fresh.rids.push(rid);
          fresh.slots.push(meta.slot);
        }
      }
      fresh.length = fresh.rids.length;
    }
    const stale = pending && pending.size > 0 ? pending : undefined;
    let accept: (label: number) => boolean;
    if (candidates) {
      const allowed = new Set(candidates.rids);
      accept = stale ? (label) => allowed.has(label) && !stale.has(label) : (label) => allowed.has(label);
    } else {
      // Always scoped: row counts cannot prove the graph holds only these stores (rows without vectors).
      accept = (label) => (stores.length === 1 ? stores[0]!.has(label) : stores.some((s) => s.has(label))) && !stale?.has(label);
    }
    // The graph's scores are 8-bit approximations: twice k and a few more are rescored at full precision.
    const found = this.rescore(query, graph.search(query, 2 * k + RESCORE_EXTRA, accept).map((f) => f.label), k);
    const merged = fresh.length > 0 ? topK([...found, ...this.exact(compact, query, fresh, k)], k) : found;
    // The walk can strand itself when few nodes pass: then the exact answer, never a short one.
    if (merged.length >= Math.min(k, candidates?.length ?? total)) return merged;
    return this.exact(compact, query, candidates ?? collect(), k);
  }

  /**
   * Exact top k over a candidate set: scanned in the compact in-memory copy, then the best few
   * rescored from the stored Float32 vectors, so ranks and scores are those of full precision.
   */
  private exact(compact: QuantizedVectors, query: Float32Array, candidates: Candidates, k: number): Ranked[] {
    // Query and vectors both 8-bit (SIMD, ~4× the float loop): twice k and a few more are rescored.
    compact.setQuery(query);
    const keep = Math.min(candidates.length, 2 * k + RESCORE_EXTRA);
    if (keep === 0) return [];
    // A bounded min-heap would be faster still; a threshold check keeps most rows out of the sort.
    const best: Ranked[] = [];
    let floor = -Infinity;
    for (let i = 0; i < candidates.length; i++) {
      const score = compact.queryScore(candidates.slots[i]!);
      if (best.length >= keep && score <= floor) continue;
      best.push({ rid: candidates.rids[i]!, score });
      if (best.length >= keep * 4) {
        best.sort((a, b) => b.score - a.score).length = keep;
        floor = best[keep - 1]!.score;
      }
    }
    return this.rescore(query, topK(best, keep).map((r) => r.rid), k);
  }

  /** The best k of `rids` by cosine with the stored Float32 vectors; exact ties rank by row id, in either search. */
  private rescore(query: Float32Array, rids: number[], k: number): Ranked[] {
    const rescored: Ranked[] = [];
    for (const rid of rids.sort((a, b) => a - b)) {
      const blob = this.stmt.vector.get(rid) as Buffer | undefined;
      if (blob) rescored.push({ rid, score: dot(query, blobToVector(blob)) });
    }
    return topK(rescored, k).map((r) => ({ rid: r.rid, score: cosineScore(r.score) }));
  }

  /** FTS5 bm25 over the stores' chunks; with a filter, the ranked matches are read until k pass. */
  private keywordRanked(req: SearchRequest, k: number): Ranked[] {
    const match = ftsMatchQuery(req.queryText);
    if (!match) return [];
    const stores = JSON.stringify([...new Set(req.vectorStoreIds)]);
    if (!req.filter) {
      const rows = this.stmt.keyword.all(match, req.projectId, stores, k) as { rid: number; rank: number }[];
      return rows.map((r) => ({ rid: r.rid, score: bm25Score(r.rank) }));
    }
    const pass = compileFilter(req.filter);
    const out: Ranked[] = [];
    for (const r of this.stmt.keywordAll.iterate(match, req.projectId, stores) as Iterable<{ rid: number; rank: number; attributes: string }>) {
      if (!pass(JSON.parse(r.attributes) as Attributes)) continue;
      out.push({ rid: r.rid, score: bm25Score(r.rank) });
      if (out.length >= k) break;
    }
    return out;
  }

  private hydrate(r: Ranked): SearchHit[] {
    // A row deleted by another process since the ranking is simply gone.
    const row = this.stmt.hit.get(r.rid) as ChunkRow | undefined;
    if (!row) return [];
    return [
      {
        chunkId: row.id,
        vectorStoreId: row.store_id,
        fileId: row.file_id,
        filename: row.filename,
        chunkIndex: row.chunk_index,
        text: row.text,
        score: r.score,
        attributes: JSON.parse(row.attributes) as Attributes,
      },
    ];
  }

  /** Drops the oldest change-log entries once there are many; readers behind the floor rebuild. */
  private pruneLog(): void {
    const span = this.stmt.logSpan.get() as { lo: number | null; hi: number | null };
    if (span.lo === null || span.hi === null || span.hi - span.lo < this.logRetention) return;
    const floor = span.hi - Math.floor(this.logRetention / 2);
    this.db!.transaction(() => {
      this.stmt.prune.run(floor);
      this.stmt.setFloor.run(String(floor));
    }).immediate();
  }

  private open(): Db {
    if (this.db) return this.db;
    mkdirSync(dirname(this.path), { recursive: true });
    const db = new Database(this.path, { timeout: this.options.busyTimeoutMs ?? 10_000 });
    openSchema(db);
    const keywordSql = `SELECT c.rid AS rid, c.attributes AS attributes, bm25(chunks_fts) AS rank
      FROM chunks_fts JOIN chunks c ON c.rid = chunks_fts.rowid
      WHERE chunks_fts MATCH ? AND c.project_id = ? AND c.store_id IN (SELECT value FROM json_each(?))
      ORDER BY rank`;
    this.stmt = {
      upsert: db.prepare(UPSERT_SQL),
      deleteFile: db.prepare('DELETE FROM chunks WHERE store_id = ? AND file_id = ?'),
      deleteStore: db.prepare('DELETE FROM chunks WHERE store_id = ?'),
      setAttributes: db.prepare('UPDATE chunks SET attributes = ? WHERE store_id = ? AND file_id = ?'),
      fileChunks: db.prepare('SELECT chunk_index, text FROM chunks WHERE store_id = ? AND file_id = ? AND chunk_index > ? ORDER BY chunk_index LIMIT ?'),
      usage: db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(length(CAST(text AS BLOB))), 0) AS bytes FROM chunks WHERE store_id = ? AND file_id = ?'),
      vector: db.prepare('SELECT embedding FROM chunks WHERE rid = ?').pluck(),
      hit: db.prepare('SELECT rid, id, project_id, store_id, file_id, filename, chunk_index, text, attributes FROM chunks WHERE rid = ?'),
      keyword: db.prepare(`${keywordSql} LIMIT ?`),
      keywordAll: db.prepare(keywordSql),
      logSpan: db.prepare('SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM chunk_changes'),
      prune: db.prepare('DELETE FROM chunk_changes WHERE seq <= ?'),
      setFloor: db.prepare("INSERT INTO index_meta (key, value) VALUES ('log_floor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    };
    this.db = db;
    return db;
  }
}
