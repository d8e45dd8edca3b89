import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { AttributeFilter } from '@rgw/shared';
import { EmbeddedVectorIndex } from '../services/vector-stores/src/index/embedded-index.js';
import type { ChunkRecord } from '../services/vector-stores/src/index/vector-index.js';
import { blobToVector, dot } from '../services/vector-stores/src/index/vector-math.js';
import { percentile, type Row, type Section } from './report.js';
import { prng } from '../test/support/fuzz-cases.js';

// Section 6: the embedded vector index at 100,000 chunks of 384 dimensions (clustered synthetic
// vectors, as in ../shared/research/vector-search.md), searched through the index's own API against
// exact brute force over the same vectors. It runs in a child process of its own, so that the RSS it
// reports is the index's (rows, graph, statement caches), not the benchmark's.
// Alone: `npx tsx bench/vector-index-section.ts` (BENCH_VECTORS, BENCH_VECTOR_QUERIES to scale).

const N = Number(process.env.BENCH_VECTORS ?? 100_000);
const QUERIES = Number(process.env.BENCH_VECTOR_QUERIES ?? 200);
const DIM = 384;
const CLUSTERS = 1000;
const NOISE = 0.04;
const K = 10;
const BATCH = 1000;

const VARIANTS: { name: string; filter?: AttributeFilter; pass: (bucket: number) => boolean }[] = [
  { name: 'unfiltered', pass: () => true },
  { name: 'filter 10 %', filter: { type: 'lt', key: 'bucket', value: 10 }, pass: (b) => b < 10 },
  { name: 'filter 1 %', filter: { type: 'eq', key: 'bucket', value: 7 }, pass: (b) => b === 7 },
];

interface Figures {
  n: number;
  insertSeconds: number;
  buildSeconds: number;
  firstSearchMs: number;
  rssMb: number;
  rssBeforeMb: number;
  heapUsedMb: number;
  variants: { name: string; p50: number; p99: number; recall: number; exactP50: number }[];
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() || 1e-12)) * Math.cos(2 * Math.PI * rand());
}

function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i]! *= inv;
  return v;
}

function clustered(rand: () => number, centroids: Float32Array[]): Float32Array {
  const c = centroids[Math.floor(rand() * centroids.length)]!;
  const v = new Float32Array(DIM);
  for (let d = 0; d < DIM; d++) v[d] = c[d]! + NOISE * gaussian(rand);
  return unit(v);
}

