import hnswlib from 'hnswlib-node';

const { HierarchicalNSW } = hnswlib;

export interface AnnSettings {
  /** Graph degree (hnswlib `M`). */
  m: number;
  efConstruction: number;
  /** Breadth of the walk at query time (raised to k when k is larger). */
  efSearch: number;
}

export const DEFAULT_ANN_SETTINGS: AnnSettings = { m: 16, efConstruction: 48, efSearch: 100 };

/**
 * One in-memory HNSW graph (hnswlib) over unit vectors of one dimension, labelled by chunk row id.
 * It is derived data: the embedded index builds it from the stored vectors and keeps it in step
 * with the change log; a snapshot of it (`graph-snapshot.ts`) only saves the rebuild at opening.
 */
export class AnnGraph {
  private readonly index: InstanceType<typeof HierarchicalNSW>;
  private capacity: number;
  /** Labels currently live in the graph; hnswlib reuses the slots of deleted ones. */
  private readonly live = new Set<number>();
  private deleted = 0;

  constructor(
    readonly dim: number,
    private readonly settings: AnnSettings = DEFAULT_ANN_SETTINGS,
    initialCapacity = 1024,
    /** Internal: a graph read from a snapshot (see `read`). */
    loaded?: { index: InstanceType<typeof HierarchicalNSW>; live: Iterable<number> },
  ) {
    if (loaded) {
      this.index = loaded.index;
      this.capacity = this.index.getMaxElements();
      for (const label of loaded.live) this.live.add(label);
      // Slots of deleted points stay in the file: hnswlib counts them, the live list does not.
      this.deleted = Math.max(0, this.index.getCurrentCount() - this.live.size);
      return;
    }
    this.capacity = initialCapacity;
    this.index = new HierarchicalNSW('ip', dim);
    // allowReplaceDeleted: row ids only grow, so without slot reuse a churning store would grow forever.
    this.index.initIndex({ maxElements: this.capacity, m: settings.m, efConstruction: settings.efConstruction, randomSeed: 100, allowReplaceDeleted: true });
  }

  /** A graph saved by `write`; `live` is the list of labels that were live in it (deleted slots are not). */
  static async read(file: string, dim: number, settings: AnnSettings, live: Iterable<number>): Promise<AnnGraph> {
    const index = new HierarchicalNSW('ip', dim);
    // Read on libuv's thread pool: the event loop keeps serving while 170 MB load.
    await index.readIndex(file, true);
    return new AnnGraph(dim, settings, 0, { index, live });
  }

  /**
   * Saves the graph (hnswlib's own format) on the thread pool. The caller must not change the
   * graph until the promise settles: hnswlib reads its memory while writing.
   */
  async write(file: string): Promise<void> {
    await this.index.writeIndex(file);
  }

  /** The live labels, for the snapshot's header. */
  labels(): number[] {
    return [...this.live];
  }

  get size(): number {
    return this.live.size;
  }

  has(label: number): boolean {
    return this.live.has(label);
  }

  /** Adds or moves a point (the vector must be of unit length: inner product is then cosine). */
  upsert(label: number, unit: Float32Array): void {
    const point = Array.from(unit);
    if (this.live.has(label)) {
      // An existing label is updated in place; "replace deleted" would give it a second slot.
      this.index.addPoint(point, label, false);
      return;
    }
    if (this.deleted === 0 && this.live.size >= this.capacity) {
      this.capacity = Math.ceil(this.capacity * 2);
      this.index.resizeIndex(this.capacity);
    }
    const reuse = this.deleted > 0;
    this.index.addPoint(point, label, reuse);
    if (reuse) this.deleted--;
    this.live.add(label);
  }

  remove(label: number): void {
    if (!this.live.delete(label)) return;
    this.index.markDelete(label);
    this.deleted++;
  }

  /** Nearest live points by cosine (best first); `accept` is applied during the walk, not after it. */
  search(query: Float32Array, k: number, accept?: (label: number) => boolean): { label: number; cosine: number }[] {
    if (this.live.size === 0) return [];
    const kk = Math.min(k, this.live.size, this.capacity);
    this.index.setEf(Math.max(this.settings.efSearch, kk));
    const res = accept ? this.index.searchKnn(Array.from(query), kk, accept) : this.index.searchKnn(Array.from(query), kk);
    return res.neighbors.map((label, i) => ({ label, cosine: 1 - res.distances[i]! }));
  }
}
