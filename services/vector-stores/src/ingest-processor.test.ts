import { chunkText } from './ingest/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RequestContext } from '@rgw/shared';
import { errorOf } from '../../../test/support/errors.js';
import { createFixture } from './index-testing/fixture.js';

type Fixture = Awaited<ReturnType<typeof createFixture>>;
let f: Fixture;
const a: RequestContext = { requestId: 'req_a', principal: { projectId: 'proj_a' } };
// 1,000 words: several chunks at 100 tokens with 20 overlap, several embedding batches of 4.
const LONG = Array.from({ length: 1000 }, (_, i) => `word${i % 50}`).join(' ');
const STATIC = { type: 'static' as const, static: { max_chunk_size_tokens: 100, chunk_overlap_tokens: 20 } };

/** A promise and its resolver: holds a file's bytes until the test says so. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

beforeEach(async () => {
  f = await createFixture();
  f.fakeFiles.add('proj_a', 'file-long', 'long.txt', LONG);
});
afterEach(() => f.close());

const chunksOf = (storeId: string) => f.index.all().filter((c) => c.vectorStoreId === storeId);

describe('IngestProcessor', () => {
  it('writes deterministic chunk ids: a redelivered job rewrites the same chunks, never duplicates', async () => {
    const store = await f.manager.create(a, {});
    await f.manager.attach(a, store.id, { file_id: 'file-long', chunking_strategy: STATIC });
    const job = f.published.shift()!;
    await f.processor.run(job, f.jobCtx());
    const first = chunksOf(store.id).map((c) => c.id).sort();
    let expected = 0;
    for await (const _ of chunkText([LONG], { maxTokens: 100, overlapTokens: 20 })) expected++;
    expect(expected).toBeGreaterThan(4);
    expect(first.length).toBe(expected);
    expect(first).toContain(`${store.id}:file-long:0`);
    // Redelivery of a completed job: nothing to do. A job re-run mid-way (row forced back) rewrites the same ids.
    await f.processor.run(job, f.jobCtx(2));
    await f.database.db.updateTable('vector_store_files').set({ status: 'in_progress' }).execute();
    await f.processor.run(job, f.jobCtx(2));
    expect(chunksOf(store.id).map((c) => c.id).sort()).toEqual(first);
    expect((await f.manager.getFile(a, store.id, 'file-long')).status).toBe('completed');
  });

  it('a job that died mid-file resumes after its last committed batch, with the chunks of a clean run', async () => {
    const store = await f.manager.create(a, {});
    await f.manager.attach(a, store.id, { file_id: 'file-long', chunking_strategy: STATIC });
    const job = f.published.shift()!;
    // The first attempt dies (its signal aborts, as when the worker loses the job) as its 6th batch reaches the model.
    const dying = new AbortController();
    const embeddings = f.processor['deps'].inference.embeddings.bind(f.processor['deps'].inference);
    let calls = 0;
    f.processor['deps'].inference.embeddings = (async (body: never, opts: never) => {
      if (++calls === 6) dying.abort(new Error('worker died'));
      return embeddings(body, opts);
    }) as typeof embeddings;
    await errorOf(f.processor.run(job, { ...f.jobCtx(1), signal: dying.signal }));
    const committed = chunksOf(store.id).map((c) => c.chunkIndex).sort((x, y) => x - y);
    const row = await f.files.getAttachment(store.id, 'file-long', job.attach_id);
    expect(row?.status).toBe('in_progress');
    // The checkpoint is a prefix of what the index holds, never ahead of it.
    expect(row!.ingested_chunks).toBeGreaterThan(0);
    expect(committed.slice(0, row!.ingested_chunks)).toEqual([...Array(row!.ingested_chunks).keys()]);

    f.embedCalls.length = 0;
    await f.processor.run(job, f.jobCtx(2));
    // Only the chunks after the checkpoint went to the model again, each once.
    const expected: string[] = [];
    for await (const c of chunkText([LONG], { maxTokens: 100, overlapTokens: 20 })) expected.push(c.text);
    expect(f.embedCalls.flat()).toEqual(expected.slice(row!.ingested_chunks));
    const got = chunksOf(store.id).sort((x, y) => x.chunkIndex - y.chunkIndex);
    expect(got.map((c) => c.text)).toEqual(expected);
    expect((await f.manager.getFile(a, store.id, 'file-long')).status).toBe('completed');
    // A re-attach starts over: its checkpoint is 0 again.
    await f.manager.attach(a, store.id, { file_id: 'file-long', chunking_strategy: STATIC });
    const again = f.published.shift()!;
    expect((await f.files.getAttachment(store.id, 'file-long', again.attach_id))?.ingested_chunks).toBe(0);
  });

  it('retries a failing file, then ends it failed (server_error) on the last attempt and throws for the dead letters', async () => {
    f.fakeFiles.add('proj_a', 'file-poison', 'poison.txt', 'x', new Error('storage exploded'));
    const store = await f.manager.create(a, {});
    await f.manager.attach(a, store.id, { file_id: 'file-poison' });
    const job = f.published.shift()!;
    expect((await errorOf(f.processor.run(job, f.jobCtx(1)))).message).toBe('storage exploded');
    expect((await f.manager.getFile(a, store.id, 'file-poison')).status).toBe('in_progress');
    await errorOf(f.processor.run(job, f.jobCtx(3)));
    expect(await f.manager.getFile(a, store.id, 'file-poison')).toMatchObject({ status: 'failed', last_error: { code: 'server_error', message: expect.stringContaining('storage exploded') } });
  });

  it('fails a file the Files API no longer has as invalid_file, without retrying', async () => {
    f.fakeFiles.add('proj_a', 'file-gone', 'gone.txt', 'soon gone');
    const store = await f.manager.create(a, {});
    await f.manager.attach(a, store.id, { file_id: 'file-gone' });
    f.fakeFiles.files.delete('proj_a/file-gone');
    await f.drain();
    expect(await f.manager.getFile(a, store.id, 'file-gone')).toMatchObject({ status: 'failed', last_error: { code: 'invalid_file' } });
  });

  for (const what of ['file', 'store'] as const) {
    it(`leaves no orphan chunks when the ${what} is deleted during ingestion`, async () => {
      const store = await f.manager.create(a, {});
      await f.manager.attach(a, store.id, { file_id: 'file-long', chunking_strategy: STATIC });
      const hold = gate();
      f.fakeFiles.gate = hold.promise;
      const running = f.processor.run(f.published.shift()!, f.jobCtx());
      await new Promise((r) => setTimeout(r, 20));
      if (what === 'file') await f.manager.deleteFile(a, store.id, 'file-long');
      else await f.manager.delete(a, store.id);
      hold.open();
      await running;
      expect(chunksOf(store.id)).toEqual([]);
    });
  }

  it('stops a running job whose batch was cancelled, and removes what it wrote', async () => {
    const store = await f.manager.create(a, {});
    const batch = await f.manager.createBatch(a, store.id, { file_ids: ['file-long'], chunking_strategy: STATIC });
    const hold = gate();
    f.fakeFiles.gate = hold.promise;
    const running = f.processor.run(f.published.shift()!, f.jobCtx());
    await new Promise((r) => setTimeout(r, 20));
    await f.manager.cancelBatch(a, store.id, batch.id);
    const embedded = f.embedCalls.length;
    hold.open();
    await running;
    // The batches already in flight (the embedder runs up to 4 calls at once), then the check stopped it.
    const total = Math.ceil(25 / 4);
    expect(f.embedCalls.length - embedded).toBeLessThanOrEqual(4);
    expect(f.embedCalls.length - embedded).toBeLessThan(total);
    expect(chunksOf(store.id)).toEqual([]);
    expect((await f.manager.getFile(a, store.id, 'file-long')).status).toBe('cancelled');
  });

  it('a re-attach supersedes the earlier job, which leaves the new attachment alone', async () => {
    const store = await f.manager.create(a, {});
    await f.manager.attach(a, store.id, { file_id: 'file-long', chunking_strategy: STATIC });
    const stale = f.published.shift()!;
    await f.manager.attach(a, store.id, { file_id: 'file-long', attributes: { v: 2 } });
    await f.processor.run(stale, f.jobCtx());
    expect(chunksOf(store.id)).toEqual([]);
    await f.drain();
    const file = await f.manager.getFile(a, store.id, 'file-long');
    expect(file).toMatchObject({ status: 'completed', attributes: { v: 2 }, chunking_strategy: { static: { max_chunk_size_tokens: 800 } } });
    expect(chunksOf(store.id).every((c) => c.attributes.v === 2)).toBe(true);
  });

  it('file.deleted removes the file from every store of its project only', async () => {
    f.fakeFiles.add('proj_b', 'file-long', 'other.txt', 'same id, other project');
    const b: RequestContext = { requestId: 'req_b', principal: { projectId: 'proj_b' } };
    const s1 = await f.manager.create(a, {});
    const s2 = await f.manager.create(a, {});
    const sb = await f.manager.create(b, {});
    for (const [ctx, s] of [[a, s1], [a, s2], [b, sb]] as const) await f.manager.attach(ctx, s.id, { file_id: 'file-long' });
    await f.drain();
    await f.processor.onFileDeleted({ file_id: 'file-long', project_id: 'proj_a', deleted_at: 0 });
    for (const s of [s1, s2]) {
      expect((await errorOf(f.manager.getFile(a, s.id, 'file-long'))).status).toBe(404);
      expect(chunksOf(s.id)).toEqual([]);
      expect((await f.manager.get(a, s.id)).file_counts.total).toBe(0);
    }
    expect((await f.manager.getFile(b, sb.id, 'file-long')).status).toBe('completed');
    expect(chunksOf(sb.id).length).toBe(1);
  });
});

describe('vector-io', () => {
  it('inserts chunks (embedding those without), queries them by vector and keyword, filters on metadata', async () => {
    const store = await f.manager.create(a, {});
    await f.vectorIo.insert(a, {
      vector_store_id: store.id,
      chunks: [
        { chunk_id: 'c1', content: 'The moon orbits the earth', metadata: { document_id: 'doc-1', lang: 'en' }, chunk_metadata: { document_id: 'doc-1' } },
        { chunk_id: 'c2', content: [{ type: 'text', text: 'Soup recipes with carrots' }], metadata: { lang: 'fr' } },
        { chunk_id: 'c3', content: 'Own vector', embedding: Array.from({ length: 64 }, (_, i) => (i === 0 ? 1 : 0)) },
      ],
    });
    const res = await f.vectorIo.query(a, { vector_store_id: store.id, query: 'moon earth orbits' });
    expect(res.chunks[0]).toMatchObject({ chunk_id: 'c1', content: 'The moon orbits the earth', metadata: { document_id: 'doc-1', lang: 'en' }, chunk_metadata: { document_id: 'doc-1' }, embedding_model: 'bow', embedding_dimension: 64 });
    expect(res.scores).toHaveLength(res.chunks.length);
    const keyword = await f.vectorIo.query(a, { vector_store_id: store.id, query: 'carrots', params: { mode: 'keyword' } });
    expect(keyword.chunks.map((c) => c.chunk_id)).toEqual(['c2']);
    const filtered = await f.vectorIo.query(a, { vector_store_id: store.id, query: { type: 'text', text: 'moon' }, params: { filters: { type: 'eq', key: 'lang', value: 'fr' } } });
    expect(filtered.chunks.map((c) => c.chunk_id)).toEqual(['c2']);
    const wrongDim = await errorOf(f.vectorIo.insert(a, { vector_store_id: store.id, chunks: [{ chunk_id: 'c4', content: 'x', embedding: [1, 2, 3] }] }));
    expect(wrongDim).toMatchObject({ status: 400, param: 'chunks[0].embedding' });
    expect((await errorOf(f.vectorIo.query({ requestId: 'r', principal: { projectId: 'proj_b' } }, { vector_store_id: store.id, query: 'moon' }))).status).toBe(404);
  });
});
