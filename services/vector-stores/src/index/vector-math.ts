/** A unit-length copy (cosine becomes a dot product); the zero vector stays zero. */
export function normalized(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const out = new Float32Array(v.length);
  if (sum === 0 || !Number.isFinite(sum)) return out;
  const inv = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv;
  return out;
}

export function dot(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  // Four accumulators: about twice as fast as the plain loop in V8 (research note).
  for (; i + 3 < n; i += 4) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  for (; i < n; i++) s0 += a[i]! * b[i]!;
  return s0 + s1 + s2 + s3;
}

/** Float32 view of a stored BLOB (copied when the buffer is not 4-byte aligned). */
export function blobToVector(blob: Uint8Array): Float32Array {
  if (blob.byteOffset % 4 === 0) return new Float32Array(blob.buffer, blob.byteOffset, blob.byteLength >> 2);
  return new Float32Array(blob.slice().buffer, 0, blob.byteLength >> 2);
}

export function vectorToBlob(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** Cosine (−1..1) shown as a 0..1 score: negative similarity is no similarity. Ranking uses the raw cosine. */
export function cosineScore(cosine: number): number {
  return Math.min(1, Math.max(0, cosine));
}

/** The k best of scored items, best first (ties keep their input order). */
export function topK<T extends { score: number }>(items: T[], k: number): T[] {
  return items.sort((a, b) => b.score - a.score).slice(0, k);
}
