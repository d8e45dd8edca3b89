import type { Database, Statement } from 'better-sqlite3';
import { AnnGraph, type AnnSettings } from './ann-graph.js';
import { QuantizedVectors } from './quantized-vectors.js';
import { StoreColumns } from './store-columns.js';
import type { Attributes } from './vector-index.js';
import { blobToVector } from './vector-math.js';

export interface RowMeta {
  project: string;
  store: string;
  attributes: Attributes;
  dim: number | null;
  /** Slot of the vector in `compact.get(dim)`, −1 without a vector. */
  slot: number;
}

interface StoredRow {
  rid: number;
  project_id: string;
  store_id: string;
  attributes: string;
  dim: number | null;
  embedding?: Buffer | null;
}

/** Change-log entries a catch-up reads per query: bounds the memory of a catch-up after a large import. */
const CHANGE_PAGE = 5000;
/** The background graph builder works this long per turn of the event loop. */
const DRAIN_SLICE_MS = 15;
const DRAIN_BATCH = 64;

function* take<T>(it: Iterator<T>, n: number): Generator<T> {
  for (let i = 0; i < n; i++) {
    const r = it.next();
    if (r.done) return;
    yield r.value;
  }
}

/**
 * What one process keeps in memory of the shared index file: per chunk its store, project,
 * attributes and dimension (filters and store scoping run here, during the ANN walk), and one HNSW
 * graph per dimension. Built from the rows on first use and then kept in step by replaying the
 * change log from the last sequence seen, so writes and deletes of any process are visible to the
 * next search of every process.
 */
export class AnnMirror {
  readonly rows = new Map<number, RowMeta>();
  readonly byStore = new Map<string, Map<number, RowMeta>>();
  readonly graphs = new Map<number, AnnGraph>();
  /** Per dimension, the compact copy the exact search scans. */
  readonly compact = new Map<number, QuantizedVectors>();
  /**
   * Per dimension, rows whose current vector is not in the graph yet (new, changed, or the whole
   * store after opening): the graph is built in the background in short slices, so a large store
   * never blocks the process for the minutes a full build takes; searches score these rows exactly.
   * The value is the vector when known (catch-up read it), null to read it from the file.
   */
  readonly pending = new Map<number, Map<number, Float32Array | null>>();
  /** Bumped on every change to a store's rows or attributes; invalidates its column view. */
  private readonly storeVersion = new Map<string, number>();
  private readonly views = new Map<string, StoreColumns>();
  private drainScheduled = false;
  private closed = false;
  private readonly idle: (() => void)[] = [];
  private loaded = false;
  private lastSeq = 0;
  private readonly stmt: Record<'maxSeq' | 'floor' | 'changes' | 'full' | 'meta' | 'all' | 'dims' | 'vectors', Statement>;

