import type { QuantizedVectors } from './quantized-vectors.js';
import { ScoredHeap } from './scored-heap.js';

export interface AnnSettings {
  /** Graph degree above layer 0 (layer 0 keeps up to 2M links), as hnswlib's `M`. */
  m: number;
  efConstruction: number;
  /** Breadth of the walk at query time (raised to k when k is larger). */
  efSearch: number;
}

export const DEFAULT_ANN_SETTINGS: AnnSettings = { m: 16, efConstruction: 48, efSearch: 100 };

/** A graph as saved in a snapshot, with the node numbering (slots) of the process that saved it. */
export interface GraphImage {
  m: number;
  /** Per node: the row id it holds (−1: none), its top layer (−1: not in the graph). */
  labels: Int32Array;
  levels: Int8Array;
  /** Per node, 2M + 1 ints: the count, then the layer-0 neighbours. */
  links0: Int32Array;
  /** Nodes above layer 0: per layer 1..level, M + 1 ints (count, neighbours). */
  upper: Map<number, Int32Array>;
  entry: number;
}

const MAX_LEVEL = 16;

/**
 * Our own HNSW graph over one dimension's 8-bit vectors (`QuantizedVectors`): node numbers are the
 * vectors' slots, so the graph adds only its links (layer 0 in one Int32Array, 2M + 1 ints a node;
 * the few upper-layer nodes in a map) and no copy of the vectors. hnswlib kept a Float32 copy of
 * its own: ~150 MB at 100k × 384. Scores are approximate (8-bit); callers rescore the final
 * candidates from the stored Float32 vectors.
 *
 * Removal is a tombstone: a freed slot's node stays linked and keeps routing walks with its old
 * bytes but is never returned; when the slot is reused, inserting its new vector relinks it (as
 * hnswlib's replace-deleted does). A vector that changed in place is relinked the same way.
 */
export class AnnGraph {
  private readonly m0: number;
  private levels: Int8Array;
  private links0: Int32Array;
  private readonly upper = new Map<number, Int32Array>();
  private entry = -1;
  private maxLevel = -1;
  private visited: Uint32Array;
  private epoch = 0;
  private nodes = 0;
  private seed = 0x9e3779b9;
  /** Slot whose vector is the query of the current walk; −1: the query set by `setQuery`. */
  private probe = -1;
  private readonly candidates = new ScoredHeap(true);
  private readonly results = new ScoredHeap(false);

  constructor(
    readonly vectors: QuantizedVectors,
    private readonly settings: AnnSettings = DEFAULT_ANN_SETTINGS,
  ) {
    this.m0 = settings.m * 2;
    const n = vectors.capacity;
    this.levels = new Int8Array(n).fill(-1);
    this.links0 = new Int32Array(n * (this.m0 + 1));
    this.visited = new Uint32Array(n);
  }

  get dim(): number {
    return this.vectors.dim;
  }

  /** Nodes in the graph, tombstones included. */
  get size(): number {
    return this.nodes;
  }

  hasNode(slot: number): boolean {
    return slot >= 0 && slot < this.levels.length && this.levels[slot]! >= 0;
  }

  /** Links the vector now in `slot` into the graph (a new node, or a relink of one whose vector changed). */
  upsert(slot: number): void {
    this.fit();
    const existing = this.levels[slot]! >= 0;
    const level = existing ? this.levels[slot]! : this.randomLevel();
    if (!existing) {
      this.levels[slot] = level;
      this.links0[slot * (this.m0 + 1)] = 0;
      if (level > 0) this.upper.set(slot, new Int32Array(level * (this.settings.m + 1)));
      this.nodes++;
    }
    if (this.entry < 0 || (this.entry === slot && this.nodes === 1)) {
      this.entry = slot;
      this.maxLevel = level;
      return;
    }
    this.probe = slot;
    let cur = this.entry;
    let curScore = this.score(cur);
    for (let l = this.maxLevel; l > level; l--) [cur, curScore] = this.greedy(cur, curScore, l);
    for (let l = Math.min(level, this.maxLevel); l >= 0; l--) {
      this.walk(cur, curScore, this.settings.efConstruction, l, slot);
      const found = this.results.sortedBestFirst();
      if (found.nodes.length === 0) continue;
      const max = this.settings.m;
      const chosen = this.select(found.nodes, found.scores, max);
      this.setLinks(slot, l, chosen);
      for (const n of chosen) this.addLink(n, l, slot);
      cur = found.nodes[0]!;
      curScore = found.scores[0]!;
    }
    if (level > this.maxLevel) {
      this.entry = slot;
      this.maxLevel = level;
    }
  }

