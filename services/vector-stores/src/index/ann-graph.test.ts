import { describe, expect, it } from 'vitest';
import { AnnGraph, DEFAULT_ANN_SETTINGS } from './ann-graph.js';
import { decode, encode } from './graph-snapshot.js';
import { QuantizedVectors } from './quantized-vectors.js';
import { dot, normalized } from './vector-math.js';

// Our HNSW graph over the 8-bit vectors, below the index: recall against brute force, tombstones,
// relinking, growth of the vector memory, and the snapshot image renumbered to other slots.

const DIM = 48;

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32 - 0.5;
  };
}
const vectors = (n: number, seed: number) => {
  const r = rng(seed);
  return Array.from({ length: n }, () => normalized(Float32Array.from({ length: DIM }, r)));
};

function build(points: Float32Array[], capacity = 16) {
  const qv = new QuantizedVectors(DIM, capacity);
  const graph = new AnnGraph(qv, DEFAULT_ANN_SETTINGS);
  points.forEach((v, i) => graph.upsert(qv.put(1000 + i, v)));
  return { qv, graph };
}

function truth(points: Float32Array[], q: Float32Array, k: number, skip: (id: number) => boolean = () => false) {
  return points
    .map((v, i) => ({ id: 1000 + i, s: dot(v, q) }))
    .filter((p) => !skip(p.id))
    .sort((a, b) => b.s - a.s)
    .slice(0, k)
    .map((p) => p.id);
}

function recall(graph: AnnGraph, points: Float32Array[], queries: Float32Array[], skip?: (id: number) => boolean) {
  let hit = 0;
  for (const q of queries) {
    const want = new Set(truth(points, q, 10, skip));
    hit += graph.search(q, 10, skip ? (id) => !skip(id) : undefined).filter((f) => want.has(f.label)).length;
  }
  return hit / (queries.length * 10);
}

describe('AnnGraph', () => {
  const points = vectors(2000, 1);
  const queries = vectors(40, 2);

  it('finds the nearest points (recall@10 against brute force), the vectors grown from 16 slots', () => {
    const { graph, qv } = build(points);
    expect(qv.capacity).toBeGreaterThanOrEqual(2000);
    expect(graph.size).toBe(2000);
    expect(recall(graph, points, queries)).toBeGreaterThan(0.95);
    // Approximate cosines, best first.
    const found = graph.search(queries[0]!, 5);
    for (const f of found) expect(Math.abs(f.cosine - dot(points[f.label - 1000]!, queries[0]!))).toBeLessThan(0.02);
  });

  it('applies the filter during the walk', () => {
    const { graph } = build(points);
    const odd = (id: number) => id % 2 === 1;
    expect(recall(graph, points, queries, odd)).toBeGreaterThan(0.95);
  });

  it('never returns removed points; a reused slot is relinked with its new vector', () => {
    const { graph, qv } = build(points);
    for (let i = 0; i < 2000; i += 3) qv.remove(1000 + i);
    const gone = (id: number) => (id - 1000) % 3 === 0;
    for (const q of queries) expect(graph.search(q, 10).some((f) => gone(f.label))).toBe(false);
    expect(recall(graph, points, queries, gone)).toBeGreaterThan(0.9);
    // A new point takes a freed slot; moved onto a query, it comes first.
    const slot = qv.put(99_999, queries[3]!);
    graph.upsert(slot);
    expect(graph.search(queries[3]!, 1)[0]!.label).toBe(99_999);
  });

  it('survives encode / decode into other slot numbers, dropping rows that are gone', () => {
    const { graph } = build(points);
    const image = decode(encode(graph.toImage()));
    // Another process: slots in reverse order, and row 1000 no longer exists.
    const qv = new QuantizedVectors(DIM, 4096);
    for (let i = points.length - 1; i >= 1; i--) qv.put(1000 + i, points[i]!);
    const loaded = AnnGraph.fromImage(image, qv, DEFAULT_ANN_SETTINGS);
    expect(loaded.size).toBe(1999);
    expect(recall(loaded, points, queries, (id) => id === 1000)).toBeGreaterThan(0.95);
  });
});
