import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { matchesFilter, type AttributeFilter } from '@rgw/shared';
import { EmbeddedVectorIndex } from './embedded-index.js';
import { terms } from './keyword-terms.js';
import { QdrantVectorIndex } from './qdrant-index.js';
import type { Attributes, ChunkRecord, SearchRequest, VectorIndex } from './vector-index.js';

// One contract for every index adapter: the embedded index always (twice: with its default exact
// limit, and with the exact path off so that every vector search walks the graph with the filter
// and falls back), Qdrant wherever QDRANT_URL is set.

/** Deterministic bag-of-words embedding: texts sharing words point the same way. */
function embed(text: string, dim = 64): Float32Array {
  const v = new Float32Array(dim);
  for (const t of terms(text)) {
    let h = 2166136261;
    for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 16777619);
    v[(h >>> 0) % dim]! += 1;
  }
  return v;
}

interface Harness {
  index: VectorIndex;
  /** Another instance over the same storage (another process, in effect). */
  second(): VectorIndex;
  cleanup(): Promise<void>;
}

type Factory = () => Promise<Harness>;

const factories: [string, Factory | null, string?][] = [
  ['embedded', embeddedFactory({})],
  ['embedded, graph walk forced (exactLimit 0, graph built before each search)', embeddedFactory({ exactLimit: 0 }, true)],
  ['qdrant', process.env.QDRANT_URL ? qdrantFactory(process.env.QDRANT_URL) : null, 'QDRANT_URL is not set (no Qdrant server can run on this machine)'],
];