  /**
   * Up to k live nodes nearest the query, best first, as (row id, approximate cosine); `accept`
   * (by row id) is applied during the walk, not after it.
   */
  search(query: Float32Array, k: number, accept?: (label: number) => boolean): { label: number; cosine: number }[] {
    if (this.entry < 0) return [];
    this.vectors.setQuery(query);
    this.probe = -1;
    let cur = this.entry;
    let curScore = this.score(cur);
    for (let l = this.maxLevel; l > 0; l--) [cur, curScore] = this.greedy(cur, curScore, l);
    this.walk(cur, curScore, Math.max(this.settings.efSearch, k), 0, -1, accept);
    const found = this.results.sortedBestFirst();
    const out: { label: number; cosine: number }[] = [];
    for (let i = 0; i < found.nodes.length && out.length < k; i++) out.push({ label: this.vectors.idAt(found.nodes[i]!), cosine: found.scores[i]! });
    return out;
  }

  /** The graph for a snapshot (copies, so the graph may change while they are written). */
  toImage(): GraphImage {
    const n = this.levels.length;
    const labels = new Int32Array(n);
    for (let s = 0; s < n; s++) labels[s] = this.levels[s]! >= 0 ? this.vectors.idAt(s) : -1;
    const upper = new Map<number, Int32Array>();
    for (const [node, links] of this.upper) upper.set(node, links.slice());
    return { m: this.settings.m, labels, levels: this.levels.slice(), links0: this.links0.slice(), upper, entry: this.entry };
  }

  /**
   * A saved graph over `vectors`, renumbered to this process's slots by row id. Nodes whose row is
   * gone (or has no vector of this dimension here) are dropped with the links to them; rows whose
   * vector changed since are the caller's to relink.
   */
  static fromImage(image: GraphImage, vectors: QuantizedVectors, settings: AnnSettings): AnnGraph {
    const g = new AnnGraph(vectors, settings);
    const n = image.levels.length;
    const to = new Int32Array(n).fill(-1);
    for (let s = 0; s < n; s++) if (image.levels[s]! >= 0 && image.labels[s]! >= 0) to[s] = vectors.slot(image.labels[s]!) ?? -1;
    const remap = (src: Int32Array, from: number, dst: Int32Array, at: number) => {
      let c = 0;
      for (let i = 0; i < src[from]!; i++) {
        const t = to[src[from + 1 + i]!]!;
        if (t >= 0) dst[at + 1 + c++] = t;
      }
      dst[at] = c;
    };
    const m0 = g.m0;
    const m = settings.m;
    let best = -1;
    for (let s = 0; s < n; s++) {
      const t = to[s]!;
      if (t < 0) continue;
      const level = image.levels[s]!;
      g.levels[t] = level;
      g.nodes++;
      remap(image.links0, s * (m0 + 1), g.links0, t * (m0 + 1));
      if (level > 0) {
        const src = image.upper.get(s)!;
        const dst = new Int32Array(level * (m + 1));
        for (let l = 0; l < level; l++) remap(src, l * (m + 1), dst, l * (m + 1));
        g.upper.set(t, dst);
      }
      if (best < 0 || level > g.levels[best]!) best = t;
    }
    const entry = image.entry >= 0 && image.entry < n ? to[image.entry]! : -1;
    g.entry = entry >= 0 ? entry : best;
    g.maxLevel = g.entry >= 0 ? g.levels[g.entry]! : -1;
    return g;
  }

  private score(slot: number): number {
    return this.probe < 0 ? this.vectors.queryScore(slot) : this.vectors.pairScore(this.probe, slot);
  }

  /** Layer `level`'s links of a node: the array and the offset of its count. */
  private block(node: number, level: number): [Int32Array, number] {
    if (level === 0) return [this.links0, node * (this.m0 + 1)];
    return [this.upper.get(node)!, (level - 1) * (this.settings.m + 1)];
  }