  constructor(
    private readonly db: Database,
    private readonly settings: AnnSettings,
  ) {
    this.stmt = {
      maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) FROM chunk_changes').pluck(),
      floor: db.prepare("SELECT value FROM index_meta WHERE key = 'log_floor'").pluck(),
      changes: db.prepare('SELECT seq, rid, op FROM chunk_changes WHERE seq > ? ORDER BY seq LIMIT ?'),
      full: db.prepare('SELECT rid, project_id, store_id, attributes, dim, embedding FROM chunks WHERE rid = ?'),
      meta: db.prepare('SELECT rid, project_id, store_id, attributes, dim FROM chunks WHERE rid = ?'),
      all: db.prepare('SELECT rid, project_id, store_id, attributes, dim, embedding FROM chunks'),
      vectors: db.prepare('SELECT rid, dim, embedding FROM chunks WHERE rid IN (SELECT value FROM json_each(?))'),
      dims: db.prepare('SELECT dim, COUNT(*) AS n FROM chunks WHERE dim IS NOT NULL GROUP BY dim'),
    };
  }

  /** Brings the mirror up to the latest committed state of the file. */
  catchUp(): void {
    if (!this.loaded) return this.fullLoad();
    const floor = Number(this.stmt.floor.get() ?? 0);
    // Entries we have not seen were pruned: replaying is impossible, rebuild.
    if (this.lastSeq < floor) return this.fullLoad();
    for (;;) {
      const page = this.stmt.changes.all(this.lastSeq, CHANGE_PAGE) as { seq: number; rid: number; op: string }[];
      if (page.length === 0) return;
      // Last word per row; a vector change stays a vector change even if attributes changed after it.
      const ops = new Map<number, string>();
      for (const c of page) ops.set(c.rid, c.op === 'a' && ops.get(c.rid) === 'u' ? 'u' : c.op);
      for (const [rid, op] of ops) {
        if (op === 'a' && this.rows.has(rid)) {
          const row = this.stmt.meta.get(rid) as StoredRow | undefined;
          if (row) {
            const meta = this.rows.get(rid)!;
            meta.attributes = JSON.parse(row.attributes) as Attributes;
            this.touch(meta.store);
          }
          else this.remove(rid);
          continue;
        }
        const row = op === 'd' ? undefined : (this.stmt.full.get(rid) as StoredRow | undefined);
        if (row) this.put(row);
        else this.remove(rid);
      }
      this.lastSeq = page[page.length - 1]!.seq;
      if (page.length < CHANGE_PAGE) return;
    }
  }

  private fullLoad(): void {
    this.rows.clear();
    this.byStore.clear();
    this.graphs.clear();
    this.compact.clear();
    this.pending.clear();
    this.views.clear();
    // One read transaction: the sequence and the rows are the same snapshot, so replay starts exactly after it.
    this.db.transaction(() => {
      this.lastSeq = Number(this.stmt.maxSeq.get());
      for (const d of this.stmt.dims.all() as { dim: number; n: number }[]) {
        const capacity = Math.max(1024, Math.ceil(d.n * 1.1));
        this.graphs.set(d.dim, new AnnGraph(d.dim, this.settings, capacity));
        this.compact.set(d.dim, new QuantizedVectors(d.dim, capacity));
      }
      for (const row of this.stmt.all.iterate() as Iterable<StoredRow>) this.put(row, false);
    })();
    this.loaded = true;
  }

  /** The store's rows as columns, rebuilt only after the store changed. */
  columns(storeId: string): StoreColumns | undefined {
    const rows = this.byStore.get(storeId);
    if (!rows) return undefined;
    const version = this.storeVersion.get(storeId) ?? 0;
    let view = this.views.get(storeId);
    if (!view || view.version !== version) this.views.set(storeId, (view = new StoreColumns(rows, version)));
    return view;
  }

  private touch(storeId: string): void {
    this.storeVersion.set(storeId, (this.storeVersion.get(storeId) ?? 0) + 1);
  }

  /** Resolves once every pending row is in its graph (benchmarks, tests). */
  whenGraphsBuilt(): Promise<void> {
    if (this.pendingCount() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  close(): void {
    this.closed = true;
  }

  private pendingCount(): number {
    let n = 0;
    for (const p of this.pending.values()) n += p.size;
    return n;
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.closed) return;
    this.drainScheduled = true;
    // Not unref'd: a script awaiting whenGraphsBuilt() must not exit with the build half done;
    // close() stops the builder.
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  /** Adds pending rows to their graphs for a few milliseconds, then yields to the event loop. */
  private drain(): void {
    if (this.closed) return;
    const until = performance.now() + DRAIN_SLICE_MS;
    for (const [dim, pending] of this.pending) {
      const graph = this.graphs.get(dim);
      while (pending.size > 0 && graph && performance.now() < until) {
        const batch = [...take(pending.keys(), DRAIN_BATCH)];
        const known = new Map<number, Float32Array>();
        const unknown: number[] = [];
        for (const rid of batch) {
          const v = pending.get(rid);
          if (v) known.set(rid, v);
          else unknown.push(rid);
        }
        if (unknown.length > 0) {
          for (const r of this.stmt.vectors.all(JSON.stringify(unknown)) as { rid: number; dim: number | null; embedding: Buffer | null }[]) {
            if (r.dim === dim && r.embedding) known.set(r.rid, blobToVector(r.embedding));
          }
        }
        for (const rid of batch) {
          const v = known.get(rid);
          if (v && this.rows.get(rid)?.dim === dim) graph.upsert(rid, v);
          pending.delete(rid);
        }
      }
      if (pending.size === 0) this.pending.delete(dim);
    }
    if (this.pendingCount() > 0) return this.scheduleDrain();
    for (const resolve of this.idle.splice(0)) resolve();
  }

  /** `keepVector`: hold the vector for the graph builder (catch-up) instead of reading it again (full load). */
  private put(row: StoredRow, keepVector = true): void {
    const prev = this.rows.get(row.rid);
    if (prev && prev.dim !== null && prev.dim !== row.dim) {
      this.graphs.get(prev.dim)?.remove(row.rid);
      this.compact.get(prev.dim)?.remove(row.rid);
      this.pending.get(prev.dim)?.delete(row.rid);
    }
    if (prev && prev.store !== row.store_id) {
      this.byStore.get(prev.store)?.delete(row.rid);
      this.touch(prev.store);
    }
    this.touch(row.store_id);
    const meta: RowMeta = { project: row.project_id, store: row.store_id, attributes: JSON.parse(row.attributes) as Attributes, dim: row.dim, slot: -1 };
    this.rows.set(row.rid, meta);
    let store = this.byStore.get(row.store_id);
    if (!store) this.byStore.set(row.store_id, (store = new Map()));
    store.set(row.rid, meta);
    if (row.dim !== null && row.embedding) {
      if (!this.graphs.has(row.dim)) this.graphs.set(row.dim, new AnnGraph(row.dim, this.settings));
      let compact = this.compact.get(row.dim);
      if (!compact) this.compact.set(row.dim, (compact = new QuantizedVectors(row.dim)));
      const unit = blobToVector(row.embedding);
      meta.slot = compact.put(row.rid, unit);
      let pending = this.pending.get(row.dim);
      if (!pending) this.pending.set(row.dim, (pending = new Map()));
      // Copied: the blob's buffer belongs to SQLite's row and may be reused.
      pending.set(row.rid, keepVector ? unit.slice() : null);
      this.scheduleDrain();
    }
  }

  private remove(rid: number): void {
    const meta = this.rows.get(rid);
    if (!meta) return;
    this.rows.delete(rid);
    this.touch(meta.store);
    const set = this.byStore.get(meta.store);
    set?.delete(rid);
    if (set?.size === 0) this.byStore.delete(meta.store);
    if (meta.dim !== null) {
      this.graphs.get(meta.dim)?.remove(rid);
      this.compact.get(meta.dim)?.remove(rid);
      this.pending.get(meta.dim)?.delete(rid);
    }
  }
}
