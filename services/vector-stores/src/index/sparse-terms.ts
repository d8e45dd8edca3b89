import { terms } from './keyword-terms.js';

/** A sparse vector as Qdrant takes it: sorted unique indices and their weights. */
export interface SparseVector {
  indices: number[];
  values: number[];
}

// BM25's term-frequency saturation. Document length normalisation (b) is left out: it needs the
// collection's average length, which changes with every write; Qdrant's `idf` modifier supplies
// the other half of BM25 at query time.
const K1 = 1.2;

/** 32-bit FNV-1a of a term: its dimension in the sparse space (collisions are rare and only blur ranking). */
export function termIndex(term: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < term.length; i++) h = Math.imul(h ^ term.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function toSparse(weights: Map<number, number>): SparseVector {
  const indices = [...weights.keys()].sort((a, b) => a - b);
  return { indices, values: indices.map((i) => weights.get(i)!) };
}

/** A chunk's terms weighted by saturated frequency. */
export function documentSparseVector(text: string): SparseVector {
  const tf = new Map<number, number>();
  for (const t of terms(text)) {
    const i = termIndex(t);
    tf.set(i, (tf.get(i) ?? 0) + 1);
  }
  for (const [i, f] of tf) tf.set(i, (f * (K1 + 1)) / (f + K1));
  return toSparse(tf);
}

/** A query's unique terms, weight 1 each (the score is then the sum of the matching terms' document weights × IDF). */
export function querySparseVector(text: string, maxTerms = 32): SparseVector {
  const weights = new Map<number, number>();
  for (const t of terms(text)) {
    if (weights.size >= maxTerms) break;
    weights.set(termIndex(t), 1);
  }
  return toSparse(weights);
}
