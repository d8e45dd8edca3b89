import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedVectorIndex, type EmbeddedIndexOptions } from './embedded-index.js';
import { snapshotFiles } from './graph-snapshot.js';
import type { ChunkRecord } from './vector-index.js';

// Graph snapshots: a reopened index loads the saved graph and replays the change log after it; a
// snapshot that does not match the file exactly is ignored, and results are always those of the rows.

const DIM = 16;
const dirs: string[] = [];
const open: EmbeddedVectorIndex[] = [];
afterEach(async () => {
  for (const i of open.splice(0)) await i.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function place() {
  const dir = mkdtempSync(join(tmpdir(), 'rgw-vindex-snap-'));
  dirs.push(dir);
  const path = join(dir, 'i.sqlite');
  // The graph is walked for every search (exactLimit 0); a snapshot is due after 100 changes.
  const make = (opts: EmbeddedIndexOptions = {}) => {
    const i = new EmbeddedVectorIndex(path, { exactLimit: 0, snapshotMinChanges: 100, ...opts });
    open.push(i);
    return i;
  };
  return { path, make };
}

/** Deterministic, well-spread vectors (no ties, so rankings compare exactly). */
function vec(seed: number): Float32Array {
  let x = (seed * 2654435761) >>> 0 || 1;
  return Float32Array.from({ length: DIM }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 2 ** 32) * 2 - 1;
  });
}
const chunk = (i: number, embedding = vec(i)): ChunkRecord => ({ id: `c${i}`, projectId: 'p', vectorStoreId: 'vs', fileId: `f${i}`, filename: 'f', chunkIndex: 0, text: `t ${i}`, tokens: 2, embedding, attributes: { i } });
const QUERIES = Array.from({ length: 12 }, (_, q) => vec(10_000 + q));
const answers = async (idx: EmbeddedVectorIndex, queries = QUERIES) => {
  const out: string[][] = [];
  for (const q of queries) {
    const hits = await idx.search({ projectId: 'p', vectorStoreIds: ['vs'], mode: 'vector', queryText: '', queryVector: q, topK: 10 });
    // Scores to 4 places, ids exactly (both searches rescore from the stored Float32 vectors).
    out.push(hits.map((h) => `${h.chunkId} ${(Math.round(h.score * 1e4) / 1e4).toFixed(4)}`));
  }
  return out;
};
/** The truth: an exact scan of the same file (no graph, no snapshot). */
const exactAnswers = (make: (o?: EmbeddedIndexOptions) => EmbeddedVectorIndex, queries = QUERIES) => answers(make({ exactLimit: 1e9, snapshotMinChanges: 0 }), queries);

async function built(make: (o?: EmbeddedIndexOptions) => EmbeddedVectorIndex, n: number) {
  const idx = make();
  await idx.upsert(Array.from({ length: n }, (_, i) => chunk(i)));
  await idx.whenGraphsBuilt();
  return idx;
}

describe('graph snapshots', () => {
  it('are written after a large enough build and used at reopening, with the same answers', async () => {
    const { path, make } = place();
    const first = await built(make, 600);
    expect(existsSync(snapshotFiles(path, DIM).header)).toBe(true);
    const before = await answers(first);
    await first.close();

    const reopened = make();
    const after = await answers(reopened);
    expect(reopened.snapshotOutcomes()).toEqual([{ dim: DIM, used: true, seq: expect.any(Number) }]);
    expect(after).toEqual(before);
    expect(after).toEqual(await exactAnswers(make));
  });

  it("a writer removes the temporary files of processes that died mid-write, not those of live ones", async () => {
    const { path, make } = place();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const leftover = `${snapshotFiles(path, DIM).graph}.tmp-${dead}-0badc0de`;
    const ours = `${snapshotFiles(path, DIM).graph}.read-${process.pid}-0badc0de`;
    await make().ensureReady();
    writeFileSync(leftover, 'x');
    writeFileSync(ours, 'x');
    await built(make, 600);
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(ours)).toBe(true);
  });

  it('are not written for small builds', async () => {
    const { path, make } = place();
    await built(make, 60);
    expect(existsSync(snapshotFiles(path, DIM).graph)).toBe(false);
  });

  it('behind the change log: loaded, then new, moved and deleted chunks are replayed', async () => {
    const { make } = place();
    await (await built(make, 600)).close();
    const writer = make({ snapshotMinChanges: 0 });
    const far = Float32Array.from({ length: DIM }, () => -1);
    await writer.deleteFile('vs', 'f3');
    await writer.upsert([chunk(5, far), ...Array.from({ length: 50 }, (_, i) => chunk(600 + i))]);
    // Queries near the moved, deleted and new chunks, besides the usual ones.
    const queries = [...QUERIES, far, vec(3), vec(620)];
    const truth = await exactAnswers(make, queries);

    const reopened = make();
    const during = await answers(reopened, queries);
    expect(reopened.snapshotOutcomes()).toEqual([{ dim: DIM, used: true, seq: expect.any(Number) }]);
    await reopened.whenGraphsBuilt();
    const after = await answers(reopened, queries);
    expect(during).toEqual(truth);
    expect(after).toEqual(truth);
    expect(after[QUERIES.length]![0]).toMatch(/^c5 /);
    expect(after.flat().some((h) => h.startsWith('c3 '))).toBe(false);
  });

  it('a corrupt snapshot is ignored and the graph rebuilt', async () => {
    const { path, make } = place();
    await (await built(make, 600)).close();
    const file = snapshotFiles(path, DIM).graph;
    const bytes = readFileSync(file);
    for (let at = 1000; at < bytes.length; at += 997) bytes[at] = bytes[at]! ^ 0x5a;
    writeFileSync(file, bytes);

    const reopened = make();
    const got = await answers(reopened);
    expect(reopened.snapshotOutcomes()).toEqual([{ dim: DIM, used: false, reason: 'checksum differs' }]);
    await reopened.whenGraphsBuilt();
    expect(await answers(reopened)).toEqual(got);
    expect(got).toEqual(await exactAnswers(make));
  });

  it('a snapshot of another database file at the same path is ignored', async () => {
    const { path, make } = place();
    await (await built(make, 600)).close();
    const saved = snapshotFiles(path, DIM);
    const graph = readFileSync(saved.graph);
    const header = readFileSync(saved.header);
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    // A new file with other vectors under the same rows ids; the old snapshot put back beside it.
    const other = make({ snapshotMinChanges: 0 });
    await other.upsert(Array.from({ length: 600 }, (_, i) => chunk(i, vec(50_000 + i))));
    await other.close();
    writeFileSync(saved.graph, graph);
    writeFileSync(saved.header, header);

    const reopened = make();
    const got = await answers(reopened);
    expect(reopened.snapshotOutcomes()).toEqual([{ dim: DIM, used: false, reason: 'another database file' }]);
    expect(got).toEqual(await exactAnswers(make));
  });

  it('a snapshot older than the pruned change log is ignored', async () => {
    const { make } = place();
    await (await built(make, 600)).close();
    const writer = make({ logRetention: 10, snapshotMinChanges: 0 });
    for (let i = 0; i < 30; i++) await writer.upsert([chunk(i, vec(70_000 + i))]);

    const reopened = make();
    const got = await answers(reopened);
    expect(reopened.snapshotOutcomes()).toEqual([{ dim: DIM, used: false, reason: 'position outside the change log' }]);
    expect(got).toEqual(await exactAnswers(make));
  });
});
