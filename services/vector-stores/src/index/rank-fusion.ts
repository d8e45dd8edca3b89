/** Reciprocal rank fusion's usual constant: dampens the weight of the very first ranks. */
export const RRF_K = 60;

/**
 * Reciprocal rank fusion of ranked lists (best first) into one 0..1 score per key: the sum of
 * 1/(k + rank) over the lists, divided by its maximum (first in every list = 1; first in one of
 * two lists = 0.5).
 */
export function reciprocalRankFusion<K>(lists: K[][], k = RRF_K): Map<K, number> {
  const out = new Map<K, number>();
  if (lists.length === 0) return out;
  const max = lists.length / (k + 1);
  for (const list of lists) {
    list.forEach((key, i) => out.set(key, (out.get(key) ?? 0) + 1 / (k + i + 1) / max));
  }
  return out;
}
