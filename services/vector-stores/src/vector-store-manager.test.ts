import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '@rgw/shared';
import { errorOf } from '../../../test/support/errors.js';
import { createFixture } from './index-testing/fixture.js';
import { attributesSchema, createBatchSchema, searchSchema } from './vector-store-schema.js';

type Fixture = Awaited<ReturnType<typeof createFixture>>;
let f: Fixture;
const a: RequestContext = { requestId: 'req_a', principal: { projectId: 'proj_a' } };
const b: RequestContext = { requestId: 'req_b', principal: { projectId: 'proj_b' } };
const page = { limit: 20, order: 'desc' as const };
const search = (storeId: string, body: Record<string, unknown>, ctx = a) => f.search.search(ctx, storeId, searchSchema.parse(body));

beforeAll(async () => {
  f = await createFixture();
  f.fakeFiles.add('proj_a', 'file-cats', 'cats.txt', 'Cats are small furry pets that purr and chase mice around the house.');
  f.fakeFiles.add('proj_a', 'file-rockets', 'rockets.md', 'Rockets burn liquid fuel to reach orbit; engines and boosters lift payloads into space.');
  f.fakeFiles.add('proj_a', 'file-bread', 'bread.txt', 'Bread is baked from flour, water, yeast and salt in a hot oven.');
  f.fakeFiles.add('proj_a', 'file-image', 'photo.png', 'PNG\u0000binary');
  f.fakeFiles.add('proj_b', 'file-secret', 'secret.txt', 'project b secret cats');
});
afterAll(() => f.close());

describe('vector stores', () => {
  it('creates, retrieves, lists with cursors both ways, modifies and deletes', async () => {
    const made = [];
    for (const name of ['one', 'two', 'three']) made.push(await f.manager.create(a, { name, metadata: { k: name } }));
    expect(made[0]).toMatchObject({
      id: expect.stringMatching(/^vs_[0-9a-f]{48}$/),
      object: 'vector_store',
      name: 'one',
      usage_bytes: 0,
      file_counts: { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 },
      status: 'completed',
      expires_after: null,
      expires_at: null,
      last_active_at: f.clock.now,
      metadata: { k: 'one' },
      embedding_model: 'bow',
    });
    const ids = made.map((s) => s.id);
    const all = await f.manager.list(a, page);
    expect(all.data.map((s) => s.id).slice(0, 3)).toEqual([...ids].reverse());
    const asc = await f.manager.list(a, { ...page, order: 'asc', limit: 1 });
    expect(asc).toMatchObject({ has_more: true, first_id: asc.data[0]!.id });
    const after = await f.manager.list(a, { ...page, order: 'asc', after: ids[0] });
    expect(after.data.map((s) => s.id).slice(0, 2)).toEqual([ids[1], ids[2]]);
    const before = await f.manager.list(a, { ...page, order: 'asc', before: ids[2], limit: 1 });
    expect(before.data.map((s) => s.id)).toEqual([ids[1]]);
    expect(before.has_more).toBe(true);
    expect((await errorOf(f.manager.list(a, { ...page, after: 'vs_unknown' }))).param).toBe('after');

    const renamed = await f.manager.update(a, ids[0]!, { name: 'uno', metadata: { x: 'y' } });
    expect(renamed).toMatchObject({ name: 'uno', metadata: { x: 'y' } });
    expect(await f.manager.delete(a, ids[0]!)).toEqual({ id: ids[0], object: 'vector_store.deleted', deleted: true });
    expect((await errorOf(f.manager.get(a, ids[0]!))).status).toBe(404);
  });

  it("keeps projects apart: another project's store is a 404 everywhere", async () => {
    const mine = await f.manager.create(a, { name: 'mine' });
    for (const p of [f.manager.get(b, mine.id), f.manager.update(b, mine.id, { name: 'x' }), f.manager.delete(b, mine.id), f.manager.attach(b, mine.id, { file_id: 'file-secret' }), search(mine.id, { query: 'cats' }, b)]) {
      expect((await errorOf(p)).status).toBe(404);
    }
    expect((await f.manager.list(b, page)).data.map((s) => s.id)).not.toContain(mine.id);
    // A file of another project cannot be attached either.
    expect((await errorOf(f.manager.attach(a, mine.id, { file_id: 'file-secret' }))).param).toBe('file_id');
  });

  it('refuses an unknown embedding model at create', async () => {
    const err = await errorOf(f.manager.create(a, { embedding_model: 'nope' }));
    expect(err).toMatchObject({ status: 400, param: 'embedding_model' });
  });

  it('expires after its days of inactivity: status expired, search refused, retrieve still works', async () => {
    const store = await f.manager.create(a, { name: 'short', expires_after: { days: 1 } });
    expect(store).toMatchObject({ expires_after: { anchor: 'last_active_at', days: 1 }, expires_at: f.clock.now + 86_400 });
    f.clock.now += 3600;
    await search(store.id, { query: 'anything' });
    expect((await f.manager.get(a, store.id)).last_active_at).toBe(f.clock.now);
    f.clock.now += 86_400;
    expect((await f.manager.get(a, store.id)).status).toBe('expired');
    const err = await errorOf(search(store.id, { query: 'anything' }));
    expect(err).toMatchObject({ status: 400, code: 'vector_store_expired', param: 'vector_store_id' });
    expect((await errorOf(f.manager.attach(a, store.id, { file_id: 'file-cats' }))).code).toBe('vector_store_expired');
    // A new policy counts from now.
    expect((await f.manager.update(a, store.id, { expires_after: { days: 2 } })).status).toBe('completed');
  });
});

