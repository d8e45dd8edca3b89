import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { AnnGraph, type AnnSettings } from './ann-graph.js';
import { readSnapshot, writeSnapshot, type LoadedSnapshot, type SnapshotOutcome } from './graph-snapshot.js';
import { QuantizedVectors } from './quantized-vectors.js';
import { StoreColumns } from './store-columns.js';
import type { Attributes } from './vector-index.js';
import { blobToVector } from './vector-math.js';

export interface RowMeta {
  project: string;
  store: string;
  attributes: Attributes;
  dim: number | null;
  /** Slot of the vector in `compact.get(dim)` (and its graph node), −1 without a vector. */
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

/** Where and when graphs are snapshotted (`graph-snapshot.ts`); absent: never. */
export interface SnapshotPolicy {
  /** The SQLite file the snapshots sit beside. */
  dbPath: string;
  /** A graph is saved once this many points were added, moved or removed since its last snapshot. */
  minChanges: number;
}

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
  /** Per dimension, the 8-bit vectors: the graph's nodes and what the exact search scans. */
  readonly compact = new Map<number, QuantizedVectors>();
  /**
   * Per dimension, rows whose current vector is not in the graph yet (new, changed, or the whole
   * store after opening): the graph is built in the background in short slices, so a large store
   * never blocks the process for the seconds a full build takes; searches score these rows exactly
   * (their vectors are in `compact` already).
   */
  readonly pending = new Map<number, Set<number>>();
  /** Bumped on every change to a store's rows or attributes; invalidates its column view. */
  private readonly storeVersion = new Map<string, number>();
  private readonly views = new Map<string, StoreColumns>();
  private drainScheduled = false;
  private closed = false;
  private readonly idle: (() => void)[] = [];
  private loaded = false;
  private loading?: Promise<void>;
  private lastSeq = 0;
  /** Per dimension, graph changes since its last snapshot (or since it was built). */
  private readonly unsaved = new Map<number, number>();
  /** A snapshot being written: the graphs must not change meanwhile, so the builder waits. */
  private writing?: Promise<void>;
  /** What became of the snapshots at the last full load (tests, benchmark). */
  snapshotOutcomes: SnapshotOutcome[] = [];
  private readonly stmt: Record<'maxSeq' | 'floor' | 'changes' | 'changedSince' | 'full' | 'meta' | 'all' | 'dims' | 'instance', Statement>;