async function measure(): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'rgw-vindex-bench-'));
  const path = join(dir, 'vector-index.sqlite');
  const index = new EmbeddedVectorIndex(path);
  (globalThis as { gc?: () => void }).gc?.();
  const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;
  try {
    const rand = prng(42);
    const centroids = Array.from({ length: CLUSTERS }, () => unit(Float32Array.from({ length: DIM }, () => gaussian(rand))));
    await index.ensureReady();
    const began = performance.now();
    for (let start = 0; start < N; start += BATCH) {
      const batch: ChunkRecord[] = [];
      for (let i = start; i < Math.min(N, start + BATCH); i++) {
        batch.push({
          id: `chunk-${i}`,
          projectId: 'proj_bench',
          vectorStoreId: 'vs_bench',
          fileId: `file-${Math.floor(i / 100)}`,
          filename: `f${Math.floor(i / 100)}.txt`,
          chunkIndex: i % 100,
          text: `synthetic chunk ${i} of file ${Math.floor(i / 100)}`,
          tokens: 8,
          embedding: clustered(rand, centroids),
          attributes: { bucket: i % 100 },
        });
      }
      await index.upsert(batch);
    }
    const insertSeconds = (performance.now() - began) / 1000;
    process.stderr.write(`vector index: ${N} chunks inserted in ${insertSeconds.toFixed(1)} s\n`);

    const queries = Array.from({ length: QUERIES }, () => clustered(rand, centroids));
    const request = (q: Float32Array, filter?: AttributeFilter) => ({ projectId: 'proj_bench', vectorStoreIds: ['vs_bench'], mode: 'vector' as const, queryText: '', queryVector: q, filter, topK: K });
    const buildBegan = performance.now();
    const first = performance.now();
    await index.search(request(queries[0]!)); // loads the rows; the graph is then built in the background
    const firstSearchMs = performance.now() - first;
    await index.whenGraphsBuilt();
    const buildSeconds = (performance.now() - buildBegan) / 1000;
    process.stderr.write(`vector index: first search (loads rows, exact while the graph builds) ${firstSearchMs.toFixed(0)} ms\n`);
    process.stderr.write(`vector index: graph built from the file in ${buildSeconds.toFixed(1)} s\n`);

    const got: string[][][] = VARIANTS.map(() => []);
    const times: number[][] = VARIANTS.map(() => []);
    for (const [vi, variant] of VARIANTS.entries()) {
      for (const q of queries.slice(0, 10)) await index.search(request(q, variant.filter)); // warm-up
      for (const q of queries) {
        const t0 = performance.now();
        const hits = await index.search(request(q, variant.filter));
        times[vi]!.push(performance.now() - t0);
        got[vi]!.push(hits.map((h) => h.chunkId));
      }
    }
    (globalThis as { gc?: () => void }).gc?.();
    const rssMb = process.memoryUsage().rss / 2 ** 20;
    const heapUsedMb = process.memoryUsage().heapUsed / 2 ** 20;

    // The baseline: exact brute force over the very vectors the index stored (after the RSS reading,
    // as it holds all of them in one array).
    const db = new Database(path, { readonly: true });
    const slab = new Float32Array(N * DIM);
    const buckets = new Int32Array(N);
    const ids: string[] = [];
    let n = 0;
    for (const row of db.prepare('SELECT id, embedding, attributes FROM chunks ORDER BY rid').iterate() as Iterable<{ id: string; embedding: Buffer; attributes: string }>) {
      slab.set(blobToVector(row.embedding), n * DIM);
      buckets[n] = (JSON.parse(row.attributes) as { bucket: number }).bucket;
      ids.push(row.id);
      n++;
    }
    db.close();
    const variants = VARIANTS.map((variant, vi) => {
      const exactTimes: number[] = [];
      let found = 0;
      queries.forEach((q, qi) => {
        const t0 = performance.now();
        const best: { i: number; s: number }[] = [];
        for (let i = 0; i < n; i++) {
          if (!variant.pass(buckets[i]!)) continue;
          const s = dot(q, slab.subarray(i * DIM, (i + 1) * DIM));
          if (best.length < K || s > best[best.length - 1]!.s) {
            best.push({ i, s });
            best.sort((a, b) => b.s - a.s);
            if (best.length > K) best.pop();
          }
        }
        exactTimes.push(performance.now() - t0);
        const truth = new Set(best.map((b) => ids[b.i]!));
        found += got[vi]![qi]!.filter((id) => truth.has(id)).length / Math.max(1, truth.size);
      });
      return { name: variant.name, p50: percentile(times[vi]!, 50), p99: percentile(times[vi]!, 99), recall: found / queries.length, exactP50: percentile(exactTimes, 50) };
    });
    return { n: N, insertSeconds, buildSeconds, firstSearchMs, rssMb, rssBeforeMb, heapUsedMb, variants };
  } finally {
    await index.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function toSection(f: Figures): Section {
  const rows: Row[] = [];
  for (const v of f.variants) {
    rows.push({ metric: `search p50, ${v.name}`, direct: 0, gateway: v.p50, kind: 'added', target: 10, unit: 'ms' });
    rows.push({ metric: `recall@${K}, ${v.name}`, direct: 1, gateway: v.recall, kind: 'ratio', target: 0.95, unit: 'fraction' });
  }
  rows.push({ metric: 'RSS with the store loaded', direct: 0, gateway: f.rssMb, kind: 'added', target: 300, unit: 'MB' });
  rows.push({ metric: `insert ${f.n} chunks (SQLite rows, FTS, vectors)`, direct: 0, gateway: f.insertSeconds * 1000, kind: 'added', unit: 'ms' });
  rows.push({ metric: 'first search after opening (loads the rows; exact while the graph builds)', direct: 0, gateway: f.firstSearchMs, kind: 'added', unit: 'ms' });
  rows.push({ metric: 'graph built in the background from the file', direct: 0, gateway: f.buildSeconds * 1000, kind: 'added', unit: 'ms' });
  const baseline = f.variants.map((v) => `${v.name} ${v.exactP50.toFixed(1)} ms (p99 of the index ${v.p99.toFixed(1)} ms)`).join('; ');
  return {
    title: `7. Embedded vector index, ${f.n} chunks x ${DIM} dimensions, top-${K}`,
    note: `"direct" is the target's zero; recall is against exact brute force over the same vectors. Brute-force p50 (plain JS, vectors in one array): ${baseline}. RSS before the store was opened (code loaded): ${f.rssBeforeMb.toFixed(0)} MB; JS heap in use with the store loaded: ${f.heapUsedMb.toFixed(0)} MB (the rest is hnswlib's graph with its Float32 vectors, the 8-bit copy and SQLite).`,
    rows,
  };
}

/** Runs the measurement in a child process (clean RSS) and reports it as section 7. */
export async function vectorIndexSection(print: (s: Section) => void): Promise<void> {
  const file = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', file], { env: { ...process.env, VINDEX_BENCH_CHILD: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const last = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !last.startsWith('{')) {
    print({ title: '7. Embedded vector index', rows: [], skipped: `the measuring process failed (exit ${code})` });
    return;
  }
  print(toSection(JSON.parse(last) as Figures));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const figures = await measure();
  if (process.env.VINDEX_BENCH_CHILD) console.log(JSON.stringify(figures));
  else console.log((await import('./report.js')).renderSection(toSection(figures)));
}
