import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedVectorIndex } from './embedded-index.js';
import type { ChunkRecord } from './vector-index.js';

// Embedded-only behaviour the contract cannot see: change-log pruning and the background graph build.

const dirs: string[] = [];
const open: EmbeddedVectorIndex[] = [];
afterEach(async () => {
  for (const i of open.splice(0)) await i.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fresh(opts: ConstructorParameters<typeof EmbeddedVectorIndex>[1] = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rgw-vindex-unit-'));
  dirs.push(dir);
  const path = join(dir, 'i.sqlite');
  const make = () => {
    const i = new EmbeddedVectorIndex(path, opts);
    open.push(i);
    return i;
  };
  return make;
}

const vec = (i: number) => Float32Array.from({ length: 4 }, (_, d) => (d === i % 4 ? 1 : 0.1 * ((i * (d + 1)) % 5)));
const chunk = (i: number): ChunkRecord => ({ id: `c${i}`, projectId: 'p', vectorStoreId: 'vs', fileId: `f${i}`, filename: 'f', chunkIndex: 0, text: `t ${i}`, tokens: 2, embedding: vec(i), attributes: { i } });
const search = (idx: EmbeddedVectorIndex, topK = 100) => idx.search({ projectId: 'p', vectorStoreIds: ['vs'], mode: 'vector', queryText: '', queryVector: vec(0), topK });

describe('EmbeddedVectorIndex', () => {
  it('a reader left behind by change-log pruning reloads and stays exact', async () => {
    const make = fresh({ logRetention: 10 });
    const reader = make();
    const writer = make();
    await writer.upsert([chunk(0)]);
    expect((await search(reader)).length).toBe(1);
    for (let i = 1; i < 40; i++) await writer.upsert([chunk(i)]);
    await writer.deleteFile('vs', 'f7');
    const hits = await search(reader);
    expect(hits.length).toBe(39);
    expect(hits.some((h) => h.fileId === 'f7')).toBe(false);
  });

  it('answers completely while the graph builds, and the same once built', async () => {
    const make = fresh({ exactLimit: 0 });
    const writer = make();
    await writer.upsert(Array.from({ length: 300 }, (_, i) => chunk(i)));
    const reader = make();
    const during = await search(reader, 20);
    await reader.whenGraphsBuilt();
    const after = await search(reader, 20);
    expect(during.length).toBe(20);
    // Many test vectors are equal (ties order freely): compare the scores.
    expect(after.map((h) => h.score.toFixed(6))).toEqual(during.map((h) => h.score.toFixed(6)));
  });

  it('moves a chunk whose vector changed (no stale graph entry)', async () => {
    const make = fresh({ exactLimit: 0 });
    const idx = make();
    await idx.upsert(Array.from({ length: 50 }, (_, i) => chunk(i)));
    await idx.whenGraphsBuilt();
    const far = Float32Array.from([-1, -1, -1, -1]);
    await idx.upsert([{ ...chunk(0), embedding: far }]);
    await idx.whenGraphsBuilt();
    const hits = await idx.search({ projectId: 'p', vectorStoreIds: ['vs'], mode: 'vector', queryText: '', queryVector: far, topK: 1 });
    expect(hits.map((h) => [h.chunkId, h.score])).toEqual([['c0', 1]]);
    expect((await search(idx, 100)).filter((h) => h.chunkId === 'c0').length).toBe(1);
  });

  it('writes on its writer thread in call order with deletes, and across the thread stopping when idle', async () => {
    const idx = fresh({ writerThread: true, writerIdleMs: 200 })();
    for (let round = 0; round < 3; round++) {
      await idx.upsert([chunk(1)]);
      // Wait for the thread to be up, then an upsert and a delete called back to back: the delete wins.
      await new Promise((r) => setTimeout(r, round === 1 ? 400 : 1500));
      const written = idx.upsert([chunk(2), chunk(3)]);
      const deleted = idx.deleteFile('vs', 'f2');
      await Promise.all([written, deleted]);
      expect((await idx.fileUsage('vs', 'f2')).chunks).toBe(0);
      expect((await idx.fileUsage('vs', 'f3')).chunks).toBe(1);
      await idx.deleteFile('vs', 'f3');
    }
  }, 30_000);
});