  constructor(
    private readonly db: Database,
    private readonly settings: AnnSettings,
    private readonly snapshots?: SnapshotPolicy,
  ) {
    this.stmt = {
      changedSince: db.prepare("SELECT DISTINCT rid FROM chunk_changes WHERE seq > ? AND op != 'a'").pluck(),
      instance: db.prepare("SELECT value FROM index_meta WHERE key = 'instance_id'").pluck(),
      maxSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) FROM chunk_changes').pluck(),
      floor: db.prepare("SELECT value FROM index_meta WHERE key = 'log_floor'").pluck(),
      changes: db.prepare('SELECT seq, rid, op FROM chunk_changes WHERE seq > ? ORDER BY seq LIMIT ?'),
      full: db.prepare('SELECT rid, project_id, store_id, attributes, dim, embedding FROM chunks WHERE rid = ?'),
      meta: db.prepare('SELECT rid, project_id, store_id, attributes, dim FROM chunks WHERE rid = ?'),
      all: db.prepare('SELECT rid, project_id, store_id, attributes, dim, embedding FROM chunks'),
      dims: db.prepare('SELECT dim, COUNT(*) AS n FROM chunks WHERE dim IS NOT NULL GROUP BY dim'),
    };
  }

  /** Brings the mirror up to the latest committed state of the file. */
  async catchUp(): Promise<void> {
    // Entries we have not seen were pruned: replaying is impossible, reload.
    if (!this.loaded || this.lastSeq < Number(this.stmt.floor.get() ?? 0)) {
      // Concurrent first searches share one load.
      await (this.loading ??= this.fullLoad().finally(() => (this.loading = undefined)));
    }
    this.replay();
  }

  private replay(): void {
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

  private async fullLoad(): Promise<void> {
    // Snapshots first (read on the thread pool), then the rows in one read transaction, so the
    // sequence, the rows and the changes since each snapshot are the same state of the file.
    const instance = String(this.stmt.instance.get() ?? '');
    const found = new Map<number, LoadedSnapshot>();
    const outcomes: SnapshotOutcome[] = [];
    if (this.snapshots) {
      for (const d of this.stmt.dims.all() as { dim: number }[]) {
        const snap = await readSnapshot(this.snapshots.dbPath, d.dim, instance, this.settings);
        if ('graph' in snap) found.set(d.dim, snap);
        else outcomes.push({ dim: d.dim, used: false, reason: snap.reason });
      }
    }
    this.rows.clear();
    this.byStore.clear();
    this.graphs.clear();
    this.compact.clear();
    this.pending.clear();
    this.views.clear();
    this.unsaved.clear();
    // The scan reads every row once: through a connection of its own with a small page cache, so
    // that it does not leave the shared connection's 16 MB cache full of pages no search needs.
    const scanDb = this.db.memory ? this.db : new BetterSqlite3(this.db.name, { fileMustExist: true, timeout: 10_000 });
    if (scanDb !== this.db) scanDb.pragma('cache_size = -1000');
    const scan = {
      maxSeq: scanDb.prepare(this.stmt.maxSeq.source).pluck(),
      floor: scanDb.prepare(this.stmt.floor.source).pluck(),
      dims: scanDb.prepare(this.stmt.dims.source),
      all: scanDb.prepare(this.stmt.all.source),
      changedSince: scanDb.prepare(this.stmt.changedSince.source).pluck(),
    };
    try {
      this.loadRows(scanDb, scan, found, outcomes);
    } finally {
      if (scanDb !== this.db) scanDb.close();
    }
    this.snapshotOutcomes = outcomes;
    this.loaded = true;
    if (this.pendingCount() === 0) this.settle();
  }

  private loadRows(db: Database, scan: Record<'maxSeq' | 'floor' | 'dims' | 'all' | 'changedSince', Statement>, found: Map<number, LoadedSnapshot>, outcomes: SnapshotOutcome[]): void {
    db.transaction(() => {
      this.lastSeq = Number(scan.maxSeq.get());
      const floor = Number(scan.floor.get() ?? 0);
      for (const d of scan.dims.all() as { dim: number; n: number }[]) {
        const capacity = Math.max(1024, Math.ceil(d.n * 1.1));
        const snap = found.get(d.dim);
        // The log must hold every change after the snapshot, and the file must have reached it.
        const usable = snap && snap.header.seq >= floor && snap.header.seq <= this.lastSeq;
        if (snap && !usable) outcomes.push({ dim: d.dim, used: false, reason: 'position outside the change log' });
        if (snap && usable) outcomes.push({ dim: d.dim, used: true, seq: snap.header.seq });
        const compact = new QuantizedVectors(d.dim, capacity);
        this.compact.set(d.dim, compact);
        this.graphs.set(d.dim, new AnnGraph(compact, this.settings));
      }
      for (const row of scan.all.iterate() as Iterable<StoredRow>) this.put(row);
      for (const o of outcomes) {
        if (!o.used) continue;
        // The saved graph renumbered to our slots (rows deleted since drop out). Rows unchanged
        // since the snapshot are in it already; changed ones stay pending and are relinked.
        const graph = AnnGraph.fromImage(found.get(o.dim)!.graph, this.compact.get(o.dim)!, this.settings);
        this.graphs.set(o.dim, graph);
        const pending = this.pending.get(o.dim) ?? new Set<number>();
        const changed = new Set(scan.changedSince.all(o.seq) as number[]);
        for (const rid of pending) if (graph.hasNode(this.rows.get(rid)?.slot ?? -1) && !changed.has(rid)) pending.delete(rid);
        if (pending.size > 0) this.pending.set(o.dim, pending);
        else this.pending.delete(o.dim);
      }
    })();
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

  /** Resolves once every pending row is in its graph and any snapshot due is written (benchmarks, tests). */
  async whenGraphsBuilt(): Promise<void> {
    if (this.pendingCount() > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    while (this.writing) await this.writing;
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
    if (this.closed || this.writing) return;
    const until = performance.now() + DRAIN_SLICE_MS;
    for (const [dim, pending] of this.pending) {
      const graph = this.graphs.get(dim);
      while (pending.size > 0 && graph && performance.now() < until) {
        const batch = [...take(pending.values(), DRAIN_BATCH)];
        for (const rid of batch) {
          const meta = this.rows.get(rid);
          // Every graph change happens here, so a snapshot being written can hold them all back.
          if (meta && meta.dim === dim && meta.slot >= 0) graph.upsert(meta.slot);
          pending.delete(rid);
        }
        this.unsaved.set(dim, (this.unsaved.get(dim) ?? 0) + batch.length);
      }
      if (pending.size === 0) this.pending.delete(dim);
    }
    if (this.pendingCount() > 0) return this.scheduleDrain();
    this.settle();
  }

  /** The graphs are complete: wake the waiters and save graphs that changed enough. */
  private settle(): void {
    const policy = this.snapshots;
    const due = policy ? [...this.unsaved].filter(([, n]) => n >= policy.minChanges).map(([dim]) => dim) : [];
    if (policy && due.length > 0 && !this.closed) {
      const seq = this.lastSeq;
      const instance = String(this.stmt.instance.get() ?? '');
      for (const dim of due) this.unsaved.delete(dim);
      const graphs = due.map((dim) => this.graphs.get(dim)!).filter(Boolean);
      const { m, efConstruction } = this.settings;
      this.writing = (async () => {
        for (const graph of graphs) {
          // A failed snapshot (disk full, read-only directory) costs a rebuild at the next opening, nothing else.
          await writeSnapshot(policy.dbPath, graph, { instance, seq, m, efConstruction }).catch(() => undefined);
        }
      })().finally(() => {
        this.writing = undefined;
        // Changes that arrived during the write.
        if (this.pendingCount() > 0) this.scheduleDrain();
      });
    }
    if (this.pendingCount() === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  private put(row: StoredRow): void {
    const prev = this.rows.get(row.rid);
    if (prev && prev.dim !== null && prev.dim !== row.dim) {
      this.compact.get(prev.dim)?.remove(row.rid);
      this.queueRemoval(prev.dim, row.rid);
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
      let compact = this.compact.get(row.dim);
      if (!compact) this.compact.set(row.dim, (compact = new QuantizedVectors(row.dim)));
      if (!this.graphs.has(row.dim)) this.graphs.set(row.dim, new AnnGraph(compact, this.settings));
      meta.slot = compact.put(row.rid, blobToVector(row.embedding));
      let pending = this.pending.get(row.dim);
      if (!pending) this.pending.set(row.dim, (pending = new Set()));
      pending.add(row.rid);
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
      this.compact.get(meta.dim)?.remove(rid);
      this.queueRemoval(meta.dim, rid);
    }
  }

  /**
   * The row's vector left this dimension (its slot was freed by `compact.remove`): its graph node
   * is a tombstone from now on, never returned, so the builder has nothing to do. Counted as a
   * change for the next snapshot.
   */
  private queueRemoval(dim: number, rid: number): void {
    this.pending.get(dim)?.delete(rid);
    this.unsaved.set(dim, (this.unsaved.get(dim) ?? 0) + 1);
  }
}
