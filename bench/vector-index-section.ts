import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { AttributeFilter } from '@rgw/shared';
import { EmbeddedVectorIndex } from '../services/vector-stores/src/index/embedded-index.js';
import type { ChunkRecord } from '../services/vector-stores/src/index/vector-index.js';
import { blobToVector, dot } from '../services/vector-stores/src/index/vector-math.js';
import { percentile, renderSection, type Row, type Section } from './report.js';
import { prng } from '../test/support/fuzz-cases.js';

// Section 7: the embedded vector index at 100,000 chunks of 384 dimensions (clustered synthetic
// vectors, as in ../shared/research/vector-search.md), searched through the index's own API against
// exact brute force over the same vectors. Two child processes of their own, so that the RSS is the
// index's, not the benchmark's: the first writes the store and builds the graph (which writes its
// snapshot), the second opens the file as a restarted gateway would (loading the snapshot), searches
// it and reports its RSS with the store loaded.
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

/** What the writing process measured. */
interface BuildFigures {
  n: number;
  insertSeconds: number;
  firstSearchMs: number;
  buildSeconds: number;
  /** CPU time (all threads) of the first search and the background build: steadier than wall time under load. */
  buildCpuSeconds?: number;
  rssMb: number;
}

/** What the reopening process measured. */
interface OpenFigures {
  rssBeforeMb: number;
  rssMb: number;
  heapUsedMb: number;
  externalMb: number;
  reopenFirstSearchMs: number;
  /** CPU time (all threads) from opening to the first search: steadier than wall time on a busy machine. */
  reopenCpuMs?: number;
  reopenGraphReadyMs: number;
  snapshot: string;
  /** cpuMs: mean CPU time per search (all threads of the process). */
  variants: { name: string; p50: number; p99: number; recall: number; exactP50: number; cpuMs?: number }[];
}

/** Both; `rssMb` is the reopened process's, `writerRssMb` the writing one's. */
type Figures = Omit<BuildFigures, 'rssMb'> & OpenFigures & { writerRssMb: number };

const mb = (bytes: number) => bytes / 2 ** 20;

function settledMemory() {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage();
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

const request = (q: Float32Array, filter?: AttributeFilter) => ({ projectId: 'proj_bench', vectorStoreIds: ['vs_bench'], mode: 'vector' as const, queryText: '', queryVector: q, filter, topK: K });

/** Child 1: writes the store, builds the graph (and its snapshot), leaves the file and the queries in `dir`. */
async function buildPhase(dir: string): Promise<BuildFigures> {
  const index = new EmbeddedVectorIndex(join(dir, 'vector-index.sqlite'));
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
    const slab = new Float32Array(QUERIES * DIM);
    queries.forEach((q, i) => slab.set(q, i * DIM));
    writeFileSync(join(dir, 'queries.f32'), Buffer.from(slab.buffer));

    const buildBegan = performance.now();
    const buildCpu = process.cpuUsage();
    await index.search(request(queries[0]!)); // loads the rows; the graph is then built in the background
    const firstSearchMs = performance.now() - buildBegan;
    await index.whenGraphsBuilt(); // and its snapshot written
    const buildSeconds = (performance.now() - buildBegan) / 1000;
    const spent = process.cpuUsage(buildCpu);
    const buildCpuSeconds = (spent.user + spent.system) / 1e6;
    process.stderr.write(`vector index: first search ${firstSearchMs.toFixed(0)} ms; graph built and saved in ${buildSeconds.toFixed(1)} s (CPU ${buildCpuSeconds.toFixed(1)} s)\n`);
    return { n: N, insertSeconds, firstSearchMs, buildSeconds, buildCpuSeconds, rssMb: mb(settledMemory().rss) };
  } finally {
    await index.close();
  }
}

/** Child 2: opens the file written by child 1 (snapshot and all), searches it, measures RSS and recall. */
async function openPhase(dir: string): Promise<OpenFigures> {
  const path = join(dir, 'vector-index.sqlite');
  const rssBeforeMb = mb(settledMemory().rss);
  const qs = new Float32Array(readFileSync(join(dir, 'queries.f32')).buffer.slice(0));
  const queries = Array.from({ length: QUERIES }, (_, i) => qs.subarray(i * DIM, (i + 1) * DIM));
  const opened = performance.now();
  const cpu = process.cpuUsage();
  const index = new EmbeddedVectorIndex(path);
  try {
    await index.search(request(queries[0]!));
    const reopenFirstSearchMs = performance.now() - opened;
    const used = process.cpuUsage(cpu);
    const reopenCpuMs = (used.user + used.system) / 1000;
    await index.whenGraphsBuilt();
    const reopenGraphReadyMs = performance.now() - opened;
    const snapshot = index.snapshotOutcomes().map((o) => (o.used ? 'loaded' : `not used (${o.reason})`)).join(', ');
    process.stderr.write(`vector index: reopened, first search ${reopenFirstSearchMs.toFixed(0)} ms, graph ready ${reopenGraphReadyMs.toFixed(0)} ms, snapshot ${snapshot}\n`);

    const got: string[][][] = VARIANTS.map(() => []);
    const times: number[][] = VARIANTS.map(() => []);
    const cpuMs: number[] = [];
    for (const [vi, variant] of VARIANTS.entries()) {
      for (const q of queries.slice(0, 10)) await index.search(request(q, variant.filter)); // warm-up
      const before = process.cpuUsage();
      for (const q of queries) {
        const t0 = performance.now();
        const hits = await index.search(request(q, variant.filter));
        times[vi]!.push(performance.now() - t0);
        got[vi]!.push(hits.map((h) => h.chunkId));
      }
      const spent = process.cpuUsage(before);
      cpuMs.push((spent.user + spent.system) / 1000 / queries.length);
    }
    const memory = settledMemory();

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
      return { name: variant.name, p50: percentile(times[vi]!, 50), p99: percentile(times[vi]!, 99), recall: found / queries.length, exactP50: percentile(exactTimes, 50), cpuMs: cpuMs[vi] };
    });
    return { rssBeforeMb, rssMb: mb(memory.rss), heapUsedMb: mb(memory.heapUsed), externalMb: mb(memory.external), reopenFirstSearchMs, reopenCpuMs, reopenGraphReadyMs, snapshot, variants };
  } finally {
    await index.close();
  }
}