describe('files of a store, search', () => {
  let storeId: string;
  beforeAll(async () => {
    storeId = (await f.manager.create(a, { name: 'docs' })).id;
    await f.manager.attach(a, storeId, { file_id: 'file-cats', attributes: { topic: 'animals', year: 2020, public: true } });
    await f.manager.attach(a, storeId, { file_id: 'file-rockets', attributes: { topic: 'space', year: 2024, public: false } });
    await f.manager.attach(a, storeId, { file_id: 'file-bread', attributes: { topic: 'food', year: 2022, public: true } });
  });

  it('attaches in_progress, queues a job each, completes in the worker with usage and counts', async () => {
    expect((await f.manager.get(a, storeId))).toMatchObject({ status: 'in_progress', file_counts: { in_progress: 3, total: 3 } });
    const file = await f.manager.getFile(a, storeId, 'file-cats');
    expect(file).toMatchObject({ id: 'file-cats', object: 'vector_store.file', status: 'in_progress', last_error: null, vector_store_id: storeId, chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } }, attributes: { topic: 'animals' } });
    expect(f.published.map((j) => j.file_id)).toEqual(['file-cats', 'file-rockets', 'file-bread']);
    expect(f.published[0]).toMatchObject({ vector_store_id: storeId, project_id: 'proj_a', principal: { projectId: 'proj_a' } });
    await f.drain();
    const done = await f.manager.get(a, storeId);
    expect(done).toMatchObject({ status: 'completed', file_counts: { in_progress: 0, completed: 3, failed: 0, cancelled: 0, total: 3 }, embedding_dimension: 64 });
    expect(done.usage_bytes).toBeGreaterThan(100);
    const cats = await f.manager.getFile(a, storeId, 'file-cats');
    expect(cats.status).toBe('completed');
    expect(cats.usage_bytes).toBe(Buffer.byteLength('Cats are small furry pets that purr and chase mice around the house.'));
    const listed = await f.manager.listFiles(a, storeId, { ...page, filter: 'completed' });
    expect(listed.data.map((x) => x.id)).toEqual(['file-bread', 'file-rockets', 'file-cats']);
    expect((await f.manager.listFiles(a, storeId, { ...page, filter: 'failed' })).data).toEqual([]);
  });

  it('finds the relevant file first, groups by file, with scores in 0..1', async () => {
    const res = await search(storeId, { query: 'rockets engines orbit' });
    expect(res).toMatchObject({ object: 'vector_store.search_results.page', search_query: ['rockets engines orbit'], has_more: false, next_page: null });
    expect(res.data[0]).toMatchObject({ file_id: 'file-rockets', filename: 'rockets.md', attributes: { topic: 'space' }, content: [{ type: 'text', text: expect.stringContaining('Rockets') }] });
    for (const item of res.data) expect(item.score).toBeGreaterThanOrEqual(0), expect(item.score).toBeLessThanOrEqual(1);
    expect(new Set(res.data.map((d) => d.file_id)).size).toBe(res.data.length);
    expect((await search(storeId, { query: 'flour yeast oven', search_mode: 'keyword' })).data.map((d) => d.file_id)).toEqual(['file-bread']);
    expect((await search(storeId, { query: 'cats purr', search_mode: 'hybrid' })).data[0]!.file_id).toBe('file-cats');
    expect((await search(storeId, { query: ['cats purr', 'bread oven'], max_num_results: 2 })).data.map((d) => d.file_id).sort()).toEqual(['file-bread', 'file-cats']);
    expect((await search(storeId, { query: 'rockets', max_num_results: 1 })).data).toHaveLength(1);
    expect((await search(storeId, { query: 'cats purr', ranking_options: { score_threshold: 0.99 } })).data).toEqual([]);
  });

  it('applies filters, and sees updated attributes at once without re-embedding', async () => {
    const ids = async (filters: unknown) => (await search(storeId, { query: 'anything at all', filters })).data.map((d) => d.file_id).sort();
    expect(await ids({ type: 'eq', key: 'topic', value: 'space' })).toEqual(['file-rockets']);
    expect(await ids({ type: 'gte', key: 'year', value: 2022 })).toEqual(['file-bread', 'file-rockets']);
    expect(await ids({ type: 'and', filters: [{ type: 'eq', key: 'public', value: true }, { type: 'or', filters: [{ type: 'lt', key: 'year', value: 2021 }, { type: 'in', key: 'topic', value: ['space'] }] }] })).toEqual(['file-cats']);
    const embedded = f.embedCalls.length;
    const updated = await f.manager.updateFile(a, storeId, 'file-cats', { topic: 'space', year: 1999 });
    expect(updated.attributes).toEqual({ topic: 'space', year: 1999 });
    expect(await ids({ type: 'eq', key: 'topic', value: 'space' })).toEqual(['file-cats', 'file-rockets']);
    expect(f.embedCalls.length - embedded).toBe(1); // the query alone: no chunk was embedded again
  });

  it('serves the parsed content by chunk', async () => {
    const content = await f.manager.fileContent(a, storeId, 'file-bread');
    expect(content).toEqual({ object: 'vector_store.file_content.page', data: [{ type: 'text', text: 'Bread is baked from flour, water, yeast and salt in a hot oven.' }], has_more: false, next_page: null });
  });

  it('removes a deleted file from search at once; the store keeps the others', async () => {
    expect(await f.manager.deleteFile(a, storeId, 'file-bread')).toEqual({ id: 'file-bread', object: 'vector_store.file.deleted', deleted: true });
    expect((await search(storeId, { query: 'flour yeast oven', search_mode: 'keyword' })).data).toEqual([]);
    expect((await errorOf(f.manager.getFile(a, storeId, 'file-bread'))).status).toBe(404);
    expect((await f.manager.get(a, storeId)).file_counts.total).toBe(2);
  });

  it('fails an unsupported file at once with that code', async () => {
    await f.manager.attach(a, storeId, { file_id: 'file-image' });
    await f.drain();
    expect(await f.manager.getFile(a, storeId, 'file-image')).toMatchObject({ status: 'failed', last_error: { code: 'unsupported_file' } });
    expect((await f.manager.get(a, storeId)).file_counts).toMatchObject({ failed: 1, completed: 2, total: 3 });
  });

  it('deleting the store removes its chunks', async () => {
    await f.manager.delete(a, storeId);
    expect(f.index.all().filter((c) => c.vectorStoreId === storeId)).toEqual([]);
  });
});

