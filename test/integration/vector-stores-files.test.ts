import OpenAI, { APIError, toFile } from 'openai';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_KEY_B } from '../support/auth.js';
import { openai, platforms } from '../support/context.js';
import { errorOf } from '../support/errors.js';
import { waitFor } from '../support/wait.js';

// Files in vector stores through the official SDK, in every mode: upload (Files API), attach,
// ingestion by the worker, search. Stores use `mock-embed-words` (the mock's bag-of-words
// embeddings) so relevance can be asserted.

const POLL = { pollIntervalMs: 100 };
const DOCS = {
  cats: 'Cats are small furry pets. A cat purrs, sleeps all day and chases mice around the house.',
  rockets: 'Rockets burn liquid fuel. Engines and boosters lift payloads into orbit around the earth.',
  bread: 'Bread is baked from flour, water, yeast and salt in a hot oven until the crust is golden.',
};

describe.each(platforms)('vector store files ($mode)', (p) => {
  describe('with the Files API', () => {
    const client = openai(p);
    const clientB = openai(p, { apiKey: TEST_KEY_B });
    const upload = async (name: string, text: string | Buffer) => client.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'assistants' });
    const newStore = () => client.vectorStores.create({ name: 'kb', embedding_model: 'mock-embed-words' } as OpenAI.VectorStoreCreateParams);
    let storeId: string;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      storeId = (await newStore()).id;
      const years = { cats: 2020, rockets: 2024, bread: 2022 };
      for (const [name, text] of Object.entries(DOCS)) {
        const file = await client.vectorStores.files.uploadAndPoll(storeId, await toFile(Buffer.from(text), `${name}.txt`), POLL);
        ids[name] = file.id;
        await client.vectorStores.files.update(file.id, { vector_store_id: storeId, attributes: { topic: name, year: years[name as keyof typeof years], public: name !== 'rockets' } });
      }
    });

    it('ingests uploaded files to completed, with counts, usage, content and listing', async () => {
      const store = await client.vectorStores.retrieve(storeId);
      expect(store).toMatchObject({ status: 'completed', file_counts: { completed: 3, in_progress: 0, failed: 0, cancelled: 0, total: 3 } });
      expect(store.usage_bytes).toBeGreaterThan(200);
      const cats = await client.vectorStores.files.retrieve(ids.cats!, { vector_store_id: storeId });
      expect(cats).toMatchObject({ id: ids.cats, object: 'vector_store.file', status: 'completed', last_error: null, vector_store_id: storeId, usage_bytes: Buffer.byteLength(DOCS.cats), attributes: { topic: 'cats' } });
      const content = [];
      for await (const part of client.vectorStores.files.content(ids.bread!, { vector_store_id: storeId })) content.push(part);
      expect(content).toEqual([{ type: 'text', text: DOCS.bread }]);
      const listed = await client.vectorStores.files.list(storeId, { filter: 'completed', order: 'asc' });
      expect(listed.data.map((f) => f.id)).toEqual([ids.cats, ids.rockets, ids.bread]);
    });

    it('finds the right file first in vector, keyword and hybrid modes; honours thresholds and filters', async () => {
      const top = async (query: string, extra: Record<string, unknown> = {}) => (await client.vectorStores.search(storeId, { query, ...extra } as OpenAI.VectorStores.VectorStoreSearchParams)).data;
      expect((await top('rockets engines orbit'))[0]).toMatchObject({ file_id: ids.rockets, filename: 'rockets.txt', attributes: { topic: 'rockets' } });
      expect((await top('flour yeast oven', { search_mode: 'keyword' })).map((d) => d.file_id)).toEqual([ids.bread]);
      expect((await top('cat purrs mice', { search_mode: 'hybrid' }))[0]!.file_id).toBe(ids.cats);
      expect(await top('cat purrs mice', { ranking_options: { score_threshold: 0.999 } })).toEqual([]);
      for (const hit of await top('bread')) expect(hit.score).toBeGreaterThanOrEqual(0), expect(hit.score).toBeLessThanOrEqual(1);
      const filtered = async (filters: unknown) => (await top('anything', { filters })).map((d) => d.file_id).sort();
      expect(await filtered({ type: 'eq', key: 'topic', value: 'bread' })).toEqual([ids.bread]);
      expect(await filtered({ type: 'gt', key: 'year', value: 2020 })).toEqual([ids.bread, ids.rockets].sort());
      expect(await filtered({ type: 'nin', key: 'topic', value: ['cats', 'bread'] })).toEqual([ids.rockets]);
      expect(await filtered({ type: 'or', filters: [{ type: 'eq', key: 'public', value: false }, { type: 'and', filters: [{ type: 'lte', key: 'year', value: 2020 }, { type: 'ne', key: 'topic', value: 'x' }] }] })).toEqual([ids.cats, ids.rockets].sort());
    });

    it('attaches concurrently, in batches (createAndPoll, listFiles), and fails unsupported files', async () => {
      const store = await newStore();
      const files = await Promise.all(Array.from({ length: 6 }, (_, i) => upload(`doc${i}.txt`, `document number ${i} about topic ${i}`)));
      await Promise.all(files.slice(0, 3).map((f) => client.vectorStores.files.createAndPoll(store.id, { file_id: f.id }, POLL)));
      const batch = await client.vectorStores.fileBatches.createAndPoll(store.id, { file_ids: files.slice(3).map((f) => f.id), attributes: { batch: true } }, POLL);
      expect(batch).toMatchObject({ object: 'vector_store.files_batch', status: 'completed', file_counts: { completed: 3, total: 3 } });
      const inBatch = await client.vectorStores.fileBatches.listFiles(batch.id, { vector_store_id: store.id });
      expect(inBatch.data.map((f) => f.id).sort()).toEqual(files.slice(3).map((f) => f.id).sort());
      expect(inBatch.data.every((f) => f.attributes?.batch === true)).toBe(true);
      const png = await upload('image.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]));
      const failed = await client.vectorStores.files.createAndPoll(store.id, { file_id: png.id }, POLL);
      expect(failed).toMatchObject({ status: 'failed', last_error: { code: 'unsupported_file' } });
      expect((await client.vectorStores.retrieve(store.id)).file_counts).toMatchObject({ completed: 6, failed: 1, total: 7 });
    });

    it('removes a file from search when it is detached, and from every store when the Files API deletes it', async () => {
      const s1 = await newStore();
      const s2 = await newStore();
      const file = await upload('zebra.txt', 'Zebras have black and white stripes on the savanna.');
      for (const s of [s1, s2]) await client.vectorStores.files.createAndPoll(s.id, { file_id: file.id }, POLL);
      const found = async (id: string) => (await client.vectorStores.search(id, { query: 'zebras stripes' })).data.length;
      expect(await found(s1.id)).toBe(1);
      await client.vectorStores.files.delete(file.id, { vector_store_id: s1.id });
      expect(await found(s1.id)).toBe(0);
      expect(await found(s2.id)).toBe(1);
      await client.files.delete(file.id);
      await waitFor(() => client.vectorStores.files.retrieve(file.id, { vector_store_id: s2.id }).then(() => 200, (e: APIError) => e.status), (s) => s === 404);
      expect(await found(s2.id)).toBe(0);
    });

    it('leaves nothing behind when a file or store is deleted while it ingests', async () => {
      const big = await upload('big.txt', Array.from({ length: 20_000 }, (_, i) => `token${i % 500}`).join(' '));
      const store = await newStore();
      await client.vectorStores.files.create(store.id, { file_id: big.id });
      await client.vectorStores.files.delete(big.id, { vector_store_id: store.id });
      // Let the job run to its end (it finds its row gone), then nothing of it is searchable.
      await new Promise((r) => setTimeout(r, 1500));
      expect((await client.vectorStores.search(store.id, { query: 'token42', search_mode: 'keyword' } as OpenAI.VectorStores.VectorStoreSearchParams)).data).toEqual([]);
      expect((await client.vectorStores.retrieve(store.id)).file_counts.total).toBe(0);
    });

    it("keeps projects apart: B can neither attach A's file nor see A's store files", async () => {
      const storeB = await clientB.vectorStores.create({});
      expect((await errorOf<APIError>(clientB.vectorStores.files.create(storeB.id, { file_id: ids.cats! }))).status).toBe(404);
      expect((await errorOf<APIError>(clientB.vectorStores.files.retrieve(ids.cats!, { vector_store_id: storeId }))).status).toBe(404);
      expect((await errorOf<APIError>(clientB.vectorStores.files.list(storeId))).status).toBe(404);
    });
  });
});