  private greedy(start: number, startScore: number, level: number): [number, number] {
    let cur = start;
    let curScore = startScore;
    for (let changed = true; changed; ) {
      changed = false;
      const [links, at] = this.block(cur, level);
      for (let i = 0; i < links[at]!; i++) {
        const n = links[at + 1 + i]!;
        const s = this.score(n);
        if (s > curScore) {
          cur = n;
          curScore = s;
          changed = true;
        }
      }
    }
    return [cur, curScore];
  }

  /**
   * Best-first walk of one layer (hnswlib's searchBaseLayer): leaves the `ef` best acceptable
   * nodes in `results`. Tombstones, `exclude` and rejected nodes are walked through, not returned.
   */
  private walk(start: number, startScore: number, ef: number, level: number, exclude: number, accept?: (label: number) => boolean): void {
    if (++this.epoch === 0xffffffff) {
      this.visited.fill(0);
      this.epoch = 1;
    }
    const epoch = this.epoch;
    const visited = this.visited;
    const { candidates, results, vectors } = this;
    candidates.clear();
    results.clear();
    const ok = (node: number) => {
      if (node === exclude) return false;
      const label = vectors.idAt(node);
      return label >= 0 && (!accept || accept(label));
    };
    visited[start] = epoch;
    candidates.push(start, startScore);
    if (ok(start)) results.push(start, startScore);
    while (candidates.size > 0) {
      const c = candidates.topNode;
      if (results.size >= ef && candidates.topScore < results.topScore) break;
      candidates.pop();
      const [links, at] = this.block(c, level);
      for (let i = 0; i < links[at]!; i++) {
        const n = links[at + 1 + i]!;
        if (visited[n] === epoch) continue;
        visited[n] = epoch;
        const s = this.score(n);
        if (results.size < ef || s > results.topScore) {
          candidates.push(n, s);
          if (ok(n)) {
            results.push(n, s);
            if (results.size > ef) results.pop();
          }
        }
      }
    }
  }

  /**
   * hnswlib's neighbour heuristic: best first, a candidate is kept only if it is nearer the base
   * than any neighbour kept so far, which spreads the links over directions instead of one cluster.
   */
  private select(nodes: number[], scores: number[], max: number): number[] {
    if (nodes.length <= max) return nodes;
    const kept: number[] = [];
    for (let i = 0; i < nodes.length && kept.length < max; i++) {
      const c = nodes[i]!;
      let good = true;
      for (const r of kept) {
        if (this.vectors.pairScore(c, r) > scores[i]!) {
          good = false;
          break;
        }
      }
      if (good) kept.push(c);
    }
    return kept;
  }

  private setLinks(node: number, level: number, to: number[]): void {
    const [links, at] = this.block(node, level);
    links[at] = to.length;
    for (let i = 0; i < to.length; i++) links[at + 1 + i] = to[i]!;
  }

  /** The reverse link; a full list is pruned with the heuristic (tombstones dropped first). */
  private addLink(node: number, level: number, to: number): void {
    const [links, at] = this.block(node, level);
    const count = links[at]!;
    for (let i = 0; i < count; i++) if (links[at + 1 + i] === to) return;
    const max = level === 0 ? this.m0 : this.settings.m;
    if (count < max) {
      links[at + 1 + count] = to;
      links[at] = count + 1;
      return;
    }
    const pool: { n: number; s: number }[] = [{ n: to, s: this.vectors.pairScore(node, to) }];
    for (let i = 0; i < count; i++) {
      const n = links[at + 1 + i]!;
      if (this.vectors.idAt(n) >= 0) pool.push({ n, s: this.vectors.pairScore(node, n) });
    }
    pool.sort((a, b) => b.s - a.s);
    this.setLinks(node, level, this.select(pool.map((p) => p.n), pool.map((p) => p.s), max));
  }

  private randomLevel(): number {
    // xorshift: deterministic graphs for the same insertion order.
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    const u = (this.seed + 1) / 2 ** 32;
    return Math.min(MAX_LEVEL, Math.floor(-Math.log(u) / Math.log(this.settings.m)));
  }

  /** Grows the per-node arrays to the vectors' capacity. */
  private fit(): void {
    const n = this.vectors.capacity;
    if (n <= this.levels.length) return;
    const levels = new Int8Array(n).fill(-1);
    levels.set(this.levels);
    this.levels = levels;
    const links0 = new Int32Array(n * (this.m0 + 1));
    links0.set(this.links0);
    this.links0 = links0;
    this.visited = new Uint32Array(n);
    this.epoch = 0;
  }
}