function embeddedFactory(opts: { exactLimit?: number }, settle = false): Factory {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rgw-vindex-'));
    const path = join(dir, 'vector-index.sqlite');
    const opened: EmbeddedVectorIndex[] = [];
    const make = (): VectorIndex => {
      const i = new EmbeddedVectorIndex(path, opts);
      opened.push(i);
      if (!settle) return i;
      // Rows just written are searched exactly until the background builder has put them in the
      // graph; waiting for it makes every search of this variant go through the graph walk.
      return {
        kind: i.kind,
        ensureReady: () => i.ensureReady(),
        ping: () => i.ping(),
        upsert: (c) => i.upsert(c),
        deleteFile: (s, f) => i.deleteFile(s, f),
        deleteStore: (s) => i.deleteStore(s),
        setFileAttributes: (s, f, a) => i.setFileAttributes(s, f, a),
        fileChunks: (s, f, o) => i.fileChunks(s, f, o),
        fileUsage: (s, f) => i.fileUsage(s, f),
        close: () => i.close(),
        search: async (r) => {
          await i.whenGraphsBuilt();
          return i.search(r);
        },
      };
    };
    const index = make();
    await index.ensureReady();
    return {
      index,
      second: make,
      async cleanup() {
        for (const i of opened) await i.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

function qdrantFactory(url: string): Factory {
  return async () => {
    const prefix = `rgwtest_${randomUUID().slice(0, 8)}`;
    const make = () => new QdrantVectorIndex({ url, apiKey: process.env.QDRANT_API_KEY, prefix });
    const index = make();
    await index.ensureReady();
    return { index, second: make, cleanup: async () => (index as QdrantVectorIndex).dropCollections() };
  };
}

for (const [name, factory, why] of factories) {
  if (!factory) {
    console.warn(`\n!!!!!!!! SKIPPED: the vector index contract suite against ${name}: ${why}. !!!!!!!!\n`);
    continue;
  }
  // Generous: the graph-walk variant waits for background graph builds on a shared, busy machine.
  describe(`vector index contract: ${name}`, { timeout: 60_000 }, () => contract(factory));
}

function contract(factory: Factory) {
  let h: Harness;
  const ready = (async () => (h = await factory()))();
  afterAll(async () => {
    await ready;
    await h.cleanup();
  });
  const project = `proj_${randomUUID().slice(0, 8)}`;
  const newStore = () => `vs_${randomUUID().replaceAll('-', '')}`;

  function chunk(store: string, file: string, i: number, text: string, attributes: Attributes = {}, opts: Partial<ChunkRecord> = {}): ChunkRecord {
    return { id: `${store}:${file}:${i}`, projectId: project, vectorStoreId: store, fileId: file, filename: `${file}.txt`, chunkIndex: i, text, tokens: terms(text).length, embedding: embed(text), attributes, ...opts };
  }
  const req = (store: string | string[], query: string, extra: Partial<SearchRequest> = {}): SearchRequest => ({
    projectId: project,
    vectorStoreIds: Array.isArray(store) ? store : [store],
    mode: 'vector',
    queryText: query,
    queryVector: embed(query),
    topK: 10,
    ...extra,
  });
  const DOCS = [
    'bananas and apples are yellow and red fruit',
    'the rocket engine burns liquid hydrogen and oxygen',
    'postgres and sqlite are relational databases with indexes',
    'the violin and the cello are string instruments',
    'a marathon runner trains on long distance roads',
  ];
  async function seeded() {
    await ready;
    const store = newStore();
    await h.index.upsert(DOCS.map((t, i) => chunk(store, `file-${i}`, 0, t, { doc: i })));
    return store;
  }

  it('finds the right chunk first by vector, keyword and hybrid, scores within 0..1', async () => {
    const store = await seeded();
    for (const mode of ['vector', 'keyword', 'hybrid'] as const) {
      const hits = await h.index.search(req(store, 'which databases have indexes', { mode }));
      expect(hits.length, mode).toBeGreaterThan(0);
      expect(hits[0]!.fileId, mode).toBe('file-2');
      expect(hits[0]!).toMatchObject({ vectorStoreId: store, filename: 'file-2.txt', chunkIndex: 0, text: DOCS[2], attributes: { doc: 2 } });
      for (const hit of hits) expect(hit.score, mode).toBeGreaterThanOrEqual(0), expect(hit.score, mode).toBeLessThanOrEqual(1);
      for (let i = 1; i < hits.length; i++) expect(hits[i - 1]!.score).toBeGreaterThanOrEqual(hits[i]!.score);
    }
  });

  it('keyword search takes any user text without a syntax error', async () => {
    const store = await seeded();
    for (const q of ['"rocket', 'rocket AND (OR', 'NEAR(rocket hydrogen', 'text:rocket*', '^rocket -', "rocket's \"engine\"", '', '***', '漢字 rocket']) {
      const hits = await h.index.search(req(store, q, { mode: 'keyword' }));
      if (/rocket/.test(q)) expect(hits[0]?.fileId, q).toBe('file-1');
    }
    expect(await h.index.search(req(store, '  ', { mode: 'keyword' }))).toEqual([]);
  });

  it('drops hits below the score threshold', async () => {
    const store = await seeded();
    const all = await h.index.search(req(store, 'rocket engine hydrogen'));
    expect(all.length).toBe(DOCS.length);
    const cut = (all[0]!.score + all[1]!.score) / 2;
    const kept = await h.index.search(req(store, 'rocket engine hydrogen', { scoreThreshold: cut }));
    expect(kept.map((x) => x.fileId)).toEqual(['file-1']);
  });

  describe('filters', () => {
    const N = 40;
    const attrsOf = (i: number): Attributes => ({ n: i, parity: i % 2 ? 'odd' : 'even', round: i % 5 === 0, ...(i % 3 === 0 ? { opt: 'x' } : {}) });
    const storeP = (async () => {
      await ready;
      const store = newStore();
      await h.index.upsert(Array.from({ length: N }, (_, i) => chunk(store, `f${i}`, 0, `common words and item ${i}`, attrsOf(i))));
      return store;
    })();
    const cases: AttributeFilter[] = [
      { type: 'eq', key: 'parity', value: 'odd' },
      { type: 'eq', key: 'round', value: true },
      { type: 'eq', key: 'n', value: 7 },
      { type: 'ne', key: 'parity', value: 'odd' },
      { type: 'ne', key: 'opt', value: 'x' },
      { type: 'gt', key: 'n', value: 30 },
      { type: 'gte', key: 'n', value: 30 },
      { type: 'lt', key: 'n', value: 3 },
      { type: 'lte', key: 'n', value: 3 },
      { type: 'in', key: 'n', value: [1, 2, 39, 100] },
      { type: 'in', key: 'parity', value: ['even'] },
      { type: 'nin', key: 'n', value: [0, 1, 2] },
      { type: 'nin', key: 'opt', value: ['x'] },
      { type: 'eq', key: 'missing', value: 1 },
      { type: 'gt', key: 'parity', value: 1 },
      { type: 'and', filters: [{ type: 'eq', key: 'parity', value: 'even' }, { type: 'gte', key: 'n', value: 20 }] },
      {
        type: 'or',
        filters: [
          { type: 'and', filters: [{ type: 'eq', key: 'round', value: true }, { type: 'lt', key: 'n', value: 20 }] },
          { type: 'and', filters: [{ type: 'eq', key: 'opt', value: 'x' }, { type: 'nin', key: 'parity', value: ['even'] }] },
        ],
      },
    ];
    for (const filter of cases) {
      it(`${JSON.stringify(filter)}: exactly the passing chunks, in every mode`, async () => {
        const store = await storeP;
        const expected = Array.from({ length: N }, (_, i) => i).filter((i) => matchesFilter(attrsOf(i), filter)).map((i) => `f${i}`).sort();
        for (const mode of ['vector', 'keyword', 'hybrid'] as const) {
          const hits = await h.index.search(req(store, 'common words item', { mode, filter, topK: 50 }));
          expect(hits.map((x) => x.fileId).sort(), mode).toEqual(expected);
        }
      });
    }
  });

  it('a very selective filter returns the k best passing chunks, however far from the query', async () => {
    await ready;
    const store = newStore();
    const near = (i: number) => Float32Array.from({ length: 8 }, (_, d) => (d === 0 ? 1 : 0.01 * ((i * (d + 3)) % 7)));
    const far = (i: number) => Float32Array.from({ length: 8 }, (_, d) => (d === 7 ? 1 : d === 0 ? 0.05 * i : 0));
    const chunks: ChunkRecord[] = [];
    for (let i = 0; i < 300; i++) chunks.push(chunk(store, `near${i}`, 0, `near ${i}`, { kind: 'near' }, { embedding: near(i) }));
    for (let i = 0; i < 6; i++) chunks.push(chunk(store, `far${i}`, 0, `far ${i}`, { kind: 'far' }, { embedding: far(i) }));
    await h.index.upsert(chunks);
    const query = Float32Array.from({ length: 8 }, (_, d) => (d === 0 ? 1 : 0));
    const filter: AttributeFilter = { type: 'eq', key: 'kind', value: 'far' };
    const all = await h.index.search({ ...req(store, ''), queryVector: query, filter, topK: 10 });
    expect(all.map((x) => x.fileId)).toEqual(['far5', 'far4', 'far3', 'far2', 'far1', 'far0']);
    const best3 = await h.index.search({ ...req(store, ''), queryVector: query, filter, topK: 3 });
    expect(best3.map((x) => x.fileId)).toEqual(['far5', 'far4', 'far3']);
    const unfiltered = await h.index.search({ ...req(store, ''), queryVector: query, topK: 5 });
    expect(unfiltered.every((x) => x.fileId.startsWith('near'))).toBe(true);
  });

  it('attribute updates are seen by the next search, by this instance and another', async () => {
    const store = await seeded();
    const other = h.second();
    const filter: AttributeFilter = { type: 'eq', key: 'tag', value: 'new' };
    expect(await other.search(req(store, 'rocket', { filter }))).toEqual([]);
    await h.index.setFileAttributes(store, 'file-1', { tag: 'new' });
    for (const idx of [h.index, other]) {
      for (const mode of ['vector', 'keyword'] as const) {
        const hits = await idx.search(req(store, 'rocket', { filter, mode }));
        expect(hits.map((x) => [x.fileId, x.attributes]), mode).toEqual([['file-1', { tag: 'new' }]]);
        expect(await idx.search(req(store, 'rocket', { filter: { type: 'eq', key: 'doc', value: 1 }, mode }))).toEqual([]);
      }
    }
  });

  it('deleteFile and deleteStore take effect for the next search (this instance and another)', async () => {
    const store = await seeded();
    const other = h.second();
    expect((await other.search(req(store, 'rocket engine'))).length).toBe(DOCS.length);
    await h.index.deleteFile(store, 'file-1');
    for (const idx of [h.index, other]) {
      for (const mode of ['vector', 'keyword', 'hybrid'] as const) {
        const hits = await idx.search(req(store, 'rocket engine', { mode }));
        expect(hits.some((x) => x.fileId === 'file-1'), mode).toBe(false);
      }
    }
    expect(await h.index.fileUsage(store, 'file-1')).toEqual({ chunks: 0, bytes: 0 });
    await other.deleteStore(store);
    for (const idx of [h.index, other]) {
      for (const mode of ['vector', 'keyword', 'hybrid'] as const) expect(await idx.search(req(store, 'databases', { mode })), mode).toEqual([]);
    }
  });

  it('a second instance sees the first one\'s writes', async () => {
    await ready;
    const other = h.second();
    const store = newStore();
    expect(await other.search(req(store, 'violin'))).toEqual([]);
    await h.index.upsert([chunk(store, 'a', 0, 'violin concerto in d major')]);
    expect((await other.search(req(store, 'violin'))).map((x) => x.fileId)).toEqual(['a']);
    await other.upsert([chunk(store, 'b', 0, 'violin sonata')]);
    expect((await h.index.search(req(store, 'violin sonata'))).map((x) => x.fileId)).toEqual(['b', 'a']);
  });

  it('upserts are idempotent by id: a re-run replaces, never duplicates', async () => {
    const store = await seeded();
    await h.index.upsert(DOCS.map((t, i) => chunk(store, `file-${i}`, 0, t, { doc: i })));
    await h.index.upsert([chunk(store, 'file-3', 0, 'the violin and the cello are string instruments', { doc: 33 })]);
    const hits = await h.index.search(req(store, 'violin cello', { topK: 50 }));
    expect(hits.length).toBe(DOCS.length);
    expect(new Set(hits.map((x) => x.chunkId)).size).toBe(DOCS.length);
    expect(hits[0]!.attributes).toEqual({ doc: 33 });
    expect(await h.index.fileUsage(store, 'file-3')).toEqual({ chunks: 1, bytes: Buffer.byteLength(DOCS[3]!) });
  });

  it('isolates stores and projects', async () => {
    const a = await seeded();
    const b = await seeded();
    const hitsA = await h.index.search(req(a, 'rocket', { topK: 50 }));
    expect(hitsA.every((x) => x.vectorStoreId === a)).toBe(true);
    const both = await h.index.search(req([a, b], 'rocket', { topK: 50 }));
    expect(new Set(both.map((x) => x.vectorStoreId))).toEqual(new Set([a, b]));
    expect(both.slice(0, 2).map((x) => x.fileId)).toEqual(['file-1', 'file-1']);
    for (const mode of ['vector', 'keyword', 'hybrid'] as const) {
      expect(await h.index.search({ ...req(a, 'rocket', { mode }), projectId: 'proj_someone_else' }), mode).toEqual([]);
    }
  });

  it('pages a file\'s chunks in order and counts its usage in UTF-8 bytes', async () => {
    await ready;
    const store = newStore();
    const texts = ['zero', 'one', 'two ü', 'three', 'four'];
    // Written out of order and in two batches: order comes from the chunk index.
    await h.index.upsert([3, 1, 4].map((i) => chunk(store, 'paged', i, texts[i]!)));
    await h.index.upsert([0, 2].map((i) => chunk(store, 'paged', i, texts[i]!)));
    const p1 = await h.index.fileChunks(store, 'paged', { limit: 2 });
    expect(p1).toEqual({ chunks: [{ chunkIndex: 0, text: 'zero' }, { chunkIndex: 1, text: 'one' }], hasMore: true });
    const p2 = await h.index.fileChunks(store, 'paged', { afterIndex: 1, limit: 2 });
    expect(p2.chunks.map((c) => c.chunkIndex)).toEqual([2, 3]);
    const p3 = await h.index.fileChunks(store, 'paged', { afterIndex: 3, limit: 2 });
    expect(p3).toEqual({ chunks: [{ chunkIndex: 4, text: 'four' }], hasMore: false });
    expect(await h.index.fileUsage(store, 'paged')).toEqual({ chunks: 5, bytes: Buffer.byteLength(texts.join('')) });
    expect(await h.index.fileUsage(store, 'nothing')).toEqual({ chunks: 0, bytes: 0 });
  });

  it('keeps keyword search working for chunks without embeddings', async () => {
    await ready;
    const store = newStore();
    await h.index.upsert([chunk(store, 'k', 0, 'plain keyword only chunk about lighthouses', {}, { embedding: undefined })]);
    expect((await h.index.search(req(store, 'lighthouses', { mode: 'keyword' }))).map((x) => x.fileId)).toEqual(['k']);
    expect(await h.index.search(req(store, 'lighthouses', { mode: 'vector' }))).toEqual([]);
    // A store of mostly keyword-only rows next to another store's vectors: nothing leaks across.
    await h.index.upsert(Array.from({ length: 20 }, (_, i) => chunk(store, `kw${i}`, 0, `lighthouse keeper ${i}`, {}, { embedding: undefined })));
    await h.index.upsert([chunk(store, 'v', 0, 'lighthouse with a vector')]);
    const other = newStore();
    await h.index.upsert(Array.from({ length: 5 }, (_, i) => chunk(other, `o${i}`, 0, `lighthouse with a vector ${i}`)));
    const hits = await h.index.search(req(store, 'lighthouse with a vector', { topK: 50 }));
    expect(hits.map((x) => `${x.vectorStoreId === store}:${x.fileId}`)).toEqual(['true:v']);
  });
}
