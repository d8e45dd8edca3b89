import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBED_DIM, EMBED_MODEL } from './bench-embedder.js';
import { processCpuSeconds } from './load.js';
import { startEmbedded } from './processes.js';
import type { Section } from './report.js';
import { api, attachBatch, generatedText, ingestDirect, openIndexAt, pollUntil, queryWords, uploadFile } from './vector-bench-support.js';

const MB = 1024 * 1024;
const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const BIG_MB = num('BENCH_INGEST_MB', 10);
const SMALL_FILES = num('BENCH_INGEST_SMALL_FILES', 4);
const SMALL_MB = num('BENCH_INGEST_SMALL_MB', 1);

/**
 * Section 8: ingestion on the embedded platform with a zero-cost embedder (bench-embedder.ts, served
 * by the bench mock). (a) Throughput: a 10 MB text file and a few smaller ones attached as one batch
 * at the default chunking (auto = 800 tokens, 400 overlap), timed from the attach call to the batch's
 * `completed`, against the worker's pipeline steps run in this process on the same bytes into the
 * same index adapter. (b) A fresh store and a 10 MB file: time from attach to the first search whose
 * results include that file.
 */
export async function ingestSection(env: Record<string, string>, print: (s: Section) => void, nodeArgs: string[] = []): Promise<void> {
  const title = '8. Ingestion (embedded, zero-cost embedder)';
  const platform = await startEmbedded({ ...env, EMBEDDING_MODEL: EMBED_MODEL }, nodeArgs);
  const directDir = mkdtempSync(join(tmpdir(), 'rgw-bench-ingest-'));
  const index = await openIndexAt(directDir);
  try {
    const origin = platform.url;
    const files = [{ name: 'big.txt', bytes: generatedText(BIG_MB * MB, 1) }];
    for (let i = 0; i < SMALL_FILES; i++) files.push({ name: `small-${i}.txt`, bytes: generatedText(SMALL_MB * MB, 100 + i) });

    // Warm both sides (the tokenizer's tables, the worker's queue, the index's tables).
    const warmBytes = generatedText(64 * 1024, 7);
    await ingestDirect(index, 'vs_warm', 'file_warm', 'warm.txt', warmBytes);
    const warmStore = await api(origin, 'POST', '/v1/vector_stores', { name: 'bench-warm' });
    await attachBatch(origin, warmStore.id, [await uploadFile(origin, 'warm.txt', warmBytes)]);

    // Baseline: the same bytes, file by file, in this process.
    let directChunks = 0;
    let directTextBytes = 0;
    let bigDirectMs = 0;
    const d0 = performance.now();
    const dCpu0 = process.cpuUsage();
    for (const [i, f] of files.entries()) {
      const t = performance.now();
      const r = await ingestDirect(index, 'vs_direct', `file_${i}`, f.name, f.bytes);
      if (i === 0) bigDirectMs = performance.now() - t;
      directChunks += r.chunks;
      directTextBytes += r.textBytes;
    }
    const directSeconds = (performance.now() - d0) / 1000;
    const dCpu = process.cpuUsage(dCpu0);
    const directCpu = (dCpu.user + dCpu.system) / 1e6;

    // Through the gateway: upload first (not timed), then attach them all as one batch.
    const ids: string[] = [];
    for (const f of files) ids.push(await uploadFile(origin, f.name, f.bytes));
    const store = await api(origin, 'POST', '/v1/vector_stores', { name: 'bench-ingest' });
    // CPU of the whole platform process (every thread), steadier than wall time on a shared machine.
    const pid = platform.processes[0]!.child.pid;
    const pCpu0 = processCpuSeconds(pid);
    const { seconds } = await attachBatch(origin, store.id, ids);
    const pCpu1 = processCpuSeconds(pid);
    const platformCpu = pCpu0 !== undefined && pCpu1 !== undefined ? pCpu1 - pCpu0 : NaN;
    // The gateway's chunks are the baseline's chunks: same chunker, same bytes; usage_bytes (the bytes of
    // chunk text) must agree, or the two sides did not do the same work.
    const listed = await api(origin, 'GET', `/v1/vector_stores/${store.id}/files?limit=100`);
    const usage = (listed.data as { usage_bytes: number }[]).reduce((s, f) => s + f.usage_bytes, 0);
    const same = usage === directTextBytes ? 'usage_bytes agree' : `WARNING: usage_bytes ${usage} vs ${directTextBytes} in the baseline`;

    // (b) A fresh store, the big file (already uploaded): attach → first search result from it.
    const fresh = await api(origin, 'POST', '/v1/vector_stores', { name: 'bench-searchable' });
    const query = queryWords(1);
    const b0 = performance.now();
    await api(origin, 'POST', `/v1/vector_stores/${fresh.id}/files`, { file_id: ids[0] });
    let searches = 0;
    await pollUntil(
      async () => {
        searches++;
        const page = await api(origin, 'POST', `/v1/vector_stores/${fresh.id}/search`, { query, max_num_results: 1 });
        return (page.data as { file_id: string }[]).some((r) => r.file_id === ids[0]) ? true : undefined;
      },
      25,
      120_000,
      'the 10 MB file to be searchable',
    );
    const searchableMs = performance.now() - b0;
    const completedMs = await pollUntil(
      async () => ((await api(origin, 'GET', `/v1/vector_stores/${fresh.id}/files/${ids[0]}`)).status === 'completed' ? performance.now() - b0 : undefined),
      25,
      120_000,
      'the 10 MB file to complete',
    );

    const totalMb = files.reduce((s, f) => s + f.bytes.length, 0) / MB;
    print({
      title,
      note:
        `${files.length} text files (${BIG_MB} MB + ${SMALL_FILES} × ${SMALL_MB} MB = ${totalMb.toFixed(1)} MB), ${directChunks} chunks at auto chunking, ${EMBED_DIM}-dim hashed vectors; ` +
        `gateway: attach (one file batch) → batch completed, ${seconds.toFixed(2)} s, ${platformCpu.toFixed(2)} CPU-s of the platform process (${same}); direct: extract → chunk → embed(hash) → upsert in the bench process, same index adapter, ${directSeconds.toFixed(2)} s, ${directCpu.toFixed(2)} CPU-s. ` +
        `Searchable: a fresh store, the ${BIG_MB} MB file, search every 25 ms (${searches} searches); the first hit comes once the first batch of chunks is committed; the file's completed status is row 3. ` +
        `The "vs target" rows put the issue's absolute target in the direct column.`,
      rows: [
        { metric: 'ingestion throughput', unit: 'chunks/s', direct: directChunks / directSeconds, gateway: directChunks / seconds, kind: 'ratio' },
        { metric: 'ingestion throughput vs target 2,000', unit: 'chunks/s', direct: 2000, gateway: directChunks / seconds, kind: 'ratio', target: 1 },
        // CPU-seconds per 1,000 chunks (bench process for direct, the platform process's every thread for gateway); the ratio is CPU, lower is better.
        { metric: 'CPU per 1,000 chunks (direct: bench process; gateway: platform process)', unit: 'cpu-s', direct: (directCpu / directChunks) * 1000, gateway: (platformCpu / directChunks) * 1000, kind: 'ratio' },
        { metric: `${BIG_MB} MB file alone: pipeline (direct) vs attach → completed`, unit: 'ms', direct: bigDirectMs, gateway: completedMs, kind: 'added' },
        { metric: `${BIG_MB} MB file: attach → first search hit, absolute`, unit: 'ms', direct: 0, gateway: searchableMs, kind: 'added', target: 10_000 },
      ],
    });
  } finally {
    await index.close();
    await platform.stop();
    rmSync(directDir, { recursive: true, force: true });
  }
}