describe('file batches', () => {
  it('attaches files with per-file attributes, counts them, cancels the rest', async () => {
    const store = await f.manager.create(a, {});
    const batch = await f.manager.createBatch(a, store.id, { files: [{ file_id: 'file-cats', attributes: { n: 1 } }, { file_id: 'file-bread' }] });
    expect(batch).toMatchObject({ id: expect.stringMatching(/^vsfb_/), object: 'vector_store.files_batch', vector_store_id: store.id, status: 'in_progress', file_counts: { in_progress: 2, total: 2 } });
    // One job finishes, then the batch is cancelled: the other file is cancelled and its job stops.
    await f.processor.run(f.published.shift()!, f.jobCtx());
    const cancelled = await f.manager.cancelBatch(a, store.id, batch.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', file_counts: { completed: 1, cancelled: 1, in_progress: 0, total: 2 } });
    await f.drain();
    expect(await f.manager.getFile(a, store.id, 'file-bread')).toMatchObject({ status: 'cancelled' });
    expect(f.index.all().filter((c) => c.vectorStoreId === store.id).map((c) => c.fileId)).toEqual(['file-cats']);
    expect((await f.manager.listBatchFiles(a, store.id, batch.id, { ...page, filter: 'cancelled' })).data.map((x) => x.id)).toEqual(['file-bread']);
    expect((await errorOf(f.manager.getBatch(b, store.id, batch.id))).status).toBe(404);
  });

  it('validates batch and attribute bodies', () => {
    expect(createBatchSchema.safeParse({ file_ids: ['a'], files: [{ file_id: 'b' }] }).success).toBe(false);
    expect(createBatchSchema.safeParse({}).success).toBe(false);
    expect(createBatchSchema.safeParse({ file_ids: Array.from({ length: 2001 }, (_, i) => `f${i}`) }).success).toBe(false);
    expect(attributesSchema.safeParse(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i]))).success).toBe(false);
    expect(attributesSchema.safeParse({ s: 'x'.repeat(513) }).success).toBe(false);
    expect(attributesSchema.safeParse({ s: 'x'.repeat(512), n: 1.5, b: false }).success).toBe(true);
    expect(attributesSchema.safeParse({ o: { nested: 1 } }).success).toBe(false);
    expect(searchSchema.safeParse({ query: 'x', max_num_results: 51 }).success).toBe(false);
    expect(searchSchema.safeParse({ query: 'x', search_mode: 'semantic' }).success).toBe(false);
  });
});

describe('without an embedding model', () => {
  it('ingests for keyword search; vector and hybrid search answer 400 naming the setting', async () => {
    const g = await createFixture({ embeddingModel: undefined });
    try {
      g.fakeFiles.add('proj_a', 'file-x', 'x.txt', 'keyword only store about zebras');
      const store = await g.manager.create(a, { file_ids: ['file-x'] });
      expect(store.embedding_model).toBeNull();
      await g.drain();
      expect((await g.manager.getFile(a, store.id, 'file-x')).status).toBe('completed');
      const hits = await g.search.search(a, store.id, searchSchema.parse({ query: 'zebras', search_mode: 'keyword' }));
      expect(hits.data.map((d) => d.file_id)).toEqual(['file-x']);
      for (const mode of ['vector', 'hybrid']) {
        const err = await errorOf(g.search.search(a, store.id, searchSchema.parse({ query: 'zebras', search_mode: mode })));
        expect(err.status).toBe(400);
        expect(err.message).toContain('EMBEDDING_MODEL');
      }
    } finally {
      await g.close();
    }
  });
});
