import LlamaStackClient from 'llama-stack-client';
import OpenAI, { APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { TEST_KEY, TEST_KEY_B, authFetch } from '../support/auth.js';
import { openai, platforms } from '../support/context.js';
import { errorOf } from '../support/errors.js';

// The Vector Stores API through the official SDKs, in every mode: what needs no uploaded file
// (stores, errors, search validation, Llama Stack's vector-io). Files: vector-stores-files.test.ts.

const UNKNOWN = `vs_${'0'.repeat(48)}`;

describe.each(platforms)('vector stores ($mode)', (p) => {
  const client = openai(p);
  const clientB = openai(p, { apiKey: TEST_KEY_B });

  it('creates, retrieves, lists (cursors both ways), modifies and deletes a store', async () => {
    const created = await client.vectorStores.create({ name: 'kb', metadata: { team: 'a' }, expires_after: { anchor: 'last_active_at', days: 7 } });
    expect(created).toMatchObject({
      id: expect.stringMatching(/^vs_[0-9a-f]{48}$/),
      object: 'vector_store',
      name: 'kb',
      usage_bytes: 0,
      status: 'completed',
      file_counts: { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 },
      expires_after: { anchor: 'last_active_at', days: 7 },
      metadata: { team: 'a' },
    });
    expect(created.expires_at).toBe(created.last_active_at! + 7 * 86_400);
    expect(await client.vectorStores.retrieve(created.id)).toEqual(created);
    const second = await client.vectorStores.create({ name: 'kb2' });
    const firstPage = await client.vectorStores.list({ limit: 1 });
    expect(firstPage.data.map((s) => s.id)).toEqual([second.id]);
    expect(firstPage.has_more).toBe(true);
    const next = await client.vectorStores.list({ limit: 1, after: second.id });
    expect(next.data.map((s) => s.id)).toEqual([created.id]);
    const back = await client.vectorStores.list({ limit: 1, before: created.id });
    expect(back.data.map((s) => s.id)).toEqual([second.id]);
    const updated = await client.vectorStores.update(created.id, { name: 'renamed', metadata: { team: 'b' }, expires_after: null });
    expect(updated).toMatchObject({ name: 'renamed', metadata: { team: 'b' }, expires_after: null, expires_at: null });
    expect(await client.vectorStores.delete(created.id)).toEqual({ id: created.id, object: 'vector_store.deleted', deleted: true });
    expect((await errorOf(client.vectorStores.retrieve(created.id))).status).toBe(404);
  });

  it('answers the OpenAI errors: 404 unknown, 400 malformed id and bad bodies, each naming its param', async () => {
    const notFound = await errorOf<APIError>(client.vectorStores.retrieve(UNKNOWN));
    expect(notFound).toBeInstanceOf(OpenAI.NotFoundError);
    expect(notFound.param).toBe('vector_store_id');
    expect((await errorOf<APIError>(client.vectorStores.retrieve('nope'))).status).toBe(400);
    const bad = await errorOf<APIError>(client.vectorStores.create({ expires_after: { anchor: 'last_active_at', days: 0 } }));
    expect(bad.status).toBe(400);
    expect(bad.param).toContain('expires_after');
    const chunking = await errorOf<APIError>(client.vectorStores.create({ chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 200, chunk_overlap_tokens: 150 } } }));
    expect(chunking.status).toBe(400);
    const unknownModel = await errorOf<APIError>(client.vectorStores.create({ embedding_model: 'no-such-model' } as OpenAI.VectorStoreCreateParams));
    expect(unknownModel.param).toBe('embedding_model');
    const store = await client.vectorStores.create({});
    expect((await errorOf<APIError>(client.vectorStores.files.create(store.id, { file_id: 'file-doesnotexist' }))).status).toBe(404);
    expect((await errorOf<APIError>(client.vectorStores.files.retrieve('file-x', { vector_store_id: store.id }))).status).toBe(404);
    expect((await errorOf<APIError>(client.vectorStores.fileBatches.retrieve(`vsfb_${'0'.repeat(48)}`, { vector_store_id: store.id }))).status).toBe(404);
    const tooMany = await errorOf<APIError>(client.vectorStores.search(store.id, { query: 'x', max_num_results: 51 }));
    expect(tooMany).toMatchObject({ status: 400, param: 'max_num_results' });
    const badFilter = await errorOf<APIError>(client.vectorStores.search(store.id, { query: 'x', search_mode: 'fuzzy' } as OpenAI.VectorStores.VectorStoreSearchParams));
    expect(badFilter).toMatchObject({ status: 400, param: 'search_mode' });
    const attrs = await errorOf<APIError>(client.vectorStores.files.create(store.id, { file_id: 'file-x', attributes: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, i])) }));
    expect(attrs).toMatchObject({ status: 400, param: 'attributes' });
  });

  it('searches an empty store: an empty page in every mode', async () => {
    const store = await client.vectorStores.create({});
    for (const mode of ['vector', 'keyword', 'hybrid']) {
      const res = await authFetch(`${p.baseURL}/vector_stores/${store.id}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: ['a', 'b'], search_mode: mode }) });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ object: 'vector_store.search_results.page', search_query: ['a', 'b'], data: [], has_more: false, next_page: null });
    }
  });

  it("keeps each project to its own stores: another key's store is a 404", async () => {
    const mine = await client.vectorStores.create({ name: 'private' });
    expect((await errorOf<APIError>(clientB.vectorStores.retrieve(mine.id))).status).toBe(404);
    expect((await errorOf<APIError>(clientB.vectorStores.search(mine.id, { query: 'x' }))).status).toBe(404);
    expect((await errorOf<APIError>(clientB.vectorStores.delete(mine.id))).status).toBe(404);
    const listedByB = [];
    for await (const s of clientB.vectorStores.list({ limit: 100 })) listedByB.push(s.id);
    expect(listedByB).not.toContain(mine.id);
    expect((await client.vectorStores.retrieve(mine.id)).name).toBe('private');
  });

  describe('Llama Stack vector-io', () => {
    const llama = new LlamaStackClient({ baseURL: p.origin, apiKey: TEST_KEY, maxRetries: 0 });
    const llamaB = new LlamaStackClient({ baseURL: p.origin, apiKey: TEST_KEY_B, maxRetries: 0 });

    it('inserts chunks (embedded by us or carrying their own) and queries them by vector, keyword and filter', async () => {
      const store = await llama.vectorStores.create({ name: 'io', embedding_model: 'mock-embed-words' } as Parameters<typeof llama.vectorStores.create>[0]);
      expect(store).toMatchObject({ object: 'vector_store', name: 'io' });
      const chunk = (chunk_id: string, content: string, metadata: Record<string, unknown>) => ({ chunk_id, content, metadata, chunk_metadata: { document_id: metadata.doc as string } });
      await llama.vectorIo.insert({
        vector_store_id: store.id,
        chunks: [
          chunk('c1', 'The moon orbits the earth every month', { doc: 'astro', lang: 'en' }),
          chunk('c2', 'Carrot soup needs carrots, onions and stock', { doc: 'food', lang: 'en' }),
          chunk('c3', 'La lune tourne autour de la terre', { doc: 'astro-fr', lang: 'fr' }),
        ] as never,
      });
      const res = await llama.vectorIo.query({ vector_store_id: store.id, query: 'moon orbits earth' });
      expect(res.chunks[0]).toMatchObject({ chunk_id: 'c1', content: 'The moon orbits the earth every month', metadata: { lang: 'en' } });
      expect(res.scores).toHaveLength(res.chunks.length);
      expect(res.scores[0]).toBeGreaterThan(res.scores.at(-1)!);
      const keyword = await llama.vectorIo.query({ vector_store_id: store.id, query: 'carrots', params: { mode: 'keyword' } });
      expect(keyword.chunks.map((c) => c.chunk_id)).toEqual(['c2']);
      const filtered = await llama.vectorIo.query({ vector_store_id: store.id, query: 'moon', params: { filters: { type: 'eq', key: 'lang', value: 'fr' } } });
      expect(filtered.chunks.map((c) => c.chunk_id)).toEqual(['c3']);
      // The same chunks through the OpenAI search of the store.
      const search = await client.vectorStores.search(store.id, { query: 'carrot soup', max_num_results: 1 });
      expect(search.data.map((d) => d.content[0]!.text)).toEqual(['Carrot soup needs carrots, onions and stock']);
      // And through llama-stack-client's own search, in its keyword mode.
      const keywordSearch = await llama.vectorStores.search(store.id, { query: 'onions stock', search_mode: 'keyword' });
      expect(keywordSearch.data.map((d) => d.file_id)).toEqual(['food']);
      expect(keywordSearch.search_query).toEqual(['onions stock']);
      const listed = [];
      for await (const s of llama.vectorStores.list()) listed.push(s.id);
      expect(listed).toContain(store.id);
      expect((await errorOf(llamaB.vectorIo.query({ vector_store_id: store.id, query: 'moon' }))).status).toBe(404);
      const image = await errorOf(llama.vectorIo.insert({ vector_store_id: store.id, chunks: [{ chunk_id: 'i', content: { type: 'image', image: { url: { uri: 'https://x/y.png' } } }, chunk_metadata: {} }] as never }));
      expect(image.status).toBe(400);
    });
  });
});
