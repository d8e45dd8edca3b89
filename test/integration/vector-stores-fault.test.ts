import OpenAI, { APIError, toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFaultPlatform, type FaultPlatform } from '../support/fault-harness.js';
import { FAULT_ENV, faultModes, mock, sleep, waitFor } from '../support/fault-support.js';
import { chunksOf, contentPage, expectResumed, indexRows, QUERY_MARK, slowCalls, slowInputs, status, STATIC, textOf, WORKER_BATCH } from './vector-stores-fault-support.js';

/**
 * kill -9 of the process running the ingest worker in the middle of a file (embedded: the one
 * process), restarted at once: the file must end `completed` exactly once, with exactly the chunks
 * an uninterrupted ingestion of the same file writes (deterministic chunk ids, no duplicates).
 * The attachment, or the whole store, deleted mid-file leaves no chunk behind. Distributed mode,
 * with the worker as its own process, is vector-stores-fault-distributed.test.ts.
 */
const modes = (await faultModes()).filter((m) => m === 'embedded');
console.warn('vector-stores-fault.test.ts: embedded only (the distributed cases are in vector-stores-fault-distributed.test.ts)');

const TEXT = Array.from({ length: 128_000 }, (_, i) => `w${i % 997}`).join(' ');

describe.each(modes)('ingest worker killed mid-file (%s)', (mode) => {
  let platform: FaultPlatform;
  let client: OpenAI;
  let filesServed = false;

  beforeAll(async () => {
    platform = await startFaultPlatform(mode, { ...FAULT_ENV, INGEST_LEASE_MS: '3000' });
    client = new OpenAI({ baseURL: platform.baseURL, apiKey: 'test-key', maxRetries: 2 });
    filesServed = await client.files.list().then(() => true, (e: APIError) => (e.status === 404 ? false : Promise.reject(e)));
    if (!filesServed) console.warn(`\n!!! vector-stores-fault.test.ts: the crash case SKIPPED (${mode}): the Files API is not served by this build.\n`);
  }, 120_000);
  // The mock's request log is read on every poll: start each case with it empty, so polls stay quick.
  beforeEach(() => mock.reset());
  afterAll(() => platform?.stop());

  it('completes the file once after a restart, with no duplicate chunks', async (t) => {
    if (!filesServed) return t.skip();
    const file = await client.files.create({ file: await toFile(Buffer.from(TEXT), 'long.txt'), purpose: 'assistants' });
    const store = await client.vectorStores.create({ embedding_model: 'mock-embed-words-slow' } as OpenAI.VectorStoreCreateParams);
    const slowCalls = async () => (await mock.requests('/v1/embeddings')).filter((r) => r.body?.model === 'mock-embed-words-slow').length;
    const before = await slowCalls();
    await client.vectorStores.files.create(store.id, { file_id: file.id, chunking_strategy: STATIC });
    // Mid-file: a few batches embedded (and written), many to go.
    await waitFor(slowCalls, (n) => n >= before + 4, 30_000, 'ingestion under way');
    // And a few batches committed, so that the restart has something to resume after.
    await waitFor(async () => indexRows(platform.dataDir, store.id) ?? 0, (n) => n >= 2 * WORKER_BATCH, 30_000, 'batches committed');
    await platform.crash();
    const callsBeforeRestart = (await slowInputs()).length;
    const committedAtCrash = indexRows(platform.dataDir, store.id);
    await platform.restart();
    const done = await waitFor(
      () => client.vectorStores.files.retrieve(file.id, { vector_store_id: store.id }),
      (f) => f.status !== 'in_progress',
      90_000,
      'the file ends after the restart',
    );
    expect(done.status).toBe('completed');
    expect((await client.vectorStores.retrieve(store.id)).file_counts).toMatchObject({ completed: 1, in_progress: 0, total: 1 });
    const crashed = await chunksOf(platform.baseURL, store.id, file.id);

    // The same file ingested without a crash: the same chunks, the same usage.
    const reference = await client.vectorStores.create({ embedding_model: 'mock-embed-words' } as OpenAI.VectorStoreCreateParams);
    const clean = await client.vectorStores.files.createAndPoll(reference.id, { file_id: file.id, chunking_strategy: STATIC }, { pollIntervalMs: 200 });
    expect(clean.status).toBe('completed');
    const cleanChunks = await chunksOf(platform.baseURL, reference.id, file.id);
    expect(crashed).toEqual(cleanChunks);
    expect(done.usage_bytes).toBe(clean.usage_bytes);
    expect(crashed.length).toBeGreaterThan(1000);
    // Resumed, not redone: after the restart only the chunks not yet committed went to the model.
    if (committedAtCrash === undefined) throw new Error('the index file has no store column: the resume point cannot be checked');
    expect(committedAtCrash).toBeGreaterThanOrEqual(2 * WORKER_BATCH);
    expect(committedAtCrash).toBeLessThan(crashed.length / 2);
    const resumedAt = expectResumed((await slowInputs()).slice(callsBeforeRestart), cleanChunks, committedAtCrash);
    console.log(`vector-stores-fault (${mode}): crashed with ${committedAtCrash} of ${crashed.length} chunks committed, resumed at chunk ${resumedAt}`);
  }, 180_000);

  for (const [what, tag] of [['the attachment', 'ed'], ['the whole store', 'es']] as const) {
    it(`${what} deleted mid-file leaves no chunk behind`, async (t) => {
      if (!filesServed) return t.skip();
      const file = await client.files.create({ file: await toFile(Buffer.from(textOf(tag)), `${tag}.txt`), purpose: 'assistants' });
      const store = await client.vectorStores.create({ embedding_model: 'mock-embed-words-slow' } as OpenAI.VectorStoreCreateParams);
      await client.vectorStores.files.create(store.id, { file_id: file.id, chunking_strategy: STATIC });
      await waitFor(() => slowCalls(tag), (n) => n >= 4, 60_000, 'ingestion under way');
      if (what === 'the attachment') await client.vectorStores.files.delete(file.id, { vector_store_id: store.id });
      else await client.vectorStores.delete(store.id);
      // The worker lets go: no ingestion call for a while.
      let calls = await slowCalls(tag);
      for (let still = 0; still < 2_500; still += 500) {
        await sleep(500);
        const now = await slowCalls(tag);
        if (now !== calls) [calls, still] = [now, -500];
      }
      expect(await status(() => client.vectorStores.files.retrieve(file.id, { vector_store_id: store.id }))).toBe(404);
      expect((await contentPage(platform.baseURL, store.id, file.id)).status).toBe(404);
      if (what === 'the attachment') {
        expect((await client.vectorStores.search(store.id, { query: `${QUERY_MARK} ${tag}1 ${tag}2 ${tag}3` })).data).toEqual([]);
        expect((await client.vectorStores.retrieve(store.id)).file_counts).toMatchObject({ in_progress: 0, total: 0 });
      } else {
        expect(await status(() => client.vectorStores.retrieve(store.id))).toBe(404);
      }
      const rows = indexRows(platform.dataDir, store.id);
      if (rows === undefined) console.warn('vector-stores-fault.test.ts: no index table under DATA_DIR names a store; orphan rows not counted');
      expect(rows ?? 0).toBe(0);
      await sleep(2_000);
      expect(await slowCalls(tag)).toBe(calls);
      expect(indexRows(platform.dataDir, store.id) ?? 0).toBe(0);
    }, 120_000);
  }
});
