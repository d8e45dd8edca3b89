// The benchmark's zero-cost embedder: a vector per text in time independent of the text's length
// (a hash of its length and first characters seeds a xorshift generator), of a fixed dimension.
// The mock model server answers /v1/embeddings with it and the in-process baselines call it
// directly, so both sides embed the same way and the model costs (almost) nothing.

export const EMBED_MODEL = 'bench-embed';
export const EMBED_DIM = Number(process.env.BENCH_EMBED_DIM ?? 384);

/** 2,000 values in [-1, 1) with three decimals, pre-rendered so that the mock's JSON costs no formatting. */
const VALUES = Array.from({ length: 2000 }, (_, i) => i / 1000 - 1);
const RENDERED = VALUES.map((v) => String(v));

function seedOf(text: string): number {
  let h = Math.imul(2166136261 ^ text.length, 16777619);
  const n = Math.min(text.length, 48);
  for (let i = 0; i < n; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0 || 1;
}

/** Indexes into VALUES for one text. */
function* picks(text: string, dims: number): Generator<number> {
  let x = seedOf(text);
  for (let i = 0; i < dims; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    yield (x >>> 0) % 2000;
  }
}

export function hashedEmbedding(text: string, dims = EMBED_DIM): number[] {
  const out = new Array<number>(dims);
  let i = 0;
  for (const p of picks(text, dims)) out[i++] = VALUES[p]!;
  return out;
}

/** The same vector as JSON text (`[0.1,-0.3,…]`). */
export function hashedEmbeddingJson(text: string, dims = EMBED_DIM): string {
  let s = '[';
  for (const p of picks(text, dims)) s += (s.length > 1 ? ',' : '') + RENDERED[p];
  return `${s}]`;
}