function toSection(f: Figures): Section {
  const rows: Row[] = [];
  for (const v of f.variants) {
    rows.push({ metric: `search p50, ${v.name}`, direct: 0, gateway: v.p50, kind: 'added', target: 10, unit: 'ms' });
    rows.push({ metric: `recall@${K}, ${v.name}`, direct: 1, gateway: v.recall, kind: 'ratio', target: 0.95, unit: 'fraction' });
  }
  rows.push({ metric: 'RSS with the store loaded (reopened process, after the searches)', direct: 0, gateway: f.rssMb, kind: 'added', target: 300, unit: 'MB' });
  rows.push({ metric: 'RSS before the store was opened (code loaded)', direct: 0, gateway: f.rssBeforeMb, kind: 'added', unit: 'MB' });
  rows.push({ metric: `insert ${f.n} chunks (SQLite rows, FTS, vectors)`, direct: 0, gateway: f.insertSeconds * 1000, kind: 'added', unit: 'ms' });
  rows.push({ metric: 'first search in the writing process (loads the rows; exact while the graph builds)', direct: 0, gateway: f.firstSearchMs, kind: 'added', unit: 'ms' });
  rows.push({ metric: 'graph built in the background from the rows, snapshot written', direct: 0, gateway: f.buildSeconds * 1000, kind: 'added', unit: 'ms' });
  if (f.buildCpuSeconds !== undefined) rows.push({ metric: 'the same, CPU time (all threads)', direct: 0, gateway: f.buildCpuSeconds * 1000, kind: 'added', unit: 'ms' });
  rows.push({ metric: `reopen -> first search (snapshot ${f.snapshot})`, direct: 0, gateway: f.reopenFirstSearchMs, kind: 'added', unit: 'ms' });
  if (f.reopenCpuMs !== undefined) rows.push({ metric: 'reopen -> first search, CPU time (all threads)', direct: 0, gateway: f.reopenCpuMs, kind: 'added', unit: 'ms' });
  rows.push({ metric: 'reopen -> graph complete (every search walks the graph)', direct: 0, gateway: f.reopenGraphReadyMs, kind: 'added', unit: 'ms' });
  const baseline = f.variants.map((v) => `${v.name} ${v.exactP50.toFixed(1)} ms (p99 of the index ${v.p99.toFixed(1)} ms${v.cpuMs === undefined ? '' : `, CPU per search ${v.cpuMs.toFixed(2)} ms`})`).join('; ');
  return {
    title: `7. Embedded vector index, ${f.n} chunks x ${DIM} dimensions, top-${K}`,
    note: `"direct" is the target's zero; recall is against exact brute force over the same vectors. Brute-force p50 (plain JS, vectors in one array): ${baseline}. Searches, RSS and recall are those of a second process that opened the written file (as after a restart); the writing process (rows, 8-bit copy and graph built in it) ended at ${f.writerRssMb.toFixed(0)} MB. With the store loaded: JS heap in use ${f.heapUsedMb.toFixed(0)} MB, external ${f.externalMb.toFixed(0)} MB (the 8-bit vectors in WebAssembly memory, 384 B a row, and the graph's links, 132 B a row; the rest SQLite blobs of the last searches not yet released); the rest is SQLite, V8 heap slack and the runtime.`,
    rows,
  };
}

function runChild(phase: 'build' | 'open', dir: string): Promise<unknown> {
  const file = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', file], { env: { ...process.env, VINDEX_BENCH_PHASE: phase, VINDEX_BENCH_DIR: dir }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`the ${phase} process failed (exit ${code})`));
      else resolve(JSON.parse(last));
    }),
  );
}

/** Runs the two measuring processes (clean RSS) and reports them as section 7. */
export async function vectorIndexSection(print: (s: Section) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rgw-vindex-bench-'));
  try {
    const build = (await runChild('build', dir)) as BuildFigures;
    const opened = (await runChild('open', dir)) as OpenFigures;
    print(toSection({ ...build, ...opened, writerRssMb: build.rssMb }));
  } catch (err) {
    print({ title: '7. Embedded vector index', rows: [], skipped: (err as Error).message });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const phase = process.env.VINDEX_BENCH_PHASE;
  const dir = process.env.VINDEX_BENCH_DIR;
  if (phase === 'build' && dir) console.log(JSON.stringify(await buildPhase(dir)));
  else if (phase === 'open' && dir) console.log(JSON.stringify(await openPhase(dir)));
  else await vectorIndexSection((s) => console.log(renderSection(s)));
}
